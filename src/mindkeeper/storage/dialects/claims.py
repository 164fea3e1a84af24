"""Job claiming per database: row locks that skip locked rows, and per-peer write locks.

PostgreSQL runs many workers at once: a claim selects the candidate with `FOR UPDATE SKIP
LOCKED`, so two claimers never wait on (or take) the same row, and a transaction-scoped
advisory lock serialises the writers of one peer's memory. SQLite has one writer at a time
(`BEGIN IMMEDIATE` plus the in-process lock), which already makes a claim atomic; both helpers
are then no-ops.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.sql import FromClause


def lock_for_claim(dialect: str, stmt: Select[Any], table: FromClause) -> Select[Any]:
    """Lock the selected row of `table`, skipping rows other claimers hold (PostgreSQL)."""
    if dialect == "postgresql":
        return stmt.with_for_update(skip_locked=True, of=table)
    return stmt


def peer_lock(dialect: str, peer_id: str) -> Select[Any] | None:
    """A statement taking a transaction-scoped lock on one peer, or None when not needed."""
    if dialect == "postgresql":
        key = func.hashtextextended("mindkeeper.peer:" + peer_id, 0)
        return select(func.pg_advisory_xact_lock(key))
    return None
