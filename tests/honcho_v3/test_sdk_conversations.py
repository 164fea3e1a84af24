"""The real honcho-ai 2.7.0 SDK (sync and async clients) over real HTTP: every method of the
workspace, peer, session and message routes."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.conftest import LiveServer
from tests.honcho_v3.sdk import SdkRunner
from tests.honcho_v3.support import expect, uid, wait_for, ws_url

SYNC_SCRIPT = """
from honcho.api_types import PeerConfig, SessionPeerConfig
from honcho.api_types import MessageCreateParams

h = client()
out = {}
h.set_metadata({"team": "a"})
out["ws_metadata"] = h.get_metadata()
h.set_configuration({"dream": {"enabled": False}})
out["ws_configuration"] = h.get_configuration().model_dump(exclude_none=True)
h.refresh()

alice = h.peer("alice", metadata={"role": "user"}, configuration=PeerConfig(observe_me=True))
out["alice"] = [alice.id, alice.metadata, alice.uid is not None]
bob = h.peer("bob")
bob.set_metadata({"role": "agent"})
out["bob_metadata"] = bob.get_metadata()
bob.set_configuration(PeerConfig(observe_me=False))
out["bob_configuration"] = bob.get_configuration().model_dump()
bob.refresh()
out["peers"] = [p.id for p in h.peers()]
out["peers_filtered"] = [p.id for p in h.peers(filters={"metadata": {"role": "agent"}})]
out["peers_reverse"] = [p.id for p in h.peers(size=1, reverse=True).items]
out["peers_all_pages"] = [p.id for p in h.peers(size=1)]

session = h.session(
    "s1",
    metadata={"topic": "x"},
    peers=[alice, ("bob", SessionPeerConfig(observe_others=True))],
)
out["session"] = [session.id, session.is_active, session.metadata]
session.set_metadata({"topic": "y"})
out["session_metadata"] = session.get_metadata()
session.set_configuration({"summary": {"enabled": False}})
out["session_configuration"] = session.get_configuration().model_dump(exclude_none=True)
session.refresh()
out["members"] = [p.id for p in session.peers()]
session.add_peers(["carol"])
session.remove_peers("carol")
out["members_after_remove"] = [p.id for p in session.peers()]
session.set_peers([("alice", SessionPeerConfig(observe_me=False)), "bob"])
out["alice_config"] = session.get_peer_configuration("alice").model_dump()
session.set_peer_configuration(bob, SessionPeerConfig(observe_others=True))
out["bob_config"] = session.get_peer_configuration(bob).model_dump()

made = session.add_messages(
    [
        alice.message("hello there", metadata={"n": 1}),
        bob.message("hi", created_at="2024-01-01T00:00:00Z"),
        MessageCreateParams(peer_id="alice", content="bye"),
    ]
)
out["made"] = [[m.peer_id, m.content, m.token_count, m.session_id] for m in made]
out["backdated"] = made[1].created_at.isoformat()
out["listed"] = [m.content for m in session.messages()]
out["listed_reverse"] = [m.content for m in session.messages(size=2, reverse=True).items]
out["listed_filtered"] = [m.content for m in session.messages(filters={"peer_id": "bob"})]
got = session.get_message(made[0].id)
out["got"] = [got.id == made[0].id, got.metadata]
updated = session.update_message(made[0], {"n": 2})
out["updated"] = updated.metadata
uploaded = session.upload_file(
    ("notes.txt", b"file text", "text/plain"), "alice", metadata={"f": 1}
)
out["uploaded"] = [[m.content, m.peer_id, m.metadata] for m in uploaded]

clone = session.clone()
out["clone"] = [clone.id != "s1", [m.content for m in clone.messages()]]
cut = session.clone(message_id=made[0].id)
out["cut"] = [m.content for m in cut.messages()]
out["sessions"] = sorted(s.id for s in h.sessions())
out["alice_sessions"] = sorted(s.id for s in alice.sessions())
out["alice_sessions_filtered"] = [s.id for s in alice.sessions(filters={"id": "s1"})]

