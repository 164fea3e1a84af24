"""Fixtures of the Honcho v1 suite: one live server per module and backend, shared by its tests.

Starting a server over a fresh database costs a few hundred milliseconds, so the tests of a
module share one (`api`) and isolate themselves by working inside apps with unique names.
Tests that need special settings or an empty database use `server` / `server_factory`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from honcho import Honcho

from mindkeeper.bootstrap import build_runtime
from mindkeeper.config import normalise_database_url
from tests.conftest import LiveServer, _ServerThread, _with_database, make_settings
from tests.honcho.support import World, new_world


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
        path = tmp_path_factory.mktemp("honcho") / "module.db"
        shutil.copyfile(_module_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    admin: str = request.getfixturevalue("pg_admin_dsn")
    name = f"mk_honcho_{os.getpid()}_{request.module.__name__.rsplit('.', 1)[-1]}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_module_template}"')
    finally:
        await conn.close()
    yield normalise_database_url(_with_database(admin, name))
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def api(module_database_url: str, embedder: Any) -> Iterator[LiveServer]:
    """A live server with default settings, shared by the tests of one module."""
    settings = make_settings(module_database_url)
    runtime = build_runtime(settings, embedder=embedder)
    thread = _ServerThread(_app(settings, runtime))
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{thread.port}", settings, runtime)
    thread.stop()


def _app(settings: Any, runtime: Any) -> Any:
    from mindkeeper.http.app import create_app

    return create_app(settings, runtime)


@pytest.fixture(scope="module")
def http(api: LiveServer) -> Iterator[httpx.Client]:
    """A raw HTTP client for the shared server."""
    with api.client() as client:
        yield client


@pytest.fixture(scope="module")
def honcho(api: LiveServer) -> Iterator[Honcho]:
    """The real honcho-ai 0.2.0 client against the shared server, without retries."""
    client = Honcho(base_url=api.url, max_retries=0)
    yield client
    client.close()


@pytest.fixture
def world(http: httpx.Client) -> World:
    """A fresh app with one user and one session of that user."""
    return new_world(http)
