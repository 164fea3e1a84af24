"""Sessions: get or create with peers, update, list, delete in two phases, clone."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.conftest import LiveServer
from tests.honcho_v3.support import (
    MESSAGE_KEYS,
    PAGE_KEYS,
    PUBLIC_ID,
    SESSION_KEYS,
    detail,
    expect,
    new_workspace,
    post_messages,
    uid,
    wait_for,
    ws_url,
)

OBSERVERS_MESSAGE = (
    "Cannot create session {s} with {n} observers. Maximum allowed is 10 observers per "
    "session. Observers are peers with 'observe_others' set to true."
)


def _members(http: httpx.Client, workspace: str, session: str) -> list[str]:
    page = expect(http.get(ws_url(workspace, "sessions", session, "peers")), 200)
    return [p["id"] for p in page["items"]]


def test_get_or_create_with_peers(http: httpx.Client) -> None:
    workspace = uid("ws")
    body = {
        "id": "s1",
        "metadata": {"topic": "x"},
        "configuration": {"reasoning": {"enabled": False}, "custom": 1},
        "peers": {"alice": {"observe_me": False}, "bob": {"observe_others": True}},
    }
    session = expect(http.post(ws_url(workspace, "sessions"), json=body), 201)
    assert list(session) == SESSION_KEYS
    assert session["id"] == "s1" and session["is_active"] is True
    assert session["workspace_id"] == workspace
    assert session["metadata"] == {"topic": "x"}
    assert session["configuration"] == {"reasoning": {"enabled": False}, "custom": 1}
    assert _members(http, workspace, "s1") == ["alice", "bob"]
    config = expect(http.get(ws_url(workspace, "sessions", "s1", "peers", "alice", "config")), 200)
    assert config == {"observe_me": False, "observe_others": None}
    # Existing: metadata replaced, configuration merged at the top level, peers added.
    again = expect(
        http.post(
            ws_url(workspace, "sessions"),
            json={
                "id": "s1",
                "configuration": {"reasoning": {"custom_instructions": "be brief"}},
                "peers": {"carol": {}},
            },
        ),
        200,
    )
    assert again["metadata"] == {"topic": "x"}
    assert again["configuration"] == {
        "reasoning": {"custom_instructions": "be brief"},
        "custom": 1,
    }
    assert _members(http, workspace, "s1") == ["alice", "bob", "carol"]
    same = expect(http.post(ws_url(workspace, "sessions"), json={"id": "s1", "metadata": {}}), 200)
    assert same["metadata"] == {} and same["created_at"] == session["created_at"]


def test_body_validation(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    url = ws_url(workspace, "sessions")
    assert detail(http.post(url, json={"id": "s", "peers": ["a"]}), 422)[0]["type"] == "dict_type"
    errors = detail(http.post(url, json={"id": "s", "peers": {"a b": {}}}), 422)
    assert errors[0]["type"] == "string_pattern_mismatch"
    assert errors[0]["loc"][:3] == ["body", "peers", "a b"]
    errors = detail(
        http.post(
            url,
            json={
                "id": "s",
                "configuration": {
                    "summary": {"messages_per_short_summary": 30, "messages_per_long_summary": 20}
                },
            },
        ),
        422,
    )
    assert errors[0]["msg"] == (
        "Value error, messages_per_short_summary must be less than messages_per_long_summary"
    )
    errors = detail(http.post(url, json={"id": "s", "peers": {"a": {"observe_me": "x"}}}), 422)
    assert errors[0]["type"] == "bool_parsing"


def test_observer_limit(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    url = ws_url(workspace, "sessions")
    ten = {f"p{i}": {"observe_others": True} for i in range(10)}
    expect(http.post(url, json={"id": "s1", "peers": ten}), 201)
    # One more observer, counted with the ten not named in the request.
    assert detail(
        http.post(url, json={"id": "s1", "peers": {"extra": {"observe_others": True}}}), 400
    ) == OBSERVERS_MESSAGE.format(s="s1", n=11)
    eleven = {f"p{i}": {"observe_others": True} for i in range(11)}
    assert detail(http.post(url, json={"id": "s2", "peers": eleven}), 400) == (
        OBSERVERS_MESSAGE.format(s="s2", n=11)
    )
    expect(http.post(url, json={"id": "s2"}), 201)  # nothing of the refused request stayed
    assert _members(http, workspace, "s2") == []
    # Updates count the same way.
    assert detail(http.put(ws_url(workspace, "sessions", "s2", "peers"), json=eleven), 400) == (
        OBSERVERS_MESSAGE.format(s="s2", n=11)
    )
    expect(http.post(url, json={"id": "s1", "peers": {"extra": {"observe_others": False}}}), 200)
    assert (
        http.put(
            ws_url(workspace, "sessions", "s1", "peers", "extra", "config"),
            json={"observe_others": True},
        ).status_code
        == 400
    )


def test_list_shows_active_sessions_in_creation_order(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    for name in ("a", "b", "c", "d"):
        expect(http.post(ws_url(workspace, "sessions"), json={"id": name}), 201)
    expect(http.delete(ws_url(workspace, "sessions", "b")), 202)
    url = ws_url(workspace, "sessions", "list")
    page = expect(http.post(url), 200)
    assert list(page) == PAGE_KEYS
    assert [s["id"] for s in page["items"]] == ["a", "c", "d"]
    page = expect(http.post(url, params={"reverse": "true", "size": 2}, json={}), 200)
    assert [s["id"] for s in page["items"]] == ["d", "c"]
    assert (page["total"], page["pages"]) == (3, 2)
    assert expect(http.post(ws_url(uid(), "sessions", "list")), 200)["total"] == 0


def test_put_creates_merges_and_refuses_deleted(http: httpx.Client) -> None:
    workspace = uid("ws")
    url = ws_url(workspace, "sessions", "s1")
    created = expect(http.put(url, json={"metadata": {"a": 1}}), 200)
    assert list(created) == SESSION_KEYS and created["metadata"] == {"a": 1}
    merged = expect(http.put(url, json={"configuration": {"dream": {"enabled": False}}}), 200)
    assert merged["metadata"] == {"a": 1}
    assert merged["configuration"] == {"dream": {"enabled": False}}
    errors = detail(http.put(ws_url(workspace, "sessions", "a%20b"), json={}), 422)
    assert errors[0]["loc"] == ["path", "session_id"]


def test_delete_is_two_phase(server_factory: Callable[..., LiveServer]) -> None:
    server = server_factory(worker_enabled=False)
    with server.client() as http:
        workspace = new_workspace(http)
        created = post_messages(http, workspace, "s1", ("alice", "one"), ("bob", "two"))
        gone = f"Session s1 not found in workspace {workspace}"
        assert expect(http.delete(ws_url(workspace, "sessions", "s1")), 202) == {
            "message": "Session deleted successfully"
        }
        # Writes answer 404 at once.
        assert detail(http.delete(ws_url(workspace, "sessions", "s1")), 404) == gone
        assert detail(http.post(ws_url(workspace, "sessions"), json={"id": "s1"}), 404) == gone
        assert detail(http.put(ws_url(workspace, "sessions", "s1"), json={}), 404) == gone
        assert detail(http.post(ws_url(workspace, "sessions", "s1", "peers"), json={}), 404) == gone
        assert detail(http.put(ws_url(workspace, "sessions", "s1", "peers"), json={}), 404) == gone
        assert (
            detail(
                http.request("DELETE", ws_url(workspace, "sessions", "s1", "peers"), json=[]), 404
            )
            == gone
        )
        body = {"messages": [{"peer_id": "alice", "content": "x"}]}
        assert (
            detail(http.post(ws_url(workspace, "sessions", "s1", "messages"), json=body), 404)
            == gone
        )
        assert detail(http.post(ws_url(workspace, "sessions", "s1", "clone")), 404) == (
            "Original session not found"
        )
        config_url = ws_url(workspace, "sessions", "s1", "peers", "alice", "config")
        assert detail(http.put(config_url, json={"observe_me": True}), 404) == gone
        # Reads keep working until the session is removed.
        assert expect(http.post(ws_url(workspace, "sessions", "list")), 200)["total"] == 0
        page = expect(http.post(ws_url(workspace, "sessions", "s1", "messages", "list")), 200)
        assert [m["id"] for m in page["items"]] == [m["id"] for m in created]
        message_url = ws_url(workspace, "sessions", "s1", "messages", created[0]["id"])
        expect(http.get(message_url), 200)
        assert _members(http, workspace, "s1") == ["alice", "bob"]
        expect(http.get(config_url), 200)
        # The workspace can go: its only session is being deleted.
        expect(http.delete(f"/v3/workspaces/{workspace}"), 202)


def test_deleted_session_is_removed_and_its_name_reusable(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    created = post_messages(http, workspace, "s1", ("alice", "one"))
    expect(
        http.post(ws_url(workspace, "sessions"), json={"id": "keep", "peers": {"alice": {}}}), 201
    )
    expect(http.delete(ws_url(workspace, "sessions", "s1")), 202)

    def removed() -> bool:
        return http.post(ws_url(workspace, "sessions"), json={"id": "s1"}).status_code == 201

    wait_for(removed, "the session to be removed")
    page = expect(http.post(ws_url(workspace, "sessions", "s1", "messages", "list")), 200)
    assert page["total"] == 0
    message_url = ws_url(workspace, "sessions", "s1", "messages", created[0]["id"])
    assert detail(http.get(message_url), 404) == f"Message with ID {created[0]['id']} not found"
    sessions = expect(http.post(ws_url(workspace, "peers", "alice", "sessions")), 200)
    assert [s["id"] for s in sessions["items"]] == ["keep"]
    # Peers outlive their sessions.
    assert expect(http.post(ws_url(workspace, "peers", "list")), 200)["total"] == 1


def test_clone_copies_members_messages_and_token_counts(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    body = {
        "id": "src",
        "metadata": {"m": 1},
        "configuration": {"dream": {"enabled": False}},
        "peers": {"alice": {"observe_others": True}, "bob": {}},
    }
    expect(http.post(ws_url(workspace, "sessions"), json=body), 201)
    messages = post_messages(
        http, workspace, "src", ("alice", "hello there"), ("bob", "hi"), ("alice", "bye")
    )
    clone = expect(http.post(ws_url(workspace, "sessions", "src", "clone")), 201)
    assert list(clone) == SESSION_KEYS
    assert PUBLIC_ID.match(clone["id"]) and clone["id"] != "src"
    assert clone["metadata"] == {"m": 1}
    assert clone["configuration"] == {"dream": {"enabled": False}}
    page = expect(http.post(ws_url(workspace, "sessions", clone["id"], "messages", "list")), 200)
    copied = page["items"]
    assert [(m["peer_id"], m["content"], m["token_count"]) for m in copied] == [
        (m["peer_id"], m["content"], m["token_count"]) for m in messages
    ]
    assert all(m["token_count"] > 0 for m in copied)
    assert {m["id"] for m in copied}.isdisjoint(m["id"] for m in messages)
    assert all(list(m) == MESSAGE_KEYS and m["session_id"] == clone["id"] for m in copied)
    assert _members(http, workspace, clone["id"]) == ["alice", "bob"]
    config_url = ws_url(workspace, "sessions", clone["id"], "peers", "alice", "config")
    assert expect(http.get(config_url), 200) == {"observe_me": None, "observe_others": True}
    # Up to a message (inclusive).
    cut = expect(
        http.post(
            ws_url(workspace, "sessions", "src", "clone"),
            params={"message_id": messages[1]["id"]},
        ),
        201,
    )
    page = expect(http.post(ws_url(workspace, "sessions", cut["id"], "messages", "list")), 200)
    assert [m["content"] for m in page["items"]] == ["hello there", "hi"]
    # The clone is a normal session: it takes messages after the copies.
    more = post_messages(http, workspace, cut["id"], ("bob", "again"))
    assert more[0]["session_id"] == cut["id"]


def test_clone_errors_and_empty_sessions(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    other = new_workspace(http)
    expect(http.post(ws_url(workspace, "sessions"), json={"id": "empty"}), 201)
    clone = expect(http.post(ws_url(workspace, "sessions", "empty", "clone")), 201)
    # The clone of an empty session is saved.
    assert expect(http.post(ws_url(workspace, "sessions"), json={"id": clone["id"]}), 200) == clone
    assert detail(http.post(ws_url(workspace, "sessions", "nope", "clone")), 404) == (
        "Original session not found"
    )
    assert (
        detail(
            http.post(ws_url(workspace, "sessions", "empty", "clone"), params={"message_id": "x"}),
            404,
        )
        == "Session not found"
    )
    # A same-named session of another workspace contributes nothing.
    post_messages(http, other, "empty", ("mallory", "secret"))
    other_message = post_messages(http, other, "empty", ("mallory", "more"))[0]
    clone = expect(http.post(ws_url(workspace, "sessions", "empty", "clone")), 201)
    page = expect(http.post(ws_url(workspace, "sessions", clone["id"], "messages", "list")), 200)
    assert page["total"] == 0 and _members(http, workspace, clone["id"]) == []
    assert (
        detail(
            http.post(
                ws_url(workspace, "sessions", "empty", "clone"),
                params={"message_id": other_message["id"]},
            ),
            404,
        )
        == "Session not found"
    )