cut.delete()
listed_now = [s.id for s in h.sessions()]
out["after_delete"] = "s1" in listed_now and cut.id not in listed_now
out["workspaces"] = PARAMS["workspace"] in list(h.workspaces(size=100))
observer = SessionPeerConfig(observe_others=True)
out["errors"] = [
    errors(lambda: h.session("s1", peers=[(f"p{i}", observer) for i in range(11)])),
    errors(lambda: session.get_message("nope")),
    errors(lambda: h.peer("a b")),
]
emit(out)
"""


def test_sync_client(sdk: SdkRunner, http: httpx.Client) -> None:
    workspace = uid("ws")
    out = sdk.run(SYNC_SCRIPT, workspace=workspace)
    assert out["ws_metadata"] == {"team": "a"}
    assert out["ws_configuration"] == {"dream": {"enabled": False}}
    assert out["alice"] == ["alice", {"role": "user"}, True]
    assert out["bob_metadata"] == {"role": "agent"}
    assert out["bob_configuration"] == {"observe_me": False}
    assert out["peers"] == ["alice", "bob"]
    assert out["peers_filtered"] == ["bob"]
    assert out["peers_reverse"] == ["bob"]
    assert out["peers_all_pages"] == ["alice", "bob"]
    assert out["session"] == ["s1", True, {"topic": "x"}]
    assert out["session_metadata"] == {"topic": "y"}
    assert out["session_configuration"] == {"summary": {"enabled": False}}
    assert out["members"] == ["alice", "bob"]
    assert out["members_after_remove"] == ["alice", "bob"]
    assert out["alice_config"] == {"observe_me": False, "observe_others": None}
    assert out["bob_config"] == {"observe_me": None, "observe_others": True}
    assert out["made"] == [
        ["alice", "hello there", 2, "s1"],
        ["bob", "hi", 1, "s1"],
        ["alice", "bye", 1, "s1"],
    ]
    assert out["backdated"] == "2024-01-01T00:00:00+00:00"
    assert out["listed"] == ["hello there", "hi", "bye"]
    assert out["listed_reverse"] == ["bye", "hi"]
    assert out["listed_filtered"] == ["hi"]
    assert out["got"] == [True, {"n": 1}]
    assert out["updated"] == {"n": 2}
    assert out["uploaded"] == [["file text", "alice", {"f": 1}]]
    assert out["clone"] == [True, ["hello there", "hi", "bye", "file text"]]
    assert out["cut"] == ["hello there"]
    assert len(out["sessions"]) == 3 and "s1" in out["sessions"]
    assert out["alice_sessions"] == out["sessions"]
    assert out["alice_sessions_filtered"] == ["s1"]
    assert out["after_delete"] is True
    assert out["workspaces"] is True
    assert out["errors"] == [
        ["BadRequestError", 400],
        ["NotFoundError", 404],
        ["UnprocessableEntityError", 422],
    ]


ASYNC_SCRIPT = """
from honcho.api_types import PeerConfig, SessionConfiguration, SessionPeerConfig
from honcho.api_types import WorkspaceConfiguration

