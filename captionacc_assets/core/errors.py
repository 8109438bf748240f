"""Errors a person can act on.

`InputError` marks bad input (not a bug): its message is shown in the catalog's
`*_error_details` and in the failed materialization, so it must say what is wrong
and what to do about it.
"""


class InputError(ValueError):
    """Bad input from a user: the message tells them what to fix."""


class LockHeldError(RuntimeError):
    """A person holds the editor lock on a database the job wants to write."""
