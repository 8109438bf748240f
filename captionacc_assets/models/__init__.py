"""Shipped model weights (package data)."""
