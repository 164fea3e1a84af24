"""Helpers of the derived-memory tests: conclusions and peers set up over raw HTTP, the
o200k counter for token-cap boundaries, and direct writes through a runtime of the test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx

from mindkeeper.bootstrap import AppRuntime, build_runtime
from mindkeeper.core.services.memory import summaries
from mindkeeper.providers.tokens import O200kTokenCounter
from tests.conftest import LiveServer, make_settings
from tests.honcho_v3.support import expect, ws_url

T = TypeVar("T")

#: Key order of a conclusion: upstream's, then the fields SDK 2.7.0 reads.
CONCLUSION_KEYS = [
    "id",
    "content",
    "observer_id",
    "observed_id",
    "session_id",
    "level",
    "created_at",
    "source_ids",
    "times_derived",
]
SUMMARY_KEYS = ["content", "message_id", "summary_type", "created_at", "token_count"]

TOKENS = O200kTokenCounter()


def text_of_tokens(count: int) -> str:
    """A text of exactly `count` o200k tokens."""
    text = "hello" + " hello" * (count - 1)
    assert TOKENS.count(text) == count
    return text


def make_peers(http: httpx.Client, workspace: str, *names: str) -> None:
    """Create peers (and the workspace)."""
    for name in names:
        expect(http.post(ws_url(workspace, "peers"), json={"id": name}), 201)


def make_session(http: httpx.Client, workspace: str, name: str, *peers: str) -> None:
    """Create a session with members."""
    body = {"id": name, "peers": {p: {} for p in peers}}
    expect(http.post(ws_url(workspace, "sessions"), json=body), 201)


def conclude(
    http: httpx.Client, workspace: str, *items: tuple[str, str, str], session: str | None = None
) -> list[dict[str, Any]]:
    """Create (observer, observed, content) conclusions in one batch."""
    body = {
        "conclusions": [
            {"observer_id": a, "observed_id": b, "content": c, "session_id": session}
            for a, b, c in items
        ]
    }
    result: list[dict[str, Any]] = expect(
        http.post(ws_url(workspace, "conclusions"), json=body), 201
    )
    return result


@asynccontextmanager
async def direct_runtime(server: LiveServer, embedder: Any = None) -> AsyncIterator[AppRuntime]:
    """A runtime of this test's event loop over the server's database."""
    settings = make_settings(server.settings.database_url, worker_enabled=False)
    runtime = build_runtime(settings, embedder=embedder)
    try:
        yield runtime
    finally:
        await runtime.close()


async def summarise(
    server: LiveServer, ws: str, session: str, kind: str, text: str, message_id: str, tokens: int
) -> None:
    """Store a summary of a session up to one of its messages, as the deriver would."""
    async with direct_runtime(server) as runtime, runtime.uow() as uow:
        workspace = await uow.workspaces.get_by_name(ws)
        assert workspace is not None
        found = await uow.sessions.get_by_name(workspace.id, session)
        assert found is not None
        message = await uow.messages.get_in_session(found.id, message_id)
        assert message is not None
        await summaries.save(uow, found, kind, text, message, tokens, runtime.now())
        await uow.commit()


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on an event loop of its own (a thread), beside the live server."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
