"""Migrations of the agent-session tables: revision 0002 creates them, and the revision that
gives the sessions' children their tenant key copies each session's account to them.

Both match the table models and downgrade cleanly. The upgrade runs over rows written at the
revision before it (two accounts, sessions with invocations, steps and tags): every child row
gets its own session's account, and the services then read and extend those rows as any
others.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from mindkeeper.bootstrap import build_runtime
from mindkeeper.core.agents import ListRequest, NewStep, StepTime
from mindkeeper.core.services import agent_sessions, agent_steps
from mindkeeper.errors import NotFound
from mindkeeper.storage import migrate
from mindkeeper.storage.types import UTCDateTime
from tests.bedrock.support import T0, ManualClock
from tests.conftest import make_settings

AGENT_TABLES = {"agent_sessions", "invocations", "invocation_steps", "agent_session_tags"}
CHILDREN = ("invocations", "invocation_steps", "agent_session_tags")
#: The revision that adds `account_id` to the children, and the one it follows.
TENANT_KEYS = "0008"
_SCRIPT = ScriptDirectory.from_config(migrate.alembic_config()).get_revision(TENANT_KEYS)
assert _SCRIPT is not None
BEFORE_TENANT_KEYS = str(_SCRIPT.down_revision)
ALICE, BOB = "111111111111", "222222222222"


async def _on_connection(url: str, fn: Any) -> Any:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


def _table_names(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _downgrade_to(revision: str) -> Any:
    def run(conn: Connection) -> None:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)

    return run


async def test_head_matches_models(database_url: str) -> None:
    assert await migrate.current_revision(database_url) == migrate.head_revision()
    assert await migrate.schema_diff(database_url) == []
    assert await _on_connection(database_url, _table_names) >= AGENT_TABLES


async def test_downgrade_to_0001_and_back(database_url: str) -> None:
    await _on_connection(database_url, _downgrade_to("0001"))
    assert await migrate.current_revision(database_url) == "0001"
    assert not AGENT_TABLES & await _on_connection(database_url, _table_names)
    await migrate.upgrade(database_url)
    assert await migrate.schema_diff(database_url) == []
    assert await _on_connection(database_url, _table_names) >= AGENT_TABLES


# The tables as the revision before the tenant keys had them.
_UTC = UTCDateTime()
OLD = {
    "agent_sessions": sa.table(
        "agent_sessions",
        *(sa.column(c) for c in ("id", "public_id", "account_id", "status", "metadata")),
        *(sa.column(c, _UTC) for c in ("created_at", "last_updated_at")),
    ),
    "invocations": sa.table(
        "invocations",
        *(sa.column(c) for c in ("id", "session_key", "public_id", "description")),
        sa.column("created_at", _UTC),
    ),
    "invocation_steps": sa.table(
        "invocation_steps",
        *(sa.column(c) for c in ("id", "session_key", "invocation_key", "public_id")),
        *(sa.column(c) for c in ("step_time_digits", "payload")),
        *(sa.column(c, _UTC) for c in ("step_time", "created_at")),
    ),
    "agent_session_tags": sa.table(
        "agent_session_tags", *(sa.column(c) for c in ("session_key", "key", "value"))
    ),
}


def _uuid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _old_rows() -> dict[str, list[dict[str, Any]]]:
    """Three sessions (two of ALICE, one of BOB), each with two invocations, two steps per
    invocation and two tags; keys interleave the accounts."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in OLD}
    at = T0 - timedelta(minutes=30)
    for s, account in enumerate((ALICE, BOB, ALICE), start=1):
        rows["agent_sessions"].append(
            {
                "id": s,
                "public_id": _uuid(s),
                "account_id": account,
                "status": "ACTIVE",
                "metadata": b"{}",
                "created_at": at,
                "last_updated_at": at,
            }
        )
        for k in ("team", "stage"):
            rows["agent_session_tags"].append({"session_key": s, "key": k, "value": f"{k}-{s}"})
    for i in range(1, 7):
        session = (i - 1) % 3 + 1
        rows["invocations"].append(
            {
                "id": i,
                "session_key": session,
                "public_id": _uuid(100 + i),
                "description": f"invocation {i}",
                "created_at": at + timedelta(seconds=i),
            }
        )
        for j in range(2):
            n = 2 * i + j
            rows["invocation_steps"].append(
                {
                    "id": n,
                    "session_key": session,
                    "invocation_key": i,
                    "public_id": _uuid(1000 + n),
                    "step_time": at + timedelta(seconds=n),
                    "step_time_digits": 0,
                    "payload": orjson.dumps({"contentBlocks": [{"text": f"step {n}"}]}),
                    "created_at": at + timedelta(seconds=n),
                }
            )
    return rows


def _write(rows: dict[str, list[dict[str, Any]]]) -> Any:
    def run(conn: Connection) -> None:
        for name, table in OLD.items():
            conn.execute(table.insert(), rows[name])
            if conn.dialect.name == "postgresql" and name != "agent_session_tags":
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), max(id))"
                        f" FROM {name}"
                    )
                )

    return run


