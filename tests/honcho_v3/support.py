"""Helpers of the Honcho v3 suite: names, key orders, reply checks, raw-HTTP shortcuts and
direct row counts in the test database."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from mindkeeper.storage.schema import metadata
from mindkeeper.storage.tables import workspaces

T = TypeVar("T")

#: Upstream's rendering of timestamps: UTC with `Z`, six fraction digits or none at all.
CREATED_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$")
#: A server-made id: nanoid, 21 URL-safe characters.
PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{21}$")

#: Key order of each resource as upstream emits it (reference §1.4), then the SDK's `uid`.
WORKSPACE_KEYS = ["id", "metadata", "configuration", "created_at", "uid"]
PEER_KEYS = ["id", "workspace_id", "created_at", "metadata", "configuration", "uid"]
SESSION_KEYS = [
    "id",
    "is_active",
    "workspace_id",
    "metadata",
    "configuration",
    "created_at",
    "uid",
]
MESSAGE_KEYS = [
    "id",
    "content",
    "peer_id",
    "session_id",
    "metadata",
    "created_at",
    "workspace_id",
    "token_count",
]
PAGE_KEYS = ["items", "total", "page", "size", "pages"]


def uid(prefix: str = "t") -> str:
    """A unique name that matches v3's name pattern."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def expect(response: httpx.Response, status: int) -> Any:
    """Assert the status and return the JSON body (None for an empty one)."""
    assert response.status_code == status, (response.status_code, response.text)
    return response.json() if response.content else None


def detail(response: httpx.Response, status: int) -> Any:
    """Assert the status and return `detail`."""
    body = expect(response, status)
    assert list(body) == ["detail"], body
    return body["detail"]


def ws_url(workspace: str, *parts: str) -> str:
    """A path under /v3/workspaces/{workspace}."""
    return "/".join([f"/v3/workspaces/{workspace}", *parts])


def new_workspace(http: httpx.Client) -> str:
    """Create a workspace with a unique name and return the name."""
    name = uid("ws")
    expect(http.post("/v3/workspaces", json={"id": name}), 201)
    return name


def post_messages(
    http: httpx.Client, workspace: str, session: str, *messages: tuple[str, str]
) -> list[dict[str, Any]]:
    """Post (peer, content) messages in one batch and return the created messages."""
    body = {"messages": [{"peer_id": p, "content": c} for p, c in messages]}
    result: list[dict[str, Any]] = expect(
        http.post(ws_url(workspace, "sessions", session, "messages"), json=body), 201
    )
    return result


def wait_for(condition: Callable[[], bool], what: str, deadline: float = 60.0) -> None:
    """Poll until `condition()` holds (background work), failing after `deadline` seconds."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on an event loop of its own (a thread), like a second process."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def rows_of_workspace(database_url: str, name: str, uid: str | None = None) -> dict[str, int]:
    """Count, per table, the rows that carry the workspace's id (directly in the DB): the id
    `uid` when given, else the named workspace's (empty when there is none)."""
    return _run(_rows_of_workspace(database_url, name, uid))


def execute(database_url: str, sql: str, **params: Any) -> list[Any]:
    """Run one SQL statement in its own transaction and return the rows (if any)."""
    return _run(_execute(database_url, sql, **params))


async def _rows_of_workspace(database_url: str, name: str, uid: str | None) -> dict[str, int]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            public_id = (
                uid
                or (
                    await conn.execute(
                        select(workspaces.c.public_id).where(workspaces.c.name == name)
                    )
                ).scalar()
            )
            if public_id is None:
                return {}
            stmt = select(func.count()).where(workspaces.c.public_id == public_id)
            counts = {"workspaces": int((await conn.execute(stmt)).scalar_one())}
            for table in metadata.sorted_tables:
                if "workspace_id" in table.c:
                    stmt = select(func.count()).where(table.c.workspace_id == public_id)
                    counts[table.name] = int((await conn.execute(stmt)).scalar_one())
            return counts
    finally:
        await engine.dispose()


async def _execute(database_url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return list(result.all()) if result.returns_rows else []
    finally:
        await engine.dispose()
