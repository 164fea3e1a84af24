"""A first run on a machine that never ran Mindkeeper, and start-up failures as one line.

Every command runs as a real subprocess of the installed `mindkeeper` entry point, with HOME
set to a new empty directory and no XDG_* or MINDKEEPER_* variable, so the default SQLite file
lands in `$HOME/.local/share/mindkeeper/`, a directory nothing has created yet.
"""

from __future__ import annotations

import base64
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mindkeeper import __version__
from tests.test_readme import run_quick_example

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="the default data directory is checked at its Linux path"
)

ENTRY_POINT = Path(sys.executable).with_name("mindkeeper")
JWT_SECRET = "first-run-jwt-secret-" + "s" * 32
CREDENTIALS_KEY = base64.b64encode(b"k" * 32).decode()
PG_PASSWORD = "first-run-pw"


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "MINDKEEPER_", "HOME"))}
    env["HOME"] = str(home)
    env.update(extra)
    return env


def _mindkeeper(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENTRY_POINT), *args],
        cwd=home,  # no `.env` of the checkout
        env=_env(home, **extra),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _fresh_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


def _data_dir(home: Path) -> Path:
    return home / ".local" / "share" / "mindkeeper"


def _assert_private_data_dir(home: Path) -> None:
    for directory in (home / ".local", home / ".local" / "share", _data_dir(home)):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert (_data_dir(home) / "mindkeeper.db").is_file()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_readme_first_command_on_an_empty_home(tmp_path: Path) -> None:
    """`mindkeeper serve` as the README gives it, then the README's quick example against it."""
    home = _fresh_home(tmp_path)
    port = _free_port()  # the README's port 8000 may be taken on a shared machine
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(ENTRY_POINT), "serve"],
            cwd=home,
            env=_env(home, MINDKEEPER_PORT=str(port)),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert process.poll() is None, f"server exited: {log.read_text()}"
            try:
                if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"server did not answer: {log.read_text()}"
            time.sleep(0.2)
        run_quick_example(url)
    finally:
        process.terminate()
        process.wait(timeout=60)
    database = _data_dir(home) / "mindkeeper.db"
    assert f"SQLite file {database}" in log.read_text()
    _assert_private_data_dir(home)
    assert "Traceback" not in log.read_text()


#: (command, extra environment, exit status, text expected in stdout + stderr, touches the database)
FRESH_HOME_RUNS: list[tuple[tuple[str, ...], dict[str, str], int, str, bool]] = [
    (("version",), {}, 0, f"mindkeeper {__version__}", False),
    (("migrate",), {}, 0, "is at revision", True),
    (("doctor",), {}, 1, "the schema is not at head: run `mindkeeper migrate`", True),
    (("worker",), {}, 1, "has no schema yet: run `mindkeeper migrate`", True),
    (("queue",), {}, 0, "pending 0  running 0  done 0  dead 0", True),
    (("queue", "retry"), {}, 0, "0 dead job(s) put back to pending", True),
    (("reindex",), {}, 0, "re-embedded 0 of 0 document(s)", True),
    (("keys", "generate-secret"), {}, 0, "", False),
    (
        ("keys", "create", "--admin"),
        {"MINDKEEPER_AUTH_JWT_SECRET": JWT_SECRET},
        0,
        "admin key",
        False,
    ),
    (
        ("keys", "create", "--app-id", "no-such-app"),
        {"MINDKEEPER_AUTH_JWT_SECRET": JWT_SECRET},
        1,
        "App with ID no-such-app not found",
        True,
    ),
    (
        ("keys", "revoke", "a-key-id"),
        {"MINDKEEPER_AUTH_JWT_SECRET": JWT_SECRET},
        0,
        "revoked",
        True,
    ),
    (("credentials", "generate-key"), {}, 0, "", False),
    (
        ("credentials", "create"),
        {"MINDKEEPER_AUTH_CREDENTIALS_KEY": CREDENTIALS_KEY},
        0,
        "aws_access_key_id = MKIA",
        True,
    ),
    (("credentials", "list"), {}, 0, "", True),
    (
        ("credentials", "revoke", "MKIAAAAAAAAAAAAAAAAA"),
        {},
        1,
        "No active access key MKIAAAAAAAAAAAAAAAAA",
        True,
    ),
]


@pytest.mark.parametrize(
    ("args", "extra", "status", "expected", "touches_database"),
    FRESH_HOME_RUNS,
    ids=[
        " ".join(run[0][:2]) + ("" if run[2] == 0 else f" -> {run[2]}") for run in FRESH_HOME_RUNS
    ],
)
def test_every_command_on_an_empty_home(
    tmp_path: Path,
    args: tuple[str, ...],
    extra: dict[str, str],
    status: int,
    expected: str,
    touches_database: bool,
) -> None:
    home = _fresh_home(tmp_path)
    result = _mindkeeper(home, *args, **extra)
    assert result.returncode == status, result.stderr
    assert expected in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    if status != 0:
        assert len(result.stderr.splitlines()) == 1, result.stderr
    if touches_database:
        _assert_private_data_dir(home)
    else:
        assert not (home / ".local").exists()


DATABASE_COMMANDS: list[tuple[str, ...]] = [
    ("serve",),
    ("migrate",),
    ("doctor",),
    ("worker",),
    ("queue",),
    ("reindex",),
    ("keys", "revoke", "a-key-id"),
    ("credentials", "list"),
]
SETTINGS_COMMANDS = [*DATABASE_COMMANDS, ("keys", "create", "--admin"), ("credentials", "create")]


def _read_only_directory(tmp_path: Path) -> Path:
    directory = tmp_path / "read-only"
    directory.mkdir()
    directory.chmod(0o555)
    if os.access(directory, os.W_OK):  # root writes anywhere, except in /proc
        return Path("/proc")
    return directory


