"""The honcho-ai 2.7.0 SDK in a subprocess of its own.

The 2.7.0 SDK and the 0.2.0 one that the v1 suite uses are both the module `honcho`, so they
cannot be imported by one interpreter. `ensure_sdk()` installs the 2.7.0 wheel once (no
dependencies: httpx and pydantic come from this environment) into a directory beside the
virtual environment, and `SdkRunner.run(script, **params)` runs a script with that directory
first on `PYTHONPATH`, against a live server, and returns what the script emitted.

A script sees:

* `URL`: the server's base URL; `PARAMS`: the keyword arguments given to `run`, as JSON;
* `client(**kwargs)`: a `Honcho` client for `URL` without retries (`workspace_id` from
  `PARAMS["workspace"]` unless given); `aclient(**kwargs)`: its async twin (`.aio`);
* `emit(value)`: records the result (JSON; objects it cannot encode become strings);
* `errors(fn)`: calls `fn()` and returns `[exception class name, its `status`]` (or None).

A script may define `async def main()`; it is then run with `asyncio.run`.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SDK_VERSION = "2.7.0"
#: Where the wheel is installed: beside this environment's interpreter, reused across runs.
SDK_DIR = Path(sys.prefix) / f"honcho-sdk-{SDK_VERSION}"

_PRELUDE = """
import asyncio, json, os, sys
URL = os.environ["SDK_URL"]
PARAMS = json.loads(os.environ["SDK_PARAMS"])
import honcho
assert os.path.realpath(honcho.__file__).startswith(os.environ["SDK_DIR"]), honcho.__file__
from honcho import Honcho

def client(**kwargs):
    kwargs.setdefault("workspace_id", PARAMS.get("workspace", "default"))
    return Honcho(base_url=URL, max_retries=0, **kwargs)

def aclient(**kwargs):
    return client(**kwargs).aio

_RESULT = []

def emit(value):
    _RESULT.append(value)

def errors(fn):
    try:
        fn()
    except Exception as exc:
        return [type(exc).__name__, getattr(exc, "status", None)]
    return None
"""

_EPILOGUE = """
if "main" in globals() and asyncio.iscoroutinefunction(globals()["main"]):
    asyncio.run(main())
with open(os.environ["SDK_OUT"], "w") as out:
    json.dump(_RESULT[-1] if _RESULT else None, out, default=str)
"""


def _installed(directory: Path) -> bool:
    return (directory / f"honcho_ai-{SDK_VERSION}.dist-info").is_dir() and (
        directory / "honcho" / "__init__.py"
    ).is_file()


def ensure_sdk() -> Path:
    """Install honcho-ai 2.7.0 into SDK_DIR unless it is there; safe across processes."""
    if _installed(SDK_DIR):
        return SDK_DIR
    SDK_DIR.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{SDK_DIR}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed(SDK_DIR):
            return SDK_DIR
        staging = Path(tempfile.mkdtemp(prefix=f"{SDK_DIR.name}.", dir=SDK_DIR.parent))
        try:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-deps",
                    "--target",
                    str(staging),
                    f"honcho-ai=={SDK_VERSION}",
                ],
                check=True,
                capture_output=True,
                timeout=600,
            )
            if SDK_DIR.exists():
                shutil.rmtree(SDK_DIR)
            staging.rename(SDK_DIR)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return SDK_DIR


class SdkError(AssertionError):
    """The script failed."""


@dataclass
class SdkRunner:
    """Runs SDK scripts against one server."""

    url: str
    sdk_dir: Path

    def run(self, script: str, **params: Any) -> Any:
        """Run `script` (see the module docstring) and return what it emitted last."""
        with tempfile.TemporaryDirectory(prefix="honcho-sdk-run-") as tmp:
            path = Path(tmp) / "script.py"
            out = Path(tmp) / "out.json"
            path.write_text(_PRELUDE + textwrap.dedent(script) + _EPILOGUE)
            env = {
                **os.environ,
                "PYTHONPATH": str(self.sdk_dir),
                "PYTHONNOUSERSITE": "1",
                "SDK_DIR": str(self.sdk_dir.resolve()),
                "SDK_URL": self.url,
                "SDK_PARAMS": json.dumps(params),
                "SDK_OUT": str(out),
            }
            for name in ("HONCHO_API_KEY", "HONCHO_URL", "HONCHO_WORKSPACE_ID"):
                env.pop(name, None)
            done = subprocess.run(
                [sys.executable, str(path)],
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            if done.returncode != 0:
                raise SdkError(f"SDK script failed:\n{done.stderr[-4000:]}")
            return json.loads(out.read_text())
