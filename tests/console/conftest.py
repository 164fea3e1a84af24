"""Fixtures of the console suite: Debian's Chromium driven by Playwright, filled servers.

Chromium comes from the `chromium` package (`/usr/bin/chromium`; `.ci/run` installs it when
it is missing); Playwright never downloads a browser. Each test gets a fresh browser profile.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.fill import Filled, fill_all

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CREDENTIALS_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
JWT_SECRET = "console-test-secret-" + "x" * 40


def _launch(steps: Callable[[Any], None], failures: list[BaseException]) -> None:
    from playwright.sync_api import sync_playwright

    profile = Path(tempfile.mkdtemp(prefix="mindkeeper-chromium-"))
    try:
        with sync_playwright() as driver:
            context = driver.chromium.launch_persistent_context(
                str(profile),
                executable_path=str(CHROMIUM),
                headless=True,
                args=FLAGS,
                viewport={"width": 1280, "height": 860},
            )
            context.set_default_timeout(30_000)
            try:
                steps(context.pages[0] if context.pages else context.new_page())
            finally:
                context.close()
    except BaseException as exc:  # handed to the test's thread
        failures.append(exc)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser() -> Callable[[Callable[[Any], None]], None]:
    """Run `steps(page)` in a fresh Chromium profile. Playwright's sync API runs an event
    loop of its own, so it gets a thread of its own (the test's thread keeps asyncio free)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium package is not installed (/usr/bin/chromium)")

    def browse(steps: Callable[[Any], None]) -> None:
        failures: list[BaseException] = []
        thread = threading.Thread(target=_launch, args=(steps, failures))
        thread.start()
        thread.join()
        if failures:
            raise failures[0]

    return browse


@pytest.fixture
def filled(server_factory: Callable[..., LiveServer], tmp_path: Path) -> tuple[LiveServer, Filled]:
    """A server with authentication off, filled through every surface."""
    server = server_factory(
        worker_enabled=False,
        data_dir=tmp_path / "data",
        auth_credentials_key=CREDENTIALS_KEY,
        deriver_max_attempts=1,
    )
    return server, fill_all(server.url, server.settings)
