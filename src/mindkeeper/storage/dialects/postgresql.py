"""PostgreSQL specifics: extensions the schema needs."""

from __future__ import annotations

REQUIRED_EXTENSIONS = ("vector",)
