"""Encryption at rest: sessions with `encryptionKeyArn` keep metadata and payloads sealed."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from mindkeeper.providers.keyring import load_keyring
from mindkeeper.storage.tables.agents import agent_sessions, invocation_steps
from tests.bedrock.support import (
    KMS_KEY,
    OTHER_KMS_KEY,
    T0,
    fetch_all,
    make_client,
    new_invocation,
    own_runtime,
    png,
    raises_aws,
    session_arn,
)
from tests.conftest import LiveServer

SECRET_TEXT = "the launch code is 0000-SWORDFISH"
SECRET_META = "patient-record-4711"


def _keyring() -> dict[str, str]:
    return {KMS_KEY: base64.b64encode(os.urandom(32)).decode()}


@pytest.fixture
def sealed(server_factory: Any) -> tuple[LiveServer, Any, dict[str, str]]:
    """A server with one key in its keyring, a client, and the keyring map."""
    keys = _keyring()
    server = server_factory(bedrock_keyring=keys)
    return server, make_client(server.url), keys


def _store_secret(client: Any) -> tuple[str, str, str, bytes]:
    sid = client.create_session(encryptionKeyArn=KMS_KEY, sessionMetadata={"record": SECRET_META})[
        "sessionId"
    ]
    iid = new_invocation(client, sid)
    image = png(5, 5) + SECRET_TEXT.encode()
    step = client.put_invocation_step(
        sessionIdentifier=sid,
        invocationIdentifier=iid,
        invocationStepTime=T0,
        payload={
            "contentBlocks": [
                {"text": SECRET_TEXT},
                {"image": {"format": "png", "source": {"bytes": image}}},
            ]
        },
    )["invocationStepId"]
    return sid, iid, step, image


async def test_encrypted_session_round_trips_and_stores_no_plaintext(
    sealed: tuple[LiveServer, Any, dict[str, str]],
) -> None:
    server, client, _ = sealed
    sid, iid, step, image = await asyncio.to_thread(_store_secret, client)
    got = await asyncio.to_thread(client.get_session, sessionIdentifier=sid)
    assert got["encryptionKeyArn"] == KMS_KEY
    assert got["sessionMetadata"] == {"record": SECRET_META}
    await asyncio.to_thread(
        client.update_session,
        sessionIdentifier=sid,
        sessionMetadata={"record": SECRET_META + "-v2"},
    )
    step_data = await asyncio.to_thread(
        client.get_invocation_step,
        sessionIdentifier=sid,
        invocationIdentifier=iid,
        invocationStepId=step,
    )
    blocks = step_data["invocationStep"]["payload"]["contentBlocks"]
    assert blocks[0] == {"text": SECRET_TEXT}
    assert blocks[1]["image"]["source"]["bytes"] == image

    session_rows = await fetch_all(server, select(agent_sessions))
    step_rows = await fetch_all(server, select(invocation_steps))
    assert len(session_rows) == 1 and len(step_rows) == 1
    dump = repr([tuple(r) for r in session_rows + step_rows]).encode()
    raw = b"".join(
        bytes(v) for r in session_rows + step_rows for v in r if isinstance(v, bytes | memoryview)
    )
    for plaintext in (SECRET_TEXT, SECRET_META, base64.b64encode(image).decode(), "record"):
        assert plaintext.encode() not in raw
        assert plaintext.encode() not in dump
    assert bytes(step_rows[0].payload)[:1] == b"\x01"  # sealed format version


async def test_unencrypted_sessions_store_the_payload_json_as_received(
    server: LiveServer,
) -> None:
    client = make_client(server.url)

    def store() -> None:
        sid = client.create_session()["sessionId"]
        iid = new_invocation(client, sid)
        client.put_invocation_step(
            sessionIdentifier=sid,
            invocationIdentifier=iid,
            invocationStepTime=T0,
            payload={"contentBlocks": [{"text": "plain"}]},
        )

    await asyncio.to_thread(store)
    [row] = await fetch_all(server, select(invocation_steps.c.payload))
    assert json.loads(bytes(row.payload)) == {"contentBlocks": [{"text": "plain"}]}


def test_unknown_key_is_a_validation_error(
    sealed: tuple[LiveServer, Any, dict[str, str]],
) -> None:
    _, client, _ = sealed
    with raises_aws("ValidationException", 400, match="keyring"):
        client.create_session(encryptionKeyArn=OTHER_KMS_KEY)
    for bad in ("alias/my-key", "arn:aws:kms:us-east-1:000000000000:alias/my-key"):
        with raises_aws("ValidationException", 400, match="encryptionKeyArn"):
            client.create_session(encryptionKeyArn=bad)


async def test_a_removed_key_denies_access_to_the_sealed_data(
    sealed: tuple[LiveServer, Any, dict[str, str]], server_factory: Any
) -> None:
    _, client, _ = sealed
    sid, iid, step, _ = await asyncio.to_thread(_store_secret, client)
    keyless = make_client(server_factory(bedrock_keyring={}).url)
    with raises_aws("AccessDeniedException", 403, match="not available"):
        await asyncio.to_thread(keyless.get_session, sessionIdentifier=sid)
    with raises_aws("AccessDeniedException", 403):
        await asyncio.to_thread(
            keyless.get_invocation_step,
            sessionIdentifier=sid,
            invocationIdentifier=iid,
            invocationStepId=step,
        )
    with raises_aws("AccessDeniedException", 403):
        await asyncio.to_thread(
            keyless.put_invocation_step,
            sessionIdentifier=sid,
            invocationIdentifier=iid,
            invocationStepTime=T0,
            payload={"contentBlocks": [{"text": "no key, no write"}]},
        )
    # Listing needs no plaintext and still works.
    listed = await asyncio.to_thread(keyless.list_invocation_steps, sessionIdentifier=sid)
    assert [s["invocationStepId"] for s in listed["invocationStepSummaries"]] == [step]


async def test_a_sealed_blob_moved_to_another_session_fails_its_integrity_check(
    sealed: tuple[LiveServer, Any, dict[str, str]],
) -> None:
    server, client, _ = sealed
    first, *_ = await asyncio.to_thread(_store_secret, client)
    second, iid, step, _ = await asyncio.to_thread(_store_secret, client)
    first_meta = select(agent_sessions.c.metadata).where(agent_sessions.c.public_id == first)
    [(blob,)] = await fetch_all(server, first_meta)
    async with own_runtime(server) as runtime, runtime.database.engine.begin() as conn:
        await conn.execute(
            update(agent_sessions)
            .where(agent_sessions.c.public_id == second)
            .values(metadata=bytes(blob))
        )
        await conn.execute(
            update(invocation_steps)
            .where(invocation_steps.c.public_id == step)
            .values(payload=b"\x01" + b"\x00" * 40)
        )
    with raises_aws("InternalServerException", 500) as error:
        await asyncio.to_thread(client.get_session, sessionIdentifier=second)
    assert error["reason"] == "DataIntegrity"
    with raises_aws("InternalServerException", 500):
        await asyncio.to_thread(
            client.get_invocation_step,
            sessionIdentifier=session_arn(second),
            invocationIdentifier=iid,
            invocationStepId=step,
        )
    assert (await asyncio.to_thread(client.get_session, sessionIdentifier=first))[
        "sessionMetadata"
    ] == {"record": SECRET_META}


def test_keyring_file_is_loaded_and_settings_win(tmp_path: Path, server_factory: Any) -> None:
    file_key, settings_key = os.urandom(32), os.urandom(32)
    path = tmp_path / "keyring.json"
    path.write_text(
        json.dumps(
            {
                KMS_KEY: base64.b64encode(file_key).decode(),
                OTHER_KMS_KEY: base64.b64encode(file_key).decode(),
            }
        )
    )
    keyring = load_keyring({KMS_KEY: base64.b64encode(settings_key).decode()}, path)
    assert keyring.knows(KMS_KEY) and keyring.knows(OTHER_KMS_KEY)
    sealed = keyring.seal(KMS_KEY, b"x", b"ctx")
    assert (
        load_keyring({KMS_KEY: base64.b64encode(settings_key).decode()}).open(
            KMS_KEY, sealed, b"ctx"
        )
        == b"x"
    )
    server = server_factory(bedrock_keyring_file=path)
    client = make_client(server.url)
    sid = client.create_session(encryptionKeyArn=OTHER_KMS_KEY, sessionMetadata={"a": "b"})
    assert client.get_session(sessionIdentifier=sid["sessionId"])["sessionMetadata"] == {"a": "b"}


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"alias/x": base64.b64encode(b"k" * 32).decode()}, "not a KMS key ARN"),
        ({KMS_KEY: "not base64!"}, "not valid base64"),
        ({KMS_KEY: base64.b64encode(b"short").decode()}, "32 bytes"),
    ],
)
def test_bad_keyring_entries_fail_at_start(entries: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_keyring(entries)
