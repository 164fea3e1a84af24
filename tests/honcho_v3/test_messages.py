"""Messages: batches (implicit creation, positions, token counts, client times), list, read,
re-tag."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.conftest import LiveServer
from tests.honcho_v3.support import (
    CREATED_AT,
    MESSAGE_KEYS,
    PAGE_KEYS,
    PUBLIC_ID,
    detail,
    execute,
    expect,
    new_workspace,
    post_messages,
    uid,
    ws_url,
)


def _batch(*items: dict[str, object]) -> dict[str, object]:
    return {"messages": list(items)}


def test_batch_creates_everything_it_names(http: httpx.Client) -> None:
    workspace = uid("ws")
    url = ws_url(workspace, "sessions", "s1", "messages")
    created = expect(
        http.post(
            url,
            json=_batch(
                {"peer_id": "alice", "content": "hello world", "metadata": {"k": 1}},
                {"peer_id": "bob", "content": "", "metadata": None},
            ),
        ),
        201,
    )
    assert [list(m) for m in created] == [MESSAGE_KEYS, MESSAGE_KEYS]
    first, second = created
    assert PUBLIC_ID.match(first["id"])
    assert (first["content"], first["peer_id"], first["session_id"]) == (
        "hello world",
        "alice",
        "s1",
    )
    assert first["workspace_id"] == workspace and first["metadata"] == {"k": 1}
    assert first["token_count"] == 2 and second["token_count"] == 0
    assert second["metadata"] == {}
    assert CREATED_AT.match(first["created_at"]) and first["created_at"] == second["created_at"]
    expect(http.post("/v3/workspaces", json={"id": workspace}), 200)
    session = expect(http.post(ws_url(workspace, "sessions"), json={"id": "s1"}), 200)
    assert session["is_active"] is True
    members = expect(http.get(ws_url(workspace, "sessions", "s1", "peers")), 200)
    assert [p["id"] for p in members["items"]] == ["alice", "bob"]


def test_client_times_are_kept_and_order_is_insertion(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    url = ws_url(workspace, "sessions", "s1", "messages")
    created = expect(
        http.post(
            url,
            json=_batch(
                {"peer_id": "a", "content": "new", "created_at": "2024-05-01T12:00:00"},
                {"peer_id": "a", "content": "old", "created_at": "2020-01-01T00:00:00.5+02:00"},
                {"peer_id": "a", "content": "day", "created_at": "2021-03-04"},
            ),
        ),
        201,
    )
    assert [m["created_at"] for m in created] == [
        "2024-05-01T12:00:00Z",
        "2019-12-31T22:00:00.500000Z",
        "2021-03-04T00:00:00Z",
    ]
    page = expect(http.post(url + "/list"), 200)
    assert [m["content"] for m in page["items"]] == ["new", "old", "day"]
    assert [m["created_at"] for m in page["items"]] == [m["created_at"] for m in created]
    errors = detail(
        http.post(url, json=_batch({"peer_id": "a", "content": "x", "created_at": "soon"})), 422
    )
    assert errors[0]["loc"] == ["body", "messages", 0, "created_at"]


def test_batch_limits(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    url = ws_url(workspace, "sessions", "s1", "messages")
    hundred = _batch(*({"peer_id": "a", "content": str(i)} for i in range(100)))
    assert len(expect(http.post(url, json=hundred), 201)) == 100
    errors = detail(
        http.post(url, json=_batch(*({"peer_id": "a", "content": "x"} for _ in range(101)))), 422
    )
    assert errors[0]["type"] == "too_long" and errors[0]["loc"] == ["body", "messages"]
    errors = detail(http.post(url, json=_batch()), 422)
    assert errors[0]["type"] == "too_short"
    expect(http.post(url, json=_batch({"peer_id": "a", "content": "x" * 25_000})), 201)
    errors = detail(http.post(url, json=_batch({"peer_id": "a", "content": "x" * 25_001})), 422)
    assert errors[0]["type"] == "string_too_long"
    assert errors[0]["loc"] == ["body", "messages", 0, "content"]
    errors = detail(http.post(url, json={"peer_id": "a", "content": "x"}), 422)
    assert errors[0]["loc"] == ["body", "messages"] and errors[0]["type"] == "missing"
    errors = detail(http.post(url, json=_batch({"peer_id": "a b", "content": "x"})), 422)
    assert errors[0]["loc"] == ["body", "messages", 0, "peer_id"]
    assert detail(http.post(url, json=_batch({"content": "x"})), 422)[0]["type"] == "missing"
    page = expect(http.post(url + "/list"), 200)
    assert page["total"] == 101  # nothing of the refused batches was stored


def test_nul_characters_are_removed(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    url = ws_url(workspace, "sessions", "s1", "messages")
    created = expect(
        http.post(
            url,
            json=_batch(
                {"peer_id": "a", "content": "a\u0000b", "metadata": {"k\u0000": "v\u0000"}}
            ),
        ),
        201,
    )
    assert created[0]["content"] == "ab" and created[0]["metadata"] == {"k": "v"}


def test_trailing_slash_is_the_batch_route(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    url = ws_url(workspace, "sessions", "s1", "messages/")
    created = expect(http.post(url, json=_batch({"peer_id": "a", "content": "x"})), 201)
    assert created[0]["session_id"] == "s1"


def test_list_pages(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    for i in range(5):
        post_messages(http, workspace, "s1", ("a", f"m{i}"))
    url = ws_url(workspace, "sessions", "s1", "messages", "list")
    page = expect(http.post(url, params={"size": 2, "page": 2}), 200)
    assert list(page) == PAGE_KEYS
    assert [m["content"] for m in page["items"]] == ["m2", "m3"]
    assert (page["total"], page["pages"]) == (5, 3)
    page = expect(http.post(url, params={"size": 2, "reverse": "true"}, json={"filters": {}}), 200)
    assert [m["content"] for m in page["items"]] == ["m4", "m3"]
    page = expect(http.post(url, params={"size": 2, "page": 3, "reverse": "true"}), 200)
    assert [m["content"] for m in page["items"]] == ["m0"]
    page = expect(http.post(url, params={"page": 4, "size": 2}), 200)
    assert page["items"] == [] and page["total"] == 5
    empty = expect(http.post(ws_url(workspace, "sessions", "nope", "messages", "list")), 200)
    assert empty == {"items": [], "total": 0, "page": 1, "size": 50, "pages": 0}


def test_get_and_update(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    message = post_messages(http, workspace, "s1", ("a", "text"))[0]
    post_messages(http, workspace, "s2", ("a", "other"))
    url = ws_url(workspace, "sessions", "s1", "messages", message["id"])
    assert expect(http.get(url), 200) == message
    wrong = ws_url(workspace, "sessions", "s2", "messages", message["id"])
    assert detail(http.get(wrong), 404) == f"Message with ID {message['id']} not found"
    assert detail(http.put(wrong, json={"metadata": {}}), 404) == "Message not found"
    updated = expect(http.put(url, json={"metadata": {"x": 1}, "content": "ignored"}), 200)
    assert list(updated) == MESSAGE_KEYS
    assert updated == {**message, "metadata": {"x": 1}}
    assert expect(http.put(url, json={"metadata": None}), 200) == updated
    assert expect(http.put(url, json={}), 200) == updated
    assert detail(http.put(url, json={"metadata": []}), 422)[0]["type"] == "dict_type"
    assert detail(http.put(ws_url(uid(), "sessions", "s1", "messages", "x"), json={}), 404) == (
        "Message not found"
    )


def test_a_member_that_left_rejoins_by_writing(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    peers_url = ws_url(workspace, "sessions", "s1", "peers")
    expect(http.post(peers_url, json={"alice": {"observe_me": False}, "bob": {}}), 200)
    expect(http.request("DELETE", peers_url, json=["alice"]), 200)
    post_messages(http, workspace, "s1", ("alice", "back"))
    page = expect(http.get(peers_url), 200)
    assert sorted(p["id"] for p in page["items"]) == ["alice", "bob"]
    config = expect(http.get(ws_url(workspace, "sessions", "s1", "peers", "alice", "config")), 200)
    assert config["observe_me"] is False


def test_concurrent_batches_get_distinct_positions(api: LiveServer, http: httpx.Client) -> None:
    workspace = new_workspace(http)
    post_messages(http, workspace, "s1", ("a", "first"))

    def post(i: int) -> None:
        with api.client() as client:
            post_messages(client, workspace, "s1", ("a", f"x{i}"), ("b", f"y{i}"))

    def first_post(i: int) -> None:
        with api.client() as client:
            post_messages(client, workspace, "fresh", (f"p{i}", "hello"))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(post, range(16)))
        # Racing creations of one new session and its senders all succeed.
        list(pool.map(first_post, range(8)))
    rows = execute(
        api.settings.database_url,
        "SELECT m.seq FROM messages m JOIN sessions s ON s.public_id = m.session_id "
        "JOIN workspaces w ON w.public_id = s.workspace_id "
        "WHERE w.name = :w AND s.name = 's1' ORDER BY m.id",
        w=workspace,
    )
    assert [r[0] for r in rows] == list(range(1, 34))
    page = expect(http.post(ws_url(workspace, "sessions", "s1", "messages", "list")), 200)
    assert page["total"] == 33
    page = expect(http.post(ws_url(workspace, "sessions", "fresh", "messages", "list")), 200)
    assert page["total"] == 8
    members = expect(http.get(ws_url(workspace, "sessions", "fresh", "peers")), 200)
    assert members["total"] == 8