async def main():
    h = aclient()
    out = {}
    await h.set_metadata({"team": "b"})
    out["ws_metadata"] = await h.get_metadata()
    await h.set_configuration(WorkspaceConfiguration.model_validate({"dream": {"enabled": True}}))
    out["ws_configuration"] = (await h.get_configuration()).model_dump(exclude_none=True)
    await h.refresh()
    alice = await h.peer("alice", metadata={"r": 1})
    pa = alice.aio
    await pa.set_metadata({"r": 2})
    out["alice_metadata"] = await pa.get_metadata()
    await pa.set_configuration(PeerConfig(observe_me=True))
    out["alice_configuration"] = (await pa.get_configuration()).model_dump()
    await pa.refresh()
    out["peers"] = [p.id async for p in await h.peers()]
    session = await h.session("s1", peers=["alice", ("bob", SessionPeerConfig(observe_me=False))])
    sa = session.aio
    await sa.set_metadata({"k": 1})
    out["session_metadata"] = await sa.get_metadata()
    await sa.set_configuration(
        SessionConfiguration.model_validate({"reasoning": {"enabled": False}})
    )
    out["session_configuration"] = (await sa.get_configuration()).model_dump(exclude_none=True)
    await sa.refresh()
    await sa.add_peers("carol")
    await sa.remove_peers(["carol"])
    await sa.set_peers(["alice", "bob"])
    out["members"] = [p.id for p in await sa.peers()]
    await sa.set_peer_configuration("alice", SessionPeerConfig(observe_others=True))
    out["alice_config"] = (await sa.get_peer_configuration("alice")).model_dump()
    made = await sa.add_messages([alice.message("one"), alice.message("two")])
    out["made"] = [m.content for m in made]
    out["listed"] = [m.content async for m in await sa.messages(size=1)]
    got = await sa.get_message(made[1].id)
    out["got"] = got.content
    out["updated"] = (await sa.update_message(made[1].id, {"x": True})).metadata
    uploaded = await sa.upload_file(("d.json", b'{"a": 1}', "application/json"), alice)
    out["uploaded"] = [m.peer_id for m in uploaded]
    clone = await sa.clone(message_id=made[0].id)
    out["clone"] = [m.content async for m in await clone.aio.messages()]
    out["sessions"] = sorted([s.id async for s in await h.sessions()])
    out["alice_sessions"] = sorted([s.id async for s in await pa.sessions()])
    await clone.aio.delete()
    out["workspaces"] = PARAMS["workspace"] in [w async for w in await h.workspaces(size=100)]
    out["delete_missing"] = None
    try:
        await h.delete_workspace(PARAMS["missing"])
    except Exception as exc:
        out["delete_missing"] = [type(exc).__name__, exc.status]
    emit(out)
"""


def test_async_client(sdk: SdkRunner) -> None:
    workspace = uid("ws")
    out = sdk.run(ASYNC_SCRIPT, workspace=workspace, missing=uid())
    assert out["ws_metadata"] == {"team": "b"}
    assert out["ws_configuration"] == {"dream": {"enabled": True}}
    assert out["alice_metadata"] == {"r": 2}
    assert out["alice_configuration"] == {"observe_me": True}
    assert out["peers"] == ["alice"]
    assert out["session_metadata"] == {"k": 1}
    assert out["session_configuration"] == {"reasoning": {"enabled": False}}
    assert out["members"] == ["alice", "bob"]
    assert out["alice_config"] == {"observe_me": None, "observe_others": True}
    assert out["made"] == ["one", "two"]
    assert out["listed"] == ["one", "two"]
    assert out["got"] == "two"
    assert out["updated"] == {"x": True}
    assert out["uploaded"] == ["alice"]
    assert out["clone"] == ["one"]
    assert len(out["sessions"]) == 2 and "s1" in out["sessions"]
    assert out["alice_sessions"] == out["sessions"]
    assert out["workspaces"] is True
    assert out["delete_missing"] == ["NotFoundError", 404]


DELETE_SCRIPT = """
h = client()
h.delete_workspace(PARAMS["workspace"])
emit(errors(lambda: h.delete_workspace(PARAMS["missing"])))
"""


def test_delete_workspace(sdk: SdkRunner, http: httpx.Client) -> None:
    workspace = uid("ws")
    expect(http.post(ws_url(workspace, "peers"), json={"id": "p"}), 201)
    assert sdk.run(DELETE_SCRIPT, workspace=workspace, missing=uid()) == ["NotFoundError", 404]

    def gone() -> bool:
        return expect(http.post(ws_url(workspace, "peers", "list")), 200)["total"] == 0

    wait_for(gone, "the workspace to be removed")


def test_harness_reuses_the_installed_sdk(
    honcho_sdk_dir: object, server_factory: Callable[..., LiveServer]
) -> None:
    from tests.honcho_v3.sdk import SDK_DIR, ensure_sdk

    assert ensure_sdk() == SDK_DIR == honcho_sdk_dir
