"""Fixtures of the Bedrock suite: one live server per module and backend, boto3 clients, clocks.

Most tests share a module server (`shared`) and isolate themselves by creating their own
sessions; tests that list sessions, move the clock or need special settings start their own
server with `server` / `server_factory`. No embedder: this surface never uses one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from mindkeeper.bootstrap import build_runtime
from mindkeeper.config import normalise_database_url
from mindkeeper.http.app import create_app
from tests.bedrock.support import ManualClock, make_client
from tests.conftest import LiveServer, _ServerThread, _with_database, make_settings


@pytest.fixture(scope="session")
def embedder() -> Any:
    """No embedder: the Bedrock surface does not use one (and tests start faster)."""
    return None


@pytest.fixture(scope="module")
def _module_template(backend: str, request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("sqlite_template" if backend == "sqlite" else "pg_template")


@pytest.fixture(scope="module")
async def module_database_url(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    _module_template: Any,
) -> AsyncIterator[str]:
    """A fresh database at schema head shared by one module's tests."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("bedrock") / "module.db"
        shutil.copyfile(_module_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    admin: str = request.getfixturevalue("pg_admin_dsn")
    template_name: str = _module_template
    name = f"mk_bedrock_{os.getpid()}_{request.module.__name__.rsplit('.', 1)[-1]}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    finally:
        await conn.close()
    yield normalise_database_url(_with_database(admin, name))
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def shared(module_database_url: str) -> Iterator[LiveServer]:
    """A live server with default settings, shared by the tests of one module."""
    settings = make_settings(module_database_url)
    runtime = build_runtime(settings, embedder=None)
    thread = _ServerThread(create_app(settings, runtime))
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{thread.port}", settings, runtime)
    thread.stop()


@pytest.fixture(scope="module")
def client(shared: LiveServer) -> Any:
    """A boto3 client for the shared server."""
    return make_client(shared.url)


@pytest.fixture(scope="module")
def http(shared: LiveServer) -> Iterator[httpx.Client]:
    """A raw HTTP client for the shared server."""
    with shared.client() as raw:
        yield raw


@pytest.fixture
def clock() -> ManualClock:
    """A fresh manual clock (starts 2025-03-01 12:00 UTC)."""
    return ManualClock()


@pytest.fixture
def clocked(
    server_factory: Callable[..., LiveServer], clock: ManualClock
) -> tuple[LiveServer, Any, ManualClock]:
    """A server of its own on the manual clock, a client for it, and the clock."""
    server = server_factory(clock=clock)
    return server, make_client(server.url), clock
