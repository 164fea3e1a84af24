"""Fixtures of the Honcho v1 suite: one live server per module and backend, shared by its tests.

Starting a server over a fresh database costs a few hundred milliseconds, so the tests of a
module share one (`api`) and isolate themselves by working inside apps with unique names.
Tests that need special settings or an empty database use `server` / `server_factory`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from honcho import Honcho

from mindkeeper.bootstrap import build_runtime
from tests.conftest import LiveServer, make_settings, start_server
from tests.honcho.support import World, new_world


@pytest.fixture(scope="module")
def api(module_database_url: str, embedder: Any) -> Iterator[LiveServer]:
    """A live server with default settings, shared by the tests of one module."""
    settings = make_settings(module_database_url)
    server, stop = start_server(settings, build_runtime(settings, embedder=embedder))
    yield server
    stop()


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
