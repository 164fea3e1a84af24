"""Fill a live server through its public APIs: every surface, images, sealed sessions, vectors.

Shared by the export/import, console and metrics suites. Everything is made over real HTTP
(raw JSON for Honcho v1 and v3, boto3 for Bedrock), except what only the command line makes
(access keys, revocations), which goes through the same core services as the CLI.
"""

from __future__ import annotations

import asyncio
import base64
import struct
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import httpx
from botocore.config import Config

from mindkeeper.bootstrap import build_runtime
from mindkeeper.core.services import credentials, keys

REGION = "us-east-1"
ACCOUNT = "000000000000"
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
SCRIPT = "<script>document.title='pwned'</script>"


def tiny_png(red: int = 200, green: int = 30, blue: int = 30, side: int = 8) -> bytes:
    """A small solid-colour PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes((red, green, blue)) * side
    raw = zlib.compress(row * side)
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def bedrock(url: str, access_key: str = "AKIDEXAMPLE", secret: str = "x" * 40) -> Any:
    """A boto3 bedrock-agent-runtime client for a server."""
    return boto3.client(
        "bedrock-agent-runtime",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 0, "mode": "standard"}),
    )


def ok(response: httpx.Response) -> Any:
    """The JSON of a 2xx response."""
    assert response.is_success, (response.status_code, response.text)
    return response.json() if response.content else None


@dataclass
class Filled:
    """What `fill` made, by name and id."""

    app: str = ""
    app_name: str = ""
    user: str = ""
    session: str = ""
    message_ids: list[str] = field(default_factory=list)
    collection: str = ""
    workspace: str = ""
    bedrock_session: str = ""
    sealed_session: str = ""
    invocation: str = ""


def fill_v1(http: httpx.Client, messages: int = 5) -> Filled:
    """A v1 app, user, session with messages (one holding a script tag), a metamessage, a
    collection with documents (embedded)."""
    out = Filled(app_name=f"app-{uuid.uuid4().hex[:8]}")
    out.app = ok(http.post("/v1/apps", json={"name": out.app_name, "metadata": {"b": 1, "a": 2}}))[
        "id"
    ]
    base = f"/v1/apps/{out.app}/users"
    out.user = ok(http.post(base, json={"name": "alice", "metadata": {"tier": "gold"}}))["id"]
    sessions = f"{base}/{out.user}/sessions"
    out.session = ok(http.post(sessions, json={"metadata": {"topic": "moving"}}))["id"]
    texts = ["I just moved to Lisbon and I'm learning Portuguese.", SCRIPT] + [
        f"message number {i}" for i in range(max(0, messages - 2))
    ]
    for i, text in enumerate(texts):
        body = {"content": text, "is_user": i % 2 == 0, "metadata": {"n": i}}
        out.message_ids.append(ok(http.post(f"{sessions}/{out.session}/messages", json=body))["id"])
    ok(
        http.post(
            f"{base}/{out.user}/metamessages",
            json={
                "session_id": out.session,
                "message_id": out.message_ids[0],
                "label": "summary",
                "content": "The user moved.",
                "metadata": {},
            },
        )
    )
    collections = f"{base}/{out.user}/collections"
    out.collection = ok(http.post(collections, json={"name": "facts", "metadata": {}}))["id"]
    for content in ("Alice lives in Lisbon", "Alice is learning Portuguese", "Alice has a cat"):
        ok(
            http.post(
                f"{collections}/{out.collection}/documents",
                json={"content": content, "metadata": {"source": "test"}},
            )
        )
    return out


def fill_v3(http: httpx.Client, out: Filled) -> None:
    """A v3 workspace with peers, a session with messages, and conclusions (embedded)."""
    out.workspace = f"ws-{uuid.uuid4().hex[:8]}"
    root = f"/v3/workspaces/{out.workspace}"
    ok(http.post("/v3/workspaces", json={"id": out.workspace, "metadata": {"k": [1, 2]}}))
    for name in ("bob", "assistant"):
        ok(http.post(f"{root}/peers", json={"id": name}))
    ok(http.post(f"{root}/sessions", json={"id": "chat", "peers": {"bob": {}, "assistant": {}}}))
    ok(
        http.post(
            f"{root}/sessions/chat/messages",
            json={
                "messages": [
                    {"peer_id": "bob", "content": "I play the cello in an orchestra."},
                    {"peer_id": "assistant", "content": "That sounds lovely."},
                ]
            },
        )
    )
    ok(
        http.post(
            f"{root}/conclusions",
            json={
                "conclusions": [
                    {"observer_id": "assistant", "observed_id": "bob", "content": c}
                    for c in ("Bob plays the cello", "Bob is in an orchestra")
                ]
            },
        )
    )


def fill_bedrock(url: str, out: Filled, client: Any = None) -> None:
    """A plain Bedrock session with text and image steps, and a sealed one."""
    client = client or bedrock(url)
    out.bedrock_session = client.create_session(sessionMetadata={"user": "carol"})["sessionId"]
    out.invocation = client.create_invocation(
        sessionIdentifier=out.bedrock_session, description="first turn"
    )["invocationId"]
    for i, blocks in enumerate(
        (
            [{"text": "Hello from the agent"}],
            [
                {"text": "Here is a picture"},
                {"image": {"format": "png", "source": {"bytes": tiny_png()}}},
            ],
        )
    ):
        client.put_invocation_step(
            sessionIdentifier=out.bedrock_session,
            invocationIdentifier=out.invocation,
            invocationStepTime=datetime(2025, 3, 1, 12, 0, i, tzinfo=UTC),
            payload={"contentBlocks": blocks},
        )
    out.sealed_session = client.create_session(
        sessionMetadata={"secret": "yes"}, encryptionKeyArn=KMS_KEY
    )["sessionId"]
    invocation = client.create_invocation(sessionIdentifier=out.sealed_session)["invocationId"]
    client.put_invocation_step(
        sessionIdentifier=out.sealed_session,
        invocationIdentifier=invocation,
        invocationStepTime=datetime(2025, 3, 1, 12, 1, 0, tzinfo=UTC),
        payload={"contentBlocks": [{"text": "sealed words"}]},
    )


def fill_keys(settings: Any) -> None:
    """A revoked key id and, when the settings can seal them, an access key: written with the
    core services on a runtime of its own, as the CLI does."""

    async def go() -> None:
        runtime = build_runtime(settings, embedder=None)
        try:
            codec = runtime.security.codec
            await keys.revoke(runtime.uow(), codec, "revoked-key-id", runtime.now())  # type: ignore[arg-type]
            if runtime.security.box is not None:
                await credentials.create(runtime.uow(), runtime.security.box, "123456789012")
        finally:
            await runtime.close()

    asyncio.run(go())


def fill_all(url: str, settings: Any, messages: int = 5) -> Filled:
    """Every surface of a server with authentication off."""
    with httpx.Client(base_url=url, timeout=60) as http:
        out = fill_v1(http, messages)
        fill_v3(http, out)
    fill_bedrock(url, out)
    fill_keys(settings)
    return out


def b64(data: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(data).decode()
