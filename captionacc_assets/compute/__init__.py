"""The three compute jobs, each a plain function: storage keys in, a typed result out.

They run in-process on the embedded default and unchanged inside Modal in production.
Each publishes nothing until all of its work has succeeded.
"""
