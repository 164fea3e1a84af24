"""The README's quick example runs as written against a live server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import LiveServer

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_opens_with_the_two_commands() -> None:
    commands = re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S)[:2]
    assert "mindkeeper serve" in commands[0]
    assert "pytest" in commands[1]
    ci = (README.parent / ".ci" / "run").read_text()
    assert commands[1].strip() in ci.splitlines()


def run_quick_example(url: str) -> None:
    """Run the README's quick example against the server at `url` and check what it prints."""
    example = _python_blocks()[0].replace("http://127.0.0.1:8000", url)
    result = subprocess.run(
        [sys.executable, "-c", example], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert "I just moved to Lisbon" in lines[0]
    assert lines[1] == "['Alice lives in Lisbon']"


def test_quick_example_runs(server: LiveServer, backend: str) -> None:
    run_quick_example(server.url)


def run_v3_quick_example(url: str) -> None:
    """Run the README's honcho-ai 2.7.0 example (its own interpreter: the SDK is `honcho` too)."""
    from tests.honcho_v3.sdk import ensure_sdk

    sdk_dir = ensure_sdk()
    example = _python_blocks()[1].replace("http://127.0.0.1:8000", url)
    assert "workspace_id=" in example, "the second example is the v3 one"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "PYTHONPATH": str(sdk_dir),
        "PYTHONNOUSERSITE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", example],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == (
        '["I just moved to Lisbon and I\'m learning Portuguese.", '
        "'Welcome! How is the Portuguese going?']"
    )
    assert lines[1] == "['Alice lives in Lisbon']"


def test_v3_quick_example_runs(server: LiveServer, backend: str) -> None:
    run_v3_quick_example(server.url)
