"""Helpers of the Bedrock suite: boto3 clients, a manual clock, tiny images, error assertions."""

from __future__ import annotations

import re
import struct
import threading
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT = "000000000000"
KMS_KEY = "arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555"
OTHER_KMS_KEY = "arn:aws:kms:us-east-1:000000000000:key/99999999-8888-7777-6666-555555555555"
#: Server timestamps: ISO 8601 UTC, microseconds, `Z`.
SERVER_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
UUID = re.compile(r"^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$")
T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def make_client(url: str, region: str = REGION) -> Any:
    """A real boto3 bedrock-agent-runtime client for a server; no retries, so errors surface."""
    return boto3.client(
        "bedrock-agent-runtime",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        config=Config(retries={"max_attempts": 0, "mode": "standard"}),
    )


def session_arn(session_id: str, region: str = REGION, account: str = ACCOUNT) -> str:
    """The ARN the server gives a session of the default account."""
    return f"arn:aws:bedrock:{region}:{account}:session/{session_id}"


@contextmanager
def raises_aws(code: str, status: int, match: str | None = None) -> Iterator[dict[str, Any]]:
    """Expect a ClientError with that code and HTTP status; yields the error response."""
    holder: dict[str, Any] = {}
    with pytest.raises(ClientError) as info:
        yield holder
    response = info.value.response
    holder.update(response)
    assert response["Error"]["Code"] == code, response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status, response
    assert response["ResponseMetadata"]["RequestId"], response
    if match is not None:
        assert re.search(match, response["Error"]["Message"]), response["Error"]["Message"]


class ManualClock:
    """A clock that moves only when told to; safe to read from the server thread."""

    def __init__(self, start: datetime = T0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        """Move forward by a timedelta's keyword arguments; return the new time."""
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


def new_session(client: Any, **kwargs: Any) -> str:
    """Create a session and return its id."""
    return str(client.create_session(**kwargs)["sessionId"])


def new_invocation(client: Any, session_id: str, **kwargs: Any) -> str:
    """Create an invocation and return its id."""
    return str(client.create_invocation(sessionIdentifier=session_id, **kwargs)["invocationId"])


def put_text(
    client: Any, session_id: str, invocation_id: str, text: str, at: datetime = T0, **kw: Any
) -> str:
    """Put a one-text-block step; return its id."""
    return str(
        client.put_invocation_step(
            sessionIdentifier=session_id,
            invocationIdentifier=invocation_id,
            invocationStepTime=at,
            payload={"contentBlocks": [{"text": text}]},
            **kw,
        )["invocationStepId"]
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG of that size (black pixels), built with zlib and struct."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x00" * (3 * width) for _ in range(min(height, 4)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw))
        + _png_chunk(b"IEND", b"")
    )


def jpeg(width: int = 2, height: int = 2) -> bytes:
    """JPEG markers up to a baseline SOF0 frame header of that size (header-valid, no scan)."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def gif(width: int = 1, height: int = 1) -> bytes:
    """A GIF89a header and logical screen descriptor of that size."""
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00;"


def webp(width: int = 1, height: int = 1) -> bytes:
    """A RIFF/WEBP container with a VP8X chunk declaring that canvas size."""
    vp8x = (
        b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    )
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


@asynccontextmanager
async def own_runtime(server: Any, clock: Any = None) -> AsyncIterator[Any]:
    """A runtime of its own over the server's database, bound to the caller's event loop.

    The live server's pool belongs to the server thread's loop (asyncpg connections cannot
    move between loops), so tests read rows and run services through a second runtime, like
    a second process sharing the database.
    """
    from mindkeeper.bootstrap import build_runtime

    kwargs: dict[str, Any] = {"embedder": None}
    if clock is not None:
        kwargs["clock"] = clock
    runtime = build_runtime(server.settings, **kwargs)
    try:
        yield runtime
    finally:
        await runtime.close()


async def fetch_all(server: Any, statement: Any) -> list[Any]:
    """Run a statement on the server's database through the runtime's engine; return the rows."""
    async with own_runtime(server) as runtime, runtime.database.engine.connect() as conn:
        return list((await conn.execute(statement)).all())