def _database_case(case: str, tmp_path: Path) -> tuple[str, str]:
    """The database URL of a failure case and the text the error line must hold."""
    if case == "missing parent":
        path = tmp_path / "absent" / "deeper" / "mk.db"
        return f"sqlite:///{path}", f"{path}: the directory {path.parent} does not exist"
    if case == "read-only directory":
        path = _read_only_directory(tmp_path) / f"mk-{os.getpid()}.db"
        return f"sqlite:///{path}", f"cannot open the SQLite database {path}"
    port = _free_port()  # nothing listens there
    return (
        f"postgresql://mk:{PG_PASSWORD}@127.0.0.1:{port}/mk",
        f"cannot connect to PostgreSQL at 127.0.0.1:{port}",
    )


def _assert_one_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert expected in result.stderr
    assert result.stderr.startswith("mindkeeper")
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "case", ["missing parent", "read-only directory", "unreachable PostgreSQL"]
)
@pytest.mark.parametrize("args", DATABASE_COMMANDS, ids=" ".join)
def test_a_database_that_cannot_be_opened_is_one_line(
    tmp_path: Path, args: tuple[str, ...], case: str
) -> None:
    home = _fresh_home(tmp_path)
    url, expected = _database_case(case, tmp_path)
    result = _mindkeeper(
        home,
        *args,
        MINDKEEPER_DATABASE_URL=url,
        MINDKEEPER_EMBEDDER="none",
        MINDKEEPER_PORT=str(_free_port()),
        MINDKEEPER_AUTH_JWT_SECRET=JWT_SECRET,
    )
    _assert_one_line(result, expected)
    assert PG_PASSWORD not in result.stdout + result.stderr
    assert not (tmp_path / "absent").exists()  # an explicit path's directory is not created


@pytest.mark.parametrize("args", SETTINGS_COMMANDS, ids=" ".join)
def test_a_bad_setting_is_one_line_naming_the_variable(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    home = _fresh_home(tmp_path)
    result = _mindkeeper(home, *args, MINDKEEPER_DB_POOL_SIZE="0")
    _assert_one_line(result, "MINDKEEPER_DB_POOL_SIZE '0': Input should be greater than or equal")
    assert not (home / ".local").exists()


def test_a_bad_command_line_value_is_one_line(tmp_path: Path) -> None:
    home = _fresh_home(tmp_path)
    result = _mindkeeper(home, "serve", "--port", "70000")
    _assert_one_line(result, "MINDKEEPER_PORT (given on the command line) 70000")
    result = _mindkeeper(home, "migrate", "--database-url", f"mysql://mk:{PG_PASSWORD}@db/mk")
    _assert_one_line(result, "MINDKEEPER_DATABASE_URL (given on the command line)")
    assert PG_PASSWORD not in result.stderr


SECRET_COMMANDS: list[tuple[str, ...]] = [
    ("serve",),
    ("worker",),
    ("queue",),
    ("reindex",),
    ("keys", "create", "--admin"),
    ("keys", "revoke", "a-key-id"),
]


@pytest.mark.parametrize("args", SECRET_COMMANDS, ids=" ".join)
def test_a_missing_secret_file_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    home = _fresh_home(tmp_path)
    missing = tmp_path / "absent.secret"
    result = _mindkeeper(
        home,
        *args,
        MINDKEEPER_AUTH_JWT_SECRET_FILE=str(missing),
        MINDKEEPER_EMBEDDER="none",
        MINDKEEPER_PORT=str(_free_port()),
    )
    _assert_one_line(result, f"MINDKEEPER_AUTH_JWT_SECRET_FILE: cannot read {missing}")


def test_a_missing_credentials_key_file_is_one_line(tmp_path: Path) -> None:
    home = _fresh_home(tmp_path)
    missing = tmp_path / "absent.key"
    result = _mindkeeper(
        home, "credentials", "create", MINDKEEPER_AUTH_CREDENTIALS_KEY_FILE=str(missing)
    )
    _assert_one_line(result, f"MINDKEEPER_AUTH_CREDENTIALS_KEY_FILE: cannot read {missing}")


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    home = _fresh_home(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _mindkeeper(home, "serve", "--port", str(port), MINDKEEPER_EMBEDDER="none")
    _assert_one_line(result, f"cannot listen on 127.0.0.1:{port}: Address already in use")
    assert not (home / ".local").exists()  # refused before the database was touched


@pytest.mark.parametrize("args", [("serve",), ("worker",), ("queue",), ("reindex",)], ids=" ".join)
def test_a_bad_keyring_file_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    home = _fresh_home(tmp_path)
    keyring = tmp_path / "keyring.json"
    keyring.write_text("not json")
    result = _mindkeeper(
        home,
        *args,
        MINDKEEPER_BEDROCK_KEYRING_FILE=str(keyring),
        MINDKEEPER_EMBEDDER="none",
        MINDKEEPER_PORT=str(_free_port()),
    )
    _assert_one_line(
        result, f"cannot load the keyring from MINDKEEPER_BEDROCK_KEYRING_FILE {keyring}"
    )


@pytest.mark.parametrize("args", [("serve",), ("worker",), ("reindex",)], ids=" ".join)
def test_an_incomplete_embedder_setting_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    home = _fresh_home(tmp_path)
    result = _mindkeeper(
        home, *args, MINDKEEPER_EMBEDDER="openai", MINDKEEPER_PORT=str(_free_port())
    )
    _assert_one_line(result, "MINDKEEPER_EMBEDDER=openai needs MINDKEEPER_EMBEDDING_MODEL")
