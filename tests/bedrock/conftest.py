"""Fixtures of the Bedrock suite: one live server per module and backend, boto3 clients, clocks.

Most tests share a module server (`shared`) and isolate themselves by creating their own
sessions; tests that list sessions, move the clock or need special settings start their own
server with `server` / `server_factory`. No embedder: this surface never uses one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mindkeeper.bootstrap import build_runtime
from tests.bedrock.support import ManualClock, make_client
from tests.conftest import LiveServer, make_settings, start_server


@pytest.fixture(scope="session")
def embedder() -> Any:
    """No embedder: the Bedrock surface does not use one (and tests start faster)."""
    return None


@pytest.fixture(scope="module")
def shared(module_database_url: str) -> Iterator[LiveServer]:
    """A live server with default settings, shared by the tests of one module."""
    settings = make_settings(module_database_url)
    server, stop = start_server(settings, build_runtime(settings, embedder=None))
    yield server
    stop()


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
