"""Encryption at rest: sessions with `encryptionKeyArn` keep metadata and payloads sealed."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from mindkeeper.providers.keyring import load_keyring
from mindkeeper.providers.master_key import master_key_path
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
#: Any well-formed key ARN of the caller's account works without a keyring (default mode).
DEFAULT_MODE_KEY = "arn:aws:kms:eu-west-1:000000000000:key/0a1b2c3d-0000-4000-8000-00000000abcd"
FOREIGN_KEY = "arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555"


def _keyring() -> dict[str, str]:
    return {KMS_KEY: base64.b64encode(os.urandom(32)).decode()}


@pytest.fixture
def sealed(server_factory: Any) -> tuple[LiveServer, Any, dict[str, str]]:
    """A server with one key in its keyring, a client, and the keyring map."""
    keys = _keyring()
    server = server_factory(bedrock_keyring=keys)
    return server, make_client(server.url), keys


def _store_secret(client: Any, key: str = KMS_KEY) -> tuple[str, str, str, bytes]:
    sid = client.create_session(encryptionKeyArn=key, sessionMetadata={"record": SECRET_META})[
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
    sealed: tuple[LiveServer, Any, dict[str, str]], server_factory: Any, tmp_path: Path
) -> None:
    _, client, _ = sealed
    sid, iid, step, _ = await asyncio.to_thread(_store_secret, client)
    # No keyring configured: default mode, whose derived keys cannot open configured-key data.
    keyless = make_client(server_factory(bedrock_keyring={}, data_dir=tmp_path / "data").url)
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
    with raises_aws("AccessDeniedException", 403):
        await asyncio.to_thread(
            keyless.update_session, sessionIdentifier=sid, sessionMetadata={"a": "b"}
        )
    assert not (tmp_path / "data").exists()  # nothing needed the master key


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


@pytest.fixture
def default_mode(server_factory: Any, tmp_path: Path) -> tuple[LiveServer, Any, Path]:
    """A server with no keyring configured, a client, and the server's data directory."""
    data_dir = tmp_path / "data"
    server = server_factory(data_dir=data_dir)
    return server, make_client(server.url), data_dir


async def _raw_rows(server: LiveServer) -> tuple[list[Any], list[Any], bytes]:
    """The stored session and step rows, and every byte of them."""
    session_rows = await fetch_all(server, select(agent_sessions))
    step_rows = await fetch_all(server, select(invocation_steps))
    rows = session_rows + step_rows
    dump = repr([tuple(r) for r in rows]).encode()
    raw = b"".join(bytes(v) for r in rows for v in r if isinstance(v, bytes | memoryview))
    return session_rows, step_rows, dump + raw


async def test_default_mode_seals_with_a_key_derived_from_the_local_master_key(
    default_mode: tuple[LiveServer, Any, Path],
) -> None:
    server, client, data_dir = default_mode
    master = master_key_path(data_dir)
    assert not master.exists()  # created the first time something is sealed
    sid, iid, step, image = await asyncio.to_thread(_store_secret, client, DEFAULT_MODE_KEY)
    assert stat.S_IMODE(master.stat().st_mode) == 0o600
    assert stat.S_IMODE(master.parent.stat().st_mode) == 0o700

    got = await asyncio.to_thread(client.get_session, sessionIdentifier=sid)
    assert got["encryptionKeyArn"] == DEFAULT_MODE_KEY
    assert got["sessionMetadata"] == {"record": SECRET_META}
    step_data = await asyncio.to_thread(
        client.get_invocation_step,
        sessionIdentifier=sid,
        invocationIdentifier=iid,
        invocationStepId=step,
    )
    blocks = step_data["invocationStep"]["payload"]["contentBlocks"]
    assert blocks[0] == {"text": SECRET_TEXT}
    assert blocks[1]["image"]["source"]["bytes"] == image
    await asyncio.to_thread(
        client.update_session, sessionIdentifier=sid, sessionMetadata={"record": "v2"}
    )
    got = await asyncio.to_thread(client.get_session, sessionIdentifier=sid)
    assert got["sessionMetadata"] == {"record": "v2"}

    session_rows, step_rows, stored = await _raw_rows(server)
    assert len(session_rows) == 1 and len(step_rows) == 1
    for plaintext in (SECRET_TEXT, SECRET_META, base64.b64encode(image).decode(), "record"):
        assert plaintext.encode() not in stored
    assert master.read_bytes() not in stored  # the master key never reaches the database
    assert bytes(session_rows[0].metadata)[:1] == b"\x02"  # sealed under a derived key
    assert bytes(step_rows[0].payload)[:1] == b"\x02"


async def test_default_mode_keys_live_in_the_data_directory(
    default_mode: tuple[LiveServer, Any, Path], server_factory: Any, tmp_path: Path
) -> None:
    _, client, data_dir = default_mode
    sid, iid, _, _ = await asyncio.to_thread(_store_secret, client, DEFAULT_MODE_KEY)
    # Another process over the same database and data directory reads and writes it.
    again = make_client(server_factory(data_dir=data_dir).url)
    got = await asyncio.to_thread(again.get_session, sessionIdentifier=sid)
    assert got["sessionMetadata"] == {"record": SECRET_META}
    await asyncio.to_thread(
        again.put_invocation_step,
        sessionIdentifier=sid,
        invocationIdentifier=iid,
        invocationStepTime=T0,
        payload={"contentBlocks": [{"text": "from the second process"}]},
    )
    # A server whose data directory holds another master key cannot open it.
    elsewhere = make_client(server_factory(data_dir=tmp_path / "elsewhere").url)
    await asyncio.to_thread(elsewhere.create_session, encryptionKeyArn=DEFAULT_MODE_KEY)
    with raises_aws("AccessDeniedException", 403, match="another master key"):
        await asyncio.to_thread(elsewhere.get_session, sessionIdentifier=sid)
    # A configured keyring stays strict, but still opens what the master key sealed.
    keys = {KMS_KEY: base64.b64encode(os.urandom(32)).decode()}
    strict = make_client(server_factory(bedrock_keyring=keys, data_dir=data_dir).url)
    got = await asyncio.to_thread(strict.get_session, sessionIdentifier=sid)
    assert got["sessionMetadata"] == {"record": SECRET_META}
    with raises_aws("AccessDeniedException", 403, match="not available"):
        await asyncio.to_thread(
            strict.put_invocation_step,
            sessionIdentifier=sid,
            invocationIdentifier=iid,
            invocationStepTime=T0,
            payload={"contentBlocks": [{"text": "no configured key, no write"}]},
        )
    with raises_aws("ValidationException", 400, match="keyring"):
        await asyncio.to_thread(strict.create_session, encryptionKeyArn=DEFAULT_MODE_KEY)


def test_a_key_of_another_account_is_refused_in_both_modes(
    server_factory: Any, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    default = make_client(server_factory(data_dir=data_dir).url)
    keys = {FOREIGN_KEY: base64.b64encode(os.urandom(32)).decode()}
    strict = make_client(server_factory(bedrock_keyring=keys, data_dir=data_dir).url)
    for client in (default, strict):
        with raises_aws("ValidationException", 400, match="caller's account 000000000000"):
            client.create_session(encryptionKeyArn=FOREIGN_KEY)
    assert default.list_sessions()["sessionSummaries"] == []
    assert not data_dir.exists()


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
