"""Imports every table module so `metadata` is complete (for migrations and tests)."""

from __future__ import annotations

from mindkeeper.storage import agent_tables, auth_tables, job_tables, tables  # noqa: F401
from mindkeeper.storage.schema import metadata

__all__ = ["metadata"]
