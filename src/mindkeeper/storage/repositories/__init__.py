"""Repositories: add, get and query inside the caller's transaction; never commit."""
