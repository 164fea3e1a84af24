"""Every public method of the honcho-ai 2.7.0 SDK, sync and async, is called by some SDK script
of this suite on every backend of the session.

The SDK scripts record the methods they call (see `sdk.py`); this test runs after every other
test of the session (see `conftest.py`) and compares that record with the SDK's public methods,
found by introspection of the installed package. It only means something when the whole folder
ran, so it skips otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from tests.honcho_v3.conftest import DESELECTED, SDK_CALLS
from tests.honcho_v3.sdk import public_methods, recorded_calls

HERE = Path(__file__).parent


def _partial_run(request: pytest.FixtureRequest) -> str | None:
    """Why the session does not hold the whole folder, or None if it does."""
    config = request.config
    if hasattr(config, "workerinput"):
        return "the SDK calls are recorded per process; run the folder in one process"
    collected = {item.path for item in request.session.items}
    missing = sorted(p.name for p in HERE.glob("test_*.py") if p not in collected)
    if missing:
        return f"modules not collected: {', '.join(missing)}"
    if config.stash[DESELECTED]:
        return f"{len(config.stash[DESELECTED])} tests of the folder were deselected"
    root = config.invocation_params.dir
    narrowed = [
        arg
        for arg in config.args
        if "::" in arg and (root / arg.split("::", 1)[0]).resolve().is_relative_to(HERE)
    ]
    if narrowed:
        return f"only some tests of a module were selected: {', '.join(narrowed)}"
    return None


def test_every_sdk_method_is_called_on_every_backend(
    request: pytest.FixtureRequest, honcho_sdk_dir: Path
) -> None:
    reason = _partial_run(request)
    if reason is not None:
        pytest.skip(f"needs the whole tests/honcho_v3 folder: {reason}")
    backend_of = {
        item.nodeid: item.callspec.params["backend"]
        for item in request.session.items
        if hasattr(item, "callspec") and "backend" in item.callspec.params
    }
    backends = sorted(set(backend_of.values()))
    assert backends, "no test of the session runs on a backend"
    called: dict[str, set[str]] = defaultdict(set)
    for test, method in recorded_calls(request.config.stash[SDK_CALLS][0]):
        if test in backend_of:
            called[backend_of[test]].add(method)
    methods = public_methods(honcho_sdk_dir)
    assert methods, "no public SDK method found"
    uncovered = {backend: [m for m in methods if m not in called[backend]] for backend in backends}
    report = "\n".join(
        f"{backend}: {len(names)} of {len(methods)} methods never called: {', '.join(names)}"
        for backend, names in uncovered.items()
        if names
    )
    assert not report, report
