"""Small pieces in isolation: token buckets, the revocation cache, secrets loading."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from pydantic import SecretStr

from mindkeeper.core.ports.auth import KeyScope
from mindkeeper.core.services.keys import KeyVerifier
from mindkeeper.errors import Unauthorized
from mindkeeper.http.ratelimit import TokenBuckets, retry_after
from mindkeeper.providers.secrets import SecretError, load_security
from tests.security.conftest import JWT_SECRET, codec


class Clock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_buckets_refill_and_isolate_callers() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=3, monotonic=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    assert buckets.take("b") == 0.0
    clock.now += 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0
    clock.now += 10
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert retry_after(0.01) == "1" and retry_after(1.2) == "2"
    assert TokenBuckets(rate=0, burst=1).take("a") == 0.0


class FakeAuth:
    """The part of the repository the verifier reads."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str]] = []
        self.reads = 0

    async def revocations_after(self, after: int) -> list[tuple[int, str]]:
        self.reads += 1
        return [row for row in self.rows if row[0] > after]


class FakeUow:
    def __init__(self, auth: FakeAuth) -> None:
        self.auth = auth

    async def __aenter__(self) -> FakeUow:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


async def test_revocations_apply_within_the_cache_time() -> None:
    clock, auth = Clock(), FakeAuth()
    verifier = KeyVerifier(codec(), refresh_seconds=1.0, monotonic=clock)
    now = datetime.now(UTC)
    token = codec().encode(KeyScope(workspace_id="a", key_id="k1"), now)

    def open_uow() -> Any:
        return FakeUow(auth)

    assert (await verifier.verify(token, open_uow, now)).workspace_id == "a"
    auth.rows.append((1, "k1"))
    assert (await verifier.verify(token, open_uow, now)).key_id == "k1"  # cached list
    assert auth.reads == 1
    clock.now += 1.5
    with pytest.raises(Unauthorized, match="revoked"):
        await verifier.verify(token, open_uow, now)
    expired = codec().encode(KeyScope(workspace_id="a", expires_at=int(now.timestamp()) - 1), now)
    with pytest.raises(Unauthorized, match="expired"):
        await verifier.verify(expired, open_uow, now)


def test_secrets_load_from_settings_or_files(tmp_path: Path) -> None:
    secret_file = tmp_path / "jwt"
    secret_file.write_text(f"  {JWT_SECRET}\n")
    key = base64.b64encode(bytes(32)).decode()
    security = load_security(True, None, secret_file, SecretStr(key), None)
    assert security.enabled and security.codec is not None and security.box is not None
    sealed = security.box.seal(b"secret", b"ctx")
    assert security.box.open(sealed, b"ctx") == b"secret"
    with pytest.raises(ValueError):
        security.box.open(sealed, b"other ctx")
    token = security.codec.encode(KeyScope(admin=True), datetime.now(UTC))
    assert codec().decode(token).admin  # the file's whitespace is not part of the secret
    assert load_security(False, None, None, None, None).codec is None
    with pytest.raises(SecretError):
        load_security(True, None, None, None, None)
    with pytest.raises(SecretError):
        load_security(False, SecretStr("x" * 10), None, None, None)
