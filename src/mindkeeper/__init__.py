"""Mindkeeper: a self-hostable session and memory server for AI agents."""

__version__ = "0.1.0"
