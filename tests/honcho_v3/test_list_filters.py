"""The `filters` of the workspace, peer, session and message lists (the language itself is
tested in tests/core/test_filters.py and tests/storage/test_filters_sql.py)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.honcho_v3.support import detail, expect, new_workspace, post_messages, uid, ws_url


def _ids(http: httpx.Client, url: str, filters: Any, **params: Any) -> list[str]:
    page = expect(http.post(url, json={"filters": filters}, params=params), 200)
    return [item["id"] for item in page["items"]]


def test_workspaces(http: httpx.Client) -> None:
    tag = uid("tag")
    names = [uid("ws") for _ in range(3)]
    for i, name in enumerate(names):
        body = {"id": name, "metadata": {"tag": tag, "n": i}}
        expect(http.post("/v3/workspaces", json=body), 201)
    url = "/v3/workspaces/list"
    assert _ids(http, url, {"metadata": {"tag": tag}}) == names
    assert _ids(http, url, {"id": names[1]}) == [names[1]]
    assert _ids(http, url, {"id": [names[2], names[0]]}) == [names[0], names[2]]
    assert _ids(http, url, {"metadata": {"tag": tag, "n": {"gte": 1}}}, reverse="true") == [
        names[2],
        names[1],
    ]
    assert _ids(http, url, {"AND": [{"metadata": {"tag": tag}}], "NOT": [{"id": names[0]}]}) == [
        names[1],
        names[2],
    ]
    assert detail(http.post(url, json={"filters": {"name": "x"}}), 422) == (
        "Column 'name' is not allowed to be filtered on or does not exist on Workspace"
    )
    assert detail(http.post(url, json={"filters": {"is_active": True}}), 422) == (
        "Column 'is_active' does not exist on Workspace"
    )


def test_peers(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    for name, meta in (("alice", {"role": "user"}), ("bob", {"role": "agent"}), ("carol", {})):
        expect(http.post(ws_url(workspace, "peers"), json={"id": name, "metadata": meta}), 201)
    url = ws_url(workspace, "peers", "list")
    assert _ids(http, url, {"metadata": {"role": "agent"}}) == ["bob"]
    assert _ids(http, url, {"OR": [{"id": "alice"}, {"id": {"contains": "AR"}}]}) == [
        "alice",
        "carol",
    ]
    assert _ids(http, url, {"workspace_id": workspace}) == ["alice", "bob", "carol"]
    assert _ids(http, url, {"workspace_id": "other"}) == []
    assert _ids(http, url, {"created_at": {"gte": "2000-01-01"}}) == ["alice", "bob", "carol"]
    assert detail(http.post(url, json={"filters": {"session_id": "s"}}), 422) == (
        "Column 'session_id' does not exist on Peer"
    )
    assert detail(http.post(url, json={"filters": {"id": {"ne": "alice"}}}), 422) == (
        "Invalid numeric value: alice. Expected a number, got str"
    )


def test_sessions_and_a_peers_sessions(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    for name, meta in (("s1", {"k": 1}), ("s2", {"k": 2}), ("s3", {"k": 3})):
        body = {"id": name, "metadata": meta, "peers": {"alice": {}}}
        expect(http.post(ws_url(workspace, "sessions"), json=body), 201)
    url = ws_url(workspace, "sessions", "list")
    assert _ids(http, url, {"metadata": {"k": {"gt": 1}}}) == ["s2", "s3"]
    assert _ids(http, url, {"is_active": True}) == ["s1", "s2", "s3"]
    assert _ids(http, url, {"is_active": False}) == []  # the list shows active sessions only
    assert detail(http.post(url, json={"filters": {"peer_id": "alice"}}), 422) == (
        "Column 'peer_id' does not exist on Session"
    )
    mine = ws_url(workspace, "peers", "alice", "sessions")
    assert _ids(http, mine, {"id": {"in": ["s3", "s1"]}}) == ["s1", "s3"]
    assert _ids(http, mine, {"metadata": {"k": 2}}) == ["s2"]


def test_messages(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    post_messages(http, workspace, "s1", ("alice", "one two three"), ("bob", "x"))
    post_messages(http, workspace, "s1", ("alice", "four"))
    url = ws_url(workspace, "sessions", "s1", "messages", "list")

    def contents(filters: Any, **params: Any) -> list[str]:
        page = expect(http.post(url, json={"filters": filters}, params=params), 200)
        return [m["content"] for m in page["items"]]

    assert contents({"peer_id": "alice"}) == ["one two three", "four"]
    assert contents({"token_count": {"gte": 2}}) == ["one two three"]
    assert contents({"NOT": [{"peer_id": "alice"}]}) == ["x"]
    assert contents({"session_id": "s1", "workspace_id": workspace}, size=1, page=3) == ["four"]
    assert contents({"session_id": "other"}) == []
    page = expect(http.post(url, json={"filters": {"peer_id": "alice"}}, params={"size": 1}), 200)
    assert (page["total"], page["pages"]) == (2, 2)
    assert detail(http.post(url, json={"filters": {"id": "x"}}), 422) == (
        "Column 'id' is not allowed to be filtered on or does not exist on Message"
    )
    assert detail(http.post(url, json={"filters": {"content": "x"}}), 422) == (
        "Column 'content' is not allowed to be filtered on or does not exist on Message"
    )
    # Unknown sessions answer an empty page; bad filters are refused first.
    empty = ws_url(workspace, "sessions", "nope", "messages", "list")
    assert expect(http.post(empty, json={"filters": {"peer_id": "alice"}}), 200)["total"] == 0
    assert http.post(empty, json={"filters": {"AND": {}}}).status_code == 422
