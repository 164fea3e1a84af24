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

Call recording: when the environment variable named by `CALLS_ENV` names a file, every public
method of the SDK's classes (found by introspection of the installed package, see
`public_methods`) is wrapped, and each method a script calls directly (not the SDK's own
internal calls) is appended to that file as a line `<test node id>\t<Class.method>`, the node id
coming from `PYTEST_CURRENT_TEST`.
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
#: The environment variable naming the file where scripts record the SDK methods they call.
CALLS_ENV = "SDK_CALLS_FILE"
#: Where the wheel is installed: beside this environment's interpreter, reused across runs.
SDK_DIR = Path(sys.prefix) / f"honcho-sdk-{SDK_VERSION}"

#: The SDK's public methods: every plain function with a public name that a class exported by
#: `honcho` (exceptions aside) defines or inherits from a class of the `honcho` package, pydantic's
#: own model API excepted. Class methods (constructors from wire data) and properties are not
#: methods a caller calls.
_INTROSPECTION = """
def _sdk_methods():
    import inspect
    import honcho, pydantic
    classes = []
    for exported in honcho.__all__:
        cls = getattr(honcho, exported)
        if (
            isinstance(cls, type)
            and cls.__module__.startswith("honcho.")
            and not issubclass(cls, BaseException)
            and cls not in classes
        ):
            classes.append(cls)
    found = []
    for cls in classes:
        is_model = issubclass(cls, pydantic.BaseModel)
        for name in sorted(dir(cls)):
            if name.startswith("_") or (is_model and hasattr(pydantic.BaseModel, name)):
                continue
            owner = next(k for k in cls.__mro__ if name in vars(k))
            if owner.__module__.startswith("honcho.") and inspect.isfunction(vars(owner)[name]):
                found.append((cls, name, vars(owner)[name]))
    return found
"""

_RECORDER = """
def _record_calls(path):
    import atexit, fcntl, functools, inspect

    test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    called = set()

    def direct(frame):
        return not str(frame.f_globals.get("__name__", "")).startswith("honcho")

    def wrap(fn, label):
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def wrapper(*args, **kwargs):
                if direct(sys._getframe(1)):
                    called.add(label)
                return await fn(*args, **kwargs)
        else:
            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                if direct(sys._getframe(1)):
                    called.add(label)
                return fn(*args, **kwargs)
        return wrapper

    for cls, name, fn in _sdk_methods():
        setattr(cls, name, wrap(fn, f"{cls.__qualname__}.{name}"))

    def save():
        if called:
            with open(path, "a") as out:
                fcntl.flock(out, fcntl.LOCK_EX)
                out.write("".join(f"{test}\\t{label}\\n" for label in sorted(called)))

    atexit.register(save)
"""

_PRELUDE = (
    """
import asyncio, json, os, sys
URL = os.environ["SDK_URL"]
PARAMS = json.loads(os.environ["SDK_PARAMS"])
import honcho
assert os.path.realpath(honcho.__file__).startswith(os.environ["SDK_DIR"]), honcho.__file__
from honcho import Honcho
"""
    + _INTROSPECTION
    + _RECORDER
    + f"""
if os.environ.get("{CALLS_ENV}"):
    _record_calls(os.environ["{CALLS_ENV}"])
"""
    + """
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
)

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


def public_methods(sdk_dir: Path) -> list[str]:
    """The SDK's public methods as `Class.method` names (sync and async classes alike)."""
    script = (
        _INTROSPECTION
        + "import json\n"
        + "print(json.dumps(sorted(f'{c.__qualname__}.{n}' for c, n, _ in _sdk_methods())))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(sdk_dir), "PYTHONNOUSERSITE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    names: list[str] = json.loads(done.stdout)
    return names


def recorded_calls(path: Path) -> list[tuple[str, str]]:
    """The `(test node id, Class.method)` pairs recorded in `path`."""
    if not path.exists():
        return []
    pairs = []
    for line in path.read_text().splitlines():
        test, _, method = line.partition("\t")
        pairs.append((test, method))
    return pairs


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
