"""Session members: add, replace, remove, list, and per-member settings."""

from __future__ import annotations

import httpx

from tests.honcho_v3.support import (
    PAGE_KEYS,
    PEER_KEYS,
    SESSION_KEYS,
    detail,
    expect,
    new_workspace,
    ws_url,
)


def _config(http: httpx.Client, workspace: str, session: str, peer: str) -> httpx.Response:
    return http.get(ws_url(workspace, "sessions", session, "peers", peer, "config"))


def _members(http: httpx.Client, workspace: str, session: str) -> list[str]:
    page = expect(http.get(ws_url(workspace, "sessions", session, "peers")), 200)
    return [p["id"] for p in page["items"]]


def test_add_creates_the_session_and_keeps_active_settings(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    url = ws_url(workspace, "sessions", "s1", "peers")
    session = expect(http.post(url, json={"alice": {"observe_me": False}}), 200)
    assert list(session) == SESSION_KEYS and session["id"] == "s1"
    # An active member keeps its settings; a new one takes the given ones.
    expect(
        http.post(url, json={"alice": {"observe_me": True}, "bob": {"observe_others": True}}), 200
    )
    assert expect(_config(http, workspace, "s1", "alice"), 200) == {
        "observe_me": False,
        "observe_others": None,
    }
    assert expect(_config(http, workspace, "s1", "bob"), 200) == {
        "observe_me": None,
        "observe_others": True,
    }
    assert _members(http, workspace, "s1") == ["alice", "bob"]
    expect(http.post(url, json={}), 200)
    assert detail(http.post(url, json=["alice"]), 422)[0]["type"] == "dict_type"
    assert detail(http.post(url), 422)[0]["type"] == "missing"


def test_remove_and_rejoin(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    url = ws_url(workspace, "sessions", "s1", "peers")
    expect(http.post(url, json={"alice": {"observe_me": False}, "bob": {}}), 200)
    session = expect(http.request("DELETE", url, json=["alice", "nobody"]), 200)
    assert list(session) == SESSION_KEYS
    assert _members(http, workspace, "s1") == ["bob"]
    # A member that left keeps its row (and settings).
    assert expect(_config(http, workspace, "s1", "alice"), 200)["observe_me"] is False
    # Rejoining takes the given settings.
    expect(http.post(url, json={"alice": {"observe_others": True}}), 200)
    assert expect(_config(http, workspace, "s1", "alice"), 200) == {
        "observe_me": None,
        "observe_others": True,
    }
    assert sorted(_members(http, workspace, "s1")) == ["alice", "bob"]
    assert detail(http.request("DELETE", url, json={"alice": {}}), 422)[0]["type"] == "list_type"
    missing = ws_url(workspace, "sessions", "nope", "peers")
    assert detail(http.request("DELETE", missing, json=["a"]), 404) == (
        f"Session nope not found in workspace {workspace}"
    )


def test_replace_membership(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    url = ws_url(workspace, "sessions", "s1", "peers")
    expect(http.post(url, json={"alice": {"observe_me": False}, "bob": {}}), 200)
    expect(http.put(url, json={"bob": {"observe_me": True}, "carol": {}}), 200)
    assert _members(http, workspace, "s1") == ["bob", "carol"]
    assert expect(_config(http, workspace, "s1", "bob"), 200)["observe_me"] is True
    expect(http.put(url, json={}), 200)
    assert _members(http, workspace, "s1") == []
    assert detail(http.put(ws_url(workspace, "sessions", "nope", "peers"), json={}), 404) == (
        f"Session nope not found in workspace {workspace}"
    )


def test_list_members_pages(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    peers = {f"p{i}": {} for i in range(5)}
    expect(http.post(ws_url(workspace, "sessions"), json={"id": "s1", "peers": peers}), 201)
    url = ws_url(workspace, "sessions", "s1", "peers")
    page = expect(http.get(url, params={"size": 2, "page": 3}), 200)
    assert list(page) == PAGE_KEYS
    assert [p["id"] for p in page["items"]] == ["p4"]
    assert all(list(p) == PEER_KEYS for p in page["items"])
    assert (page["total"], page["pages"]) == (5, 3)
    assert detail(http.get(url, params={"size": 101}), 422)[0]["loc"] == ["query", "size"]
    assert expect(http.get(ws_url(workspace, "sessions", "nope", "peers")), 200)["total"] == 0


def test_member_settings(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    expect(http.post(ws_url(workspace, "sessions"), json={"id": "s1", "peers": {"alice": {}}}), 201)
    config_url = ws_url(workspace, "sessions", "s1", "peers", "alice", "config")
    assert expect(http.get(config_url), 200) == {"observe_me": None, "observe_others": None}
    response = http.put(config_url, json={"observe_others": True})
    assert response.status_code == 204 and response.content == b""
    expect(http.put(config_url, json={"observe_me": False}), 204)
    assert expect(http.get(config_url), 200) == {"observe_me": False, "observe_others": True}
    expect(http.put(config_url, json={}), 204)
    assert expect(http.get(config_url), 200) == {"observe_me": False, "observe_others": True}
    # A peer that exists but is not a member joins with the settings.
    expect(http.post(ws_url(workspace, "peers"), json={"id": "bob"}), 201)
    bob_url = ws_url(workspace, "sessions", "s1", "peers", "bob", "config")
    assert detail(http.get(bob_url), 404) == (
        f"Session peer bob not found in session s1 in workspace {workspace}"
    )
    expect(http.put(bob_url, json={"observe_me": True}), 204)
    assert _members(http, workspace, "s1") == ["alice", "bob"]
    nobody = ws_url(workspace, "sessions", "s1", "peers", "nobody", "config")
    assert (
        detail(http.put(nobody, json={}), 404) == f"Peer nobody not found in workspace {workspace}"
    )
    assert detail(http.get(nobody), 404) == (
        f"Session peer nobody not found in session s1 in workspace {workspace}"
    )
    unknown = ws_url(workspace, "sessions", "nope", "peers", "alice", "config")
    assert (
        detail(http.put(unknown, json={}), 404)
        == f"Session nope not found in workspace {workspace}"
    )
    assert detail(http.get(unknown), 404) == (
        f"Session peer alice not found in session nope in workspace {workspace}"
    )
    assert detail(http.put(config_url), 422)[0]["type"] == "missing"
