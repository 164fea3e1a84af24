"""Fixtures of the Honcho v3 suite: one live server per module and backend (tests isolate
themselves in workspaces with unique names), a raw HTTP client, and the honcho-ai 2.7.0 SDK
run in a subprocess against that server (`sdk.run(script, **params)`, see `sdk.py`).

Other suites reuse the SDK harness through the `honcho_sdk_dir` and `sdk` fixtures.

While the suite runs, SDK scripts record the SDK methods they call in one file per session
(`sdk.CALLS_ENV`); `test_sdk_coverage.py` is moved after every other test of the session and
checks that record when the whole folder was collected.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mindkeeper.bootstrap import build_runtime
from tests.conftest import LiveServer, make_settings, start_server
from tests.honcho_v3.sdk import CALLS_ENV, SdkRunner, ensure_sdk

#: The test that checks which SDK methods the session's scripts called.
COVERAGE_TEST = Path(__file__).parent / "test_sdk_coverage.py"
#: The file of recorded SDK calls, and the value of `CALLS_ENV` before the session.
SDK_CALLS = pytest.StashKey[tuple[Path, str | None]]()
#: Node ids of this folder's tests that were deselected (`-k`, `-m`).
DESELECTED = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    """Name a fresh file for the SDK calls of this session in the environment that SDK
    scripts inherit."""
    fd, name = tempfile.mkstemp(prefix="honcho-sdk-calls-", suffix=".tsv")
    os.close(fd)
    config.stash[SDK_CALLS] = (Path(name), os.environ.get(CALLS_ENV))
    config.stash[DESELECTED] = []
    os.environ[CALLS_ENV] = name


def pytest_unconfigure(config: pytest.Config) -> None:
    if SDK_CALLS not in config.stash:
        return
    path, before = config.stash[SDK_CALLS]
    path.unlink(missing_ok=True)
    if before is None:
        os.environ.pop(CALLS_ENV, None)
    else:
        os.environ[CALLS_ENV] = before


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the SDK coverage check after every other test of the session."""
    last = [item for item in items if item.path == COVERAGE_TEST]
    if last:
        items[:] = [item for item in items if item.path != COVERAGE_TEST] + last


def pytest_deselected(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.parent == here and DESELECTED in item.config.stash:
            item.config.stash[DESELECTED].append(item.nodeid)


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
