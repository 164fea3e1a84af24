"""Fixtures of the Honcho v3 suite: one live server per module and backend (tests isolate
themselves in workspaces with unique names), a raw HTTP client, and the honcho-ai 2.7.0 SDK
run in a subprocess against that server (`sdk.run(script, **params)`, see `sdk.py`).

Other suites reuse the SDK harness through the `honcho_sdk_dir` and `sdk` fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mindkeeper.bootstrap import build_runtime
from tests.conftest import LiveServer, make_settings, start_server
from tests.honcho_v3.sdk import SdkRunner, ensure_sdk


@pytest.fixture(scope="module")
def api(module_database_url: str, embedder: Any) -> Iterator[LiveServer]:
    """A live server shared by the tests of one module; its worker polls often, so that
    background deletions finish soon."""
    settings = make_settings(module_database_url, worker_poll_seconds=0.05)
    server, stop = start_server(settings, build_runtime(settings, embedder=embedder))
    yield server
    stop()


@pytest.fixture(scope="module")
def http(api: LiveServer) -> Iterator[httpx.Client]:
    """A raw HTTP client for the shared server."""
    with api.client() as client:
        yield client


@pytest.fixture(scope="session")
def honcho_sdk_dir() -> Path:
    """The directory holding honcho-ai 2.7.0 (installed from PyPI on first use)."""
    return ensure_sdk()


@pytest.fixture(scope="module")
def sdk(api: LiveServer, honcho_sdk_dir: Path) -> SdkRunner:
    """Runs honcho-ai 2.7.0 scripts against the shared server."""
    return SdkRunner(api.url, honcho_sdk_dir)
