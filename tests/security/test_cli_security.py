"""The command line: the binding rule of `serve`, keys, credentials, and secrets kept out of output.

`serve` and `doctor` run as real subprocesses; the keys and credentials commands run through
the same entry point (`mindkeeper.cli.main.main`) in a helper thread, which saves a Python
start per command. All over a SQLite file: the rule and the commands do not depend on the
database, and the storage paths they use are covered on both databases by the other tests.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.security.conftest import CREDENTIALS_KEY, JWT_SECRET, REGION, bearer

BASE_ENV = {
    "MINDKEEPER_EMBEDDER": "none",
    "MINDKEEPER_WORKER_ENABLED": "false",
    "MINDKEEPER_AUTH_CACHE_SECONDS": "0",
    "MINDKEEPER_BEDROCK_REGION": REGION,
}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDKEEPER_")}
    env.update(BASE_ENV)
    env["MINDKEEPER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    env.update(extra)
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mindkeeper.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run a command in-process (a helper thread, the environment swapped for the call)."""
    from mindkeeper.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    status: list[int] = []

    def target() -> None:
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                status.append(main(list(args)))
        except SystemExit as exc:
            status.append(int(exc.code or 0))
        finally:
            os.environ.clear()
            os.environ.update(saved)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(120)
    return subprocess.CompletedProcess(list(args), status[0], out.getvalue(), err.getvalue())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serving(env: dict[str, str], *args: str) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mindkeeper.cli.main", "serve", "--port", str(port), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    f"server exited: {process.stdout.read() if process.stdout else ''}"
                )
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("server did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        assert JWT_SECRET not in output and CREDENTIALS_KEY not in output


def test_binding_beyond_loopback_needs_auth_or_insecure(tmp_path: Path) -> None:
    env = _env(tmp_path)
    refused = _run(env, "serve", "--host", "0.0.0.0")
    assert refused.returncode == 2
    assert "refusing to listen on 0.0.0.0 with authentication off" in refused.stderr
    with _serving(env, "--host", "0.0.0.0", "--insecure") as url:
        assert httpx.post(url + "/v1/apps/list", json={}).status_code == 200


def test_exposure_rule_variants(tmp_path: Path) -> None:
    """The same rule in-process: settings from the environment, hosts, missing or weak secrets."""
    from mindkeeper.cli.serve import check_exposure, is_loopback
    from mindkeeper.config import Settings

    def settings(**values: object) -> Settings:
        return Settings(_env_file=None, **values)  # type: ignore[arg-type]

    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.1", "example.com"))
    assert check_exposure(settings(), insecure=False) is None
    assert "refusing" in str(check_exposure(settings(host="0.0.0.0"), insecure=False))
    assert check_exposure(settings(host="0.0.0.0"), insecure=True) is None
    on = {"auth_enabled": True, "host": "0.0.0.0"}
    assert "no JWT secret" in str(check_exposure(settings(**on), insecure=False))
    weak = settings(**on, auth_jwt_secret="short")
    assert "at least 32 characters" in str(check_exposure(weak, insecure=False))
    secret_file = tmp_path / "jwt.secret"
    secret_file.write_text(JWT_SECRET + "\n")
    assert check_exposure(settings(**on, auth_jwt_secret_file=secret_file), insecure=False) is None
    missing = settings(**on, auth_jwt_secret_file=tmp_path / "absent")
    assert "cannot read" in str(check_exposure(missing, insecure=False))
    bad_key = settings(**on, auth_jwt_secret=JWT_SECRET, auth_credentials_key="not base64 of 32")
    assert "credentials key" in str(check_exposure(bad_key, insecure=False))


def test_auth_on_end_to_end_with_keys_and_credentials(tmp_path: Path) -> None:
    import boto3
    from botocore.config import Config

    secret_file = tmp_path / "jwt.secret"
    key_file = tmp_path / "credentials.key"
    env = _env(tmp_path)
    assert _cli(env, "keys", "generate-secret", "--file", str(secret_file)).returncode == 0
    assert _cli(env, "credentials", "generate-key", "--file", str(key_file)).returncode == 0
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
    env.update(
        MINDKEEPER_AUTH_ENABLED="true",
        MINDKEEPER_AUTH_JWT_SECRET_FILE=str(secret_file),
        MINDKEEPER_AUTH_CREDENTIALS_KEY_FILE=str(key_file),
    )
    admin = _cli(env, "keys", "create", "--admin")
    assert admin.returncode == 0, admin.stderr
    token = admin.stdout.strip()
    assert token.count(".") == 2 and "shown only now" in admin.stderr
    created = _cli(env, "credentials", "create", "--account-id", "123456789012")
    assert created.returncode == 0, created.stderr
    values = dict(line.split(" = ", 1) for line in created.stdout.strip().splitlines())
    listed = _cli(env, "credentials", "list")
    assert values["aws_access_key_id"] in listed.stdout
    assert values["aws_secret_access_key"] not in listed.stdout

    with _serving(env, "--host", "0.0.0.0") as url:
        assert httpx.post(url + "/v1/apps/list", json={}).status_code == 401
        app = httpx.post(url + "/v1/apps", json={"name": "cli"}, headers=bearer(token)).json()
        scoped = _cli(env, "keys", "create", "--app-id", app["id"], "--expires-in", "1h")
        assert scoped.returncode == 0, scoped.stderr
        app_key = scoped.stdout.strip()
        got = httpx.get(url + "/v1/apps", headers=bearer(app_key))
        assert got.status_code == 200 and got.json()["id"] == app["id"]
        revoked = _cli(env, "keys", "revoke", app_key)
        assert revoked.returncode == 0, revoked.stderr
        assert httpx.get(url + "/v1/apps", headers=bearer(app_key)).status_code == 401

        client = boto3.client(
            "bedrock-agent-runtime",
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id=values["aws_access_key_id"],
            aws_secret_access_key=values["aws_secret_access_key"],
            config=Config(retries={"max_attempts": 0}),
        )
        session = client.create_session()
        assert ":123456789012:session/" in session["sessionArn"]
        assert _cli(env, "credentials", "revoke", values["aws_access_key_id"]).returncode == 0
        with pytest.raises(ClientError):
            client.list_sessions()


def test_doctor_and_redaction_hide_secrets(tmp_path: Path) -> None:
    from mindkeeper.config import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, auth_jwt_secret=JWT_SECRET, auth_credentials_key=CREDENTIALS_KEY
    )
    redacted = str(settings.redacted())
    assert JWT_SECRET not in redacted and CREDENTIALS_KEY not in redacted
    env = _env(
        tmp_path,
        MINDKEEPER_AUTH_ENABLED="true",
        MINDKEEPER_AUTH_JWT_SECRET=JWT_SECRET,
        MINDKEEPER_AUTH_CREDENTIALS_KEY=CREDENTIALS_KEY,
    )
    report = _run(env, "doctor")
    assert "auth_jwt_secret" in report.stdout
    assert JWT_SECRET not in report.stdout + report.stderr
    assert CREDENTIALS_KEY not in report.stdout + report.stderr
