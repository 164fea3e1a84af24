"""Fixtures of the AgentCore suite: a live server per module and backend, boto3 clients of
both planes, a memory per test.

Most tests share a module server (`shared`) and isolate themselves by creating their own
memory; tests that move the clock, list memories or need special settings start their own
server with `server_factory`. The server embeds with the packaged local embedder.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mindkeeper.bootstrap import build_runtime
from tests.agentcore.support import control_client, data_client, new_memory
from tests.conftest import LiveServer, make_settings, start_server


@pytest.fixture(scope="module")
def shared(module_database_url: str, embedder: Any) -> Iterator[LiveServer]:
    """A live server with default settings, shared by the tests of one module."""
    settings = make_settings(module_database_url, agentcore_max_memories=10_000)
    server, stop = start_server(settings, build_runtime(settings, embedder=embedder))
    yield server
    stop()


@pytest.fixture(scope="module")
def data(shared: LiveServer) -> Any:
    """A boto3 data-plane client for the shared server."""
    return data_client(shared.url)


@pytest.fixture(scope="module")
def control(shared: LiveServer) -> Any:
    """A boto3 control-plane client for the shared server."""
    return control_client(shared.url)


@pytest.fixture(scope="module")
def http(shared: LiveServer) -> Iterator[httpx.Client]:
    """A raw HTTP client for the shared server."""
    with shared.client() as raw:
        yield raw


@pytest.fixture
def memory(control: Any) -> str:
    """A fresh memory without strategies on the shared server."""
    return new_memory(control)