def _accounts(conn: Connection) -> dict[str, dict[tuple[Any, ...], str]]:
    """The account of every child row, by table and (session_key, own key)."""
    own = {"invocations": "id", "invocation_steps": "id", "agent_session_tags": '"key"'}
    out: dict[str, dict[tuple[Any, ...], str]] = {}
    for name in CHILDREN:
        rows = conn.execute(sa.text(f"SELECT session_key, {own[name]}, account_id FROM {name}"))
        out[name] = {(r[0], r[1]): r[2] for r in rows}
    return out


def _not_null(conn: Connection) -> dict[str, bool]:
    inspector = inspect(conn)
    return {
        name: next(c for c in inspector.get_columns(name) if c["name"] == "account_id")["nullable"]
        for name in CHILDREN
    }


async def test_upgrade_copies_each_session_account_to_its_children(database_url: str) -> None:
    url = database_url
    await _on_connection(url, _downgrade_to(BEFORE_TENANT_KEYS))
    assert await migrate.current_revision(url) == BEFORE_TENANT_KEYS
    old = _old_rows()
    await _on_connection(url, _write(old))

    await migrate.upgrade(url, TENANT_KEYS)
    owner = {r["id"]: r["account_id"] for r in old["agent_sessions"]}
    expected = {
        "invocations": {
            (r["session_key"], r["id"]): owner[r["session_key"]] for r in old["invocations"]
        },
        "invocation_steps": {
            (r["session_key"], r["id"]): owner[r["session_key"]] for r in old["invocation_steps"]
        },
        "agent_session_tags": {
            (r["session_key"], r["key"]): owner[r["session_key"]] for r in old["agent_session_tags"]
        },
    }
    assert await _on_connection(url, _accounts) == expected
    assert set(expected["invocation_steps"].values()) == {ALICE, BOB}
    assert await _on_connection(url, _not_null) == dict.fromkeys(CHILDREN, False)

    await migrate.upgrade(url)
    assert await migrate.schema_diff(url) == []
    await _services_read_and_extend(url)


async def _services_read_and_extend(url: str) -> None:
    """The upgraded rows through the services: found under their own account only, and new
    rows beside them carry it too."""
    settings = make_settings(url, worker_enabled=False)
    runtime = build_runtime(settings, embedder=None, clock=ManualClock())
    first, second = _uuid(1), _uuid(2)  # ALICE's and BOB's
    page = ListRequest(50)
    try:
        steps = await agent_steps.list_steps(runtime, ALICE, first, None, page)
        assert [s.id for s in steps.items] == [_uuid(1000 + n) for n in (9, 8, 3, 2)]
        mine = await agent_steps.list_steps(runtime, ALICE, first, _uuid(104), page)
        assert [s.id for s in mine.items] == [_uuid(1009), _uuid(1008)]
        invocations = await agent_steps.list_invocations(runtime, ALICE, first, page)
        assert [i.id for i in invocations.items] == [_uuid(104), _uuid(101)]
        step = await agent_steps.get_step(runtime, ALICE, first, _uuid(101), _uuid(1002))
        assert orjson.loads(step.payload) == {"contentBlocks": [{"text": "step 2"}]}
        assert await agent_sessions.list_tags(runtime, BOB, second) == {
            "stage": "stage-2",
            "team": "team-2",
        }
        for account, session in ((BOB, first), (ALICE, second)):
            with pytest.raises(NotFound):
                await agent_steps.list_steps(runtime, account, session, None, page)

        at = StepTime(T0, 0)
        new = NewStep(_uuid(101), _uuid(2000), at, b'{"contentBlocks":[{"text":"new"}]}')
        assert await agent_steps.put_step(runtime, ALICE, first, new) == _uuid(2000)
        await agent_sessions.tag(runtime, ALICE, first, {"added": "yes"})
        await agent_sessions.untag(runtime, BOB, second, ["team"])
        assert await agent_sessions.list_tags(runtime, BOB, second) == {"stage": "stage-2"}
    finally:
        await runtime.close()
    new_rows = await _on_connection(url, _new_rows)
    assert new_rows == {
        ("invocation_steps", _uuid(2000), ALICE),
        ("agent_session_tags", "added", ALICE),
    }


def _new_rows(conn: Connection) -> set[tuple[str, str, str]]:
    """The step and the tag added after the upgrade, with their accounts."""
    step = conn.execute(
        sa.text("SELECT public_id, account_id FROM invocation_steps WHERE public_id = :id"),
        {"id": _uuid(2000)},
    ).all()
    tag = conn.execute(
        sa.text("""SELECT "key", account_id FROM agent_session_tags WHERE "key" = 'added'""")
    ).all()
    return {("invocation_steps", *r) for r in step} | {("agent_session_tags", *r) for r in tag}
