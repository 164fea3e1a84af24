"""Peers: get or create (replacing metadata and configuration), update (creating), list,
and the sessions a peer ever joined."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.conftest import LiveServer
from tests.honcho_v3.support import (
    CREATED_AT,
    PAGE_KEYS,
    PEER_KEYS,
    SESSION_KEYS,
    detail,
    expect,
    new_workspace,
    post_messages,
    uid,
    ws_url,
)


def test_get_or_create_creates_the_workspace(http: httpx.Client) -> None:
    workspace = uid("ws")
    peer = expect(
        http.post(
            ws_url(workspace, "peers"),
            json={"id": "alice", "metadata": {"a": 1}, "configuration": {"observe_me": False}},
        ),
        201,
    )
    assert list(peer) == PEER_KEYS
    assert peer["id"] == "alice" and peer["workspace_id"] == workspace
    assert peer["metadata"] == {"a": 1} and peer["configuration"] == {"observe_me": False}
    assert CREATED_AT.match(peer["created_at"])
    expect(http.post("/v3/workspaces", json={"id": workspace}), 200)


def test_existing_peer_gets_given_fields_replaced(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    url = ws_url(workspace, "peers")
    first = expect(
        http.post(url, json={"id": "p", "metadata": {"a": 1}, "configuration": {"x": 1}}), 201
    )
    same = expect(http.post(url, json={"id": "p"}), 200)
    assert same == first
    same = expect(http.post(url, json={"name": "p", "metadata": None}), 200)
    assert same == first
    changed = expect(http.post(url, json={"id": "p", "metadata": {"b": 2}}), 200)
    assert changed["metadata"] == {"b": 2} and changed["configuration"] == {"x": 1}
    changed = expect(http.post(url, json={"id": "p", "configuration": {"observe_me": True}}), 200)
    assert changed["configuration"] == {"observe_me": True}
    assert changed["created_at"] == first["created_at"]


def test_put_creates_and_replaces(http: httpx.Client) -> None:
    workspace = uid("ws")
    url = ws_url(workspace, "peers", "bob")
    created = expect(http.put(url, json={"metadata": {"a": 1}}), 200)
    assert list(created) == PEER_KEYS and created["metadata"] == {"a": 1}
    replaced = expect(http.put(url, json={"configuration": {"observe_me": False}}), 200)
    assert replaced["metadata"] == {"a": 1}
    assert replaced["configuration"] == {"observe_me": False}
    assert expect(http.put(url, json={"metadata": {}}), 200)["metadata"] == {}
    assert detail(http.put(url), 422)[0]["type"] == "missing"
    assert detail(http.put(url, json=[]), 422)[0]["type"] == "model_attributes_type"


def test_bad_names_are_422_on_creation(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    errors = detail(http.put(ws_url(workspace, "peers", "a%20b"), json={}), 422)
    assert errors[0]["loc"] == ["path", "peer_id"]
    errors = detail(http.post(ws_url("bad%21name", "peers"), json={"id": "p"}), 422)
    assert errors[0]["loc"] == ["path", "workspace_id"]
    errors = detail(http.post(ws_url(workspace, "peers"), json={"id": "a.b"}), 422)
    assert errors[0]["loc"] == ["body", "id"]
    # Reads with odd names just miss.
    page = expect(http.post(ws_url("bad%21name", "peers", "list")), 200)
    assert page == {"items": [], "total": 0, "page": 1, "size": 50, "pages": 0}


def test_list_in_creation_order_with_paging(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    names = [f"p{i}" for i in range(5)]
    for name in names:
        expect(http.post(ws_url(workspace, "peers"), json={"id": name}), 201)
    url = ws_url(workspace, "peers", "list")
    page = expect(http.post(url, params={"size": 2}), 200)
    assert list(page) == PAGE_KEYS
    assert [p["id"] for p in page["items"]] == ["p0", "p1"]
    assert (page["total"], page["page"], page["size"], page["pages"]) == (5, 1, 2, 3)
    page = expect(http.post(url, params={"size": 2, "page": 3}, json={"filters": None}), 200)
    assert [p["id"] for p in page["items"]] == ["p4"]
    page = expect(http.post(url, params={"size": 2, "reverse": "true"}), 200)
    assert [p["id"] for p in page["items"]] == ["p4", "p3"]
    page = expect(http.post(url, params={"size": 2, "page": 4}), 200)
    assert page["items"] == [] and page["total"] == 5
    empty = expect(http.post(ws_url(uid(), "peers", "list")), 200)
    assert empty["total"] == 0 and empty["pages"] == 0


def test_sessions_of_a_peer_include_left_ones(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    post_messages(http, workspace, "s1", ("alice", "hi"))
    expect(http.post(ws_url(workspace, "sessions"), json={"id": "s2", "peers": {"alice": {}}}), 201)
    expect(http.post(ws_url(workspace, "sessions"), json={"id": "s3", "peers": {"bob": {}}}), 201)
    expect(
        http.request("DELETE", ws_url(workspace, "sessions", "s2", "peers"), json=["alice"]), 200
    )
    url = ws_url(workspace, "peers", "alice", "sessions")
    page = expect(http.post(url, json={}), 200)
    assert [s["id"] for s in page["items"]] == ["s1", "s2"]
    assert all(list(s) == SESSION_KEYS for s in page["items"])
    reverse = expect(http.post(url, params={"reverse": "true", "size": 1}), 200)
    assert [s["id"] for s in reverse["items"]] == ["s2"]
    assert (reverse["total"], reverse["pages"]) == (2, 2)
    assert expect(http.post(ws_url(workspace, "peers", "nobody", "sessions")), 200)["total"] == 0


def test_sessions_of_a_peer_include_deleted_ones_until_removed(
    server_factory: Callable[..., LiveServer],
) -> None:
    server = server_factory(worker_enabled=False)
    with server.client() as http:
        workspace = new_workspace(http)
        post_messages(http, workspace, "s1", ("alice", "hi"))
        expect(http.delete(ws_url(workspace, "sessions", "s1")), 202)
        page = expect(http.post(ws_url(workspace, "peers", "alice", "sessions")), 200)
        assert [(s["id"], s["is_active"]) for s in page["items"]] == [("s1", False)]
