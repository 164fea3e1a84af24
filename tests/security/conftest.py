"""Fixtures of the security suite: servers with authentication on, keys, access keys, a clock.

Documents need an embedder; a small deterministic fake (injected through bootstrap's
parameters) keeps the suite fast. Access keys and revocations are written with the core
services on a private event loop in a helper thread, as the CLI would.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import boto3
import httpx
import numpy as np
import pytest
from botocore.config import Config

from mindkeeper.core.ports import UnitOfWork
from mindkeeper.core.services import credentials, keys
from mindkeeper.core.values import utcnow
from mindkeeper.providers.secrets import AesGcmBox, JwtCodec
from tests.conftest import LiveServer, make_settings

T = TypeVar("T")

JWT_SECRET = "test-jwt-secret-" + "x" * 40
CREDENTIALS_KEY = base64.b64encode(bytes(range(32))).decode()
REGION = "us-east-1"
ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"

AUTH_SETTINGS: dict[str, Any] = {
    "auth_enabled": True,
    "auth_jwt_secret": JWT_SECRET,
    "auth_credentials_key": CREDENTIALS_KEY,
    "auth_cache_seconds": 0,
    "worker_enabled": False,
    "bedrock_region": REGION,
}


class FakeEmbedder:
    """Deterministic unit vectors from a hash of the text (8 dimensions)."""

    model_id = "fake-hash-8"
    dim = 8

    async def embed(self, texts: Any) -> np.ndarray:
        """One unit vector per text."""
        rows = []
        for text in texts:
            digest = hashlib.sha256(text.encode()).digest()
            row = np.frombuffer(digest[: self.dim * 4], dtype=np.uint32).astype(np.float32) + 1
            rows.append(row / np.linalg.norm(row))
        return np.stack(rows).astype(np.float32)


@pytest.fixture(scope="session")
def embedder() -> Any:
    """The fake embedder (documents need one; the real model is not under test here)."""
    return FakeEmbedder()


def uid(prefix: str = "t") -> str:
    """A unique name."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def codec() -> JwtCodec:
    """The codec of the test secret."""
    return JwtCodec(JWT_SECRET)


def admin_token(expires_in: timedelta | None = None) -> str:
    """A fresh admin key signed with the test secret."""
    now = utcnow()
    return keys.mint_admin(codec(), now, now + expires_in if expires_in else None).token


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {token}"}


def on_own_loop(server: LiveServer, work: Callable[[Callable[[], UnitOfWork]], Awaitable[T]]) -> T:
    """Run `work(open_uow)` against the server's database on a private loop in a thread."""
    from mindkeeper.storage.engine import create_database
    from mindkeeper.storage.uow import SqlUnitOfWork

    result: list[Any] = []

    async def main() -> None:
        database = create_database(make_settings(server.settings.database_url))
        try:
            result.append(await work(lambda: SqlUnitOfWork(database)))
        finally:
            await database.dispose()

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # handed to the caller
            result.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    value = result[0]
    if isinstance(value, BaseException):
        raise value
    return value  # type: ignore[no-any-return]


def create_access_key(server: LiveServer, account_id: str) -> credentials.NewAccessKey:
    """Create an access key for the account (as `mindkeeper credentials create` does)."""
    box = AesGcmBox(base64.b64decode(CREDENTIALS_KEY))
    return on_own_loop(server, lambda open_uow: credentials.create(open_uow(), box, account_id))


def revoke_key(server: LiveServer, key_or_id: str) -> str:
    """Revoke a bearer key (as `mindkeeper keys revoke` does)."""
    return on_own_loop(
        server, lambda open_uow: keys.revoke(open_uow(), codec(), key_or_id, utcnow())
    )


def boto_client(
    server: LiveServer,
    key_id: str,
    secret: str,
    region: str = REGION,
) -> Any:
    """A real boto3 bedrock-agent-runtime client, without retries."""
    return boto3.client(
        "bedrock-agent-runtime",
        endpoint_url=server.url,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 0, "mode": "standard"}),
    )


class ManualClock:
    """A settable clock (thread-safe: the server runs in another thread)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> None:
        """Move the clock."""
        with self._lock:
            self._now += timedelta(**delta)


@pytest.fixture
def secure(server_factory: Callable[..., LiveServer]) -> LiveServer:
    """A live server with authentication on (no caches: revocations apply at once)."""
    return server_factory(**AUTH_SETTINGS)


@pytest.fixture
def admin_http(secure: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client carrying an admin key."""
    with secure.client(headers=bearer(admin_token())) as client:
        yield client
