"""Every listing is served by an index in its order (no sort, no scan), on both databases.

This is what keeps a ListInvocationSteps page as cheap at 100,000 steps as at 1,000 (the
benchmark, bench/bench_bedrock.py, measures it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

# White-box: the repository's prepared statements, first page and next page of each listing.
from mindkeeper.storage.repositories import agents as repo

T = datetime(2025, 3, 1, tzinfo=UTC)
ACCOUNT = {"b_account": "000000000000"}
LISTINGS = {
    "session steps": (
        repo._SESSION_STEPS,
        {**ACCOUNT, "b_session": 1},
        "account_id_session_key_step_time_id",
    ),
    "invocation steps": (
        repo._INVOCATION_STEPS,
        {**ACCOUNT, "b_invocation": 1},
        "invocation_key_step_time_id",
    ),
    "invocations": (
        repo._INVOCATIONS,
        {**ACCOUNT, "b_session": 1},
        "account_id_session_key_created_at_id",
    ),
    "sessions": (repo._SESSIONS, ACCOUNT, "account_id_created_at_id"),
}


def _explain(statement: Any, dialect: Any, values: dict[str, Any]) -> Any:
    """`EXPLAIN [QUERY PLAN]` of a prepared statement with its parameters rendered inline."""
    sql = statement.params(**values).compile(
        dialect=dialect, compile_kwargs={"literal_binds": True}
    )
    prefix = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN "
    return text(prefix + str(sql))


@pytest.mark.parametrize("listing", list(LISTINGS))
async def test_listings_read_their_index_in_order(database_url: str, listing: str) -> None:
    statements, params, index = LISTINGS[listing]
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SET enable_seqscan = off"))
                await conn.execute(text("SET enable_sort = off"))
            for statement, extra in (
                (statements[0], {}),
                (statements[1], {"b_high_water": 10**9, "b_time": T, "b_after": 10**9}),
            ):
                values = {**params, **extra, "b_limit": 11}
                rows = await conn.execute(_explain(statement, conn.dialect, values))
                plan = "\n".join(str(row[-1]) for row in rows)
                assert index in plan, plan
                assert "TEMP B-TREE" not in plan, plan  # SQLite: no sort step
                assert "Sort" not in plan and "Seq Scan" not in plan, plan  # PostgreSQL
    finally:
        await engine.dispose()
