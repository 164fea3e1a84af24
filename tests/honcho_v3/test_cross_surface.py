"""One store, two surfaces: what v1 writes reads through v3 and the reverse.

App = workspace (v3 `id` = the app's name), user = peer, a v1 session = a v3 session named
by its id, with the user and the synthetic `assistant` peer as senders. Sessions made on v3
have no owner and are not listed on v1.
"""

from __future__ import annotations

import httpx

from tests.honcho.support import new_app, new_session, new_user, ok
from tests.honcho_v3.support import detail, expect, post_messages, uid, wait_for, ws_url


def test_v1_data_reads_through_v3(http: httpx.Client) -> None:
    app = new_app(http, metadata={"plan": "free"})
    user = new_user(http, app["id"], name=uid("user"))
    session = new_session(http, app["id"], user["id"], metadata={"s": 1})
    base = f"/v1/apps/{app['id']}/users/{user['id']}/sessions/{session['id']}/messages"
    v1_messages = ok(
        http.post(
            f"{base}/batch",
            json={
                "messages": [
                    {"content": "hi, I am the user", "is_user": True},
                    {"content": "hello from the app", "is_user": False},
                ]
            },
        )
    )
    workspace = app["name"]
    got = expect(http.post("/v3/workspaces", json={"id": workspace}), 200)
    assert got["uid"] == app["id"] and got["metadata"] == {"plan": "free"}
    peers = expect(http.post(ws_url(workspace, "peers", "list")), 200)
    assert [p["id"] for p in peers["items"]] == [user["name"], "assistant"]
    sessions = expect(http.post(ws_url(workspace, "sessions", "list")), 200)
    assert [(s["id"], s["metadata"]) for s in sessions["items"]] == [(session["id"], {"s": 1})]
    page = expect(http.post(ws_url(workspace, "sessions", session["id"], "messages", "list")), 200)
    assert [(m["id"], m["peer_id"], m["content"]) for m in page["items"]] == [
        (v1_messages[0]["id"], user["name"], "hi, I am the user"),
        (v1_messages[1]["id"], "assistant", "hello from the app"),
    ]
    assert all(m["token_count"] > 0 for m in page["items"])
    members = expect(http.get(ws_url(workspace, "sessions", session["id"], "peers")), 200)
    assert [p["id"] for p in members["items"]] == [user["name"], "assistant"]
    mine = expect(http.post(ws_url(workspace, "peers", user["name"], "sessions")), 200)
    assert [s["id"] for s in mine["items"]] == [session["id"]]
    # A v1 clone keeps the members of its source.
    clone = ok(http.get(f"/v1/apps/{app['id']}/users/{user['id']}/sessions/{session['id']}/clone"))
    members = expect(http.get(ws_url(workspace, "sessions", clone["id"], "peers")), 200)
    assert [p["id"] for p in members["items"]] == [user["name"], "assistant"]


def test_v3_writes_into_a_v1_session_show_on_v1(http: httpx.Client) -> None:
    app = new_app(http)
    user = new_user(http, app["id"], name=uid("user"))
    session = new_session(http, app["id"], user["id"])
    workspace = app["name"]
    created = post_messages(
        http,
        workspace,
        session["id"],
        (user["name"], "from the owner"),
        ("assistant", "from the app"),
        ("guest", "from a third peer"),
    )
    base = f"/v1/apps/{app['id']}/users/{user['id']}/sessions/{session['id']}/messages"
    page = ok(http.post(f"{base}/list", json={}))
    assert [(m["id"], m["content"], m["is_user"]) for m in page["items"]] == [
        (created[0]["id"], "from the owner", True),
        (created[1]["id"], "from the app", False),
        (created[2]["id"], "from a third peer", False),
    ]
    # Peers made on v3 are users on v1 (an `assistant` named on v3 is a real peer).
    users = ok(http.post(f"/v1/apps/{app['id']}/users/list", json={}))
    assert sorted(u["name"] for u in users["items"]) == sorted([user["name"], "assistant", "guest"])
    # Re-tagging on v3 shows on v1.
    expect(
        http.put(
            ws_url(workspace, "sessions", session["id"], "messages", created[0]["id"]),
            json={"metadata": {"tag": 1}},
        ),
        200,
    )
    assert ok(http.get(f"{base}/{created[0]['id']}"))["metadata"] == {"tag": 1}


def test_v3_data_reads_through_v1(http: httpx.Client) -> None:
    workspace = uid("ws")
    expect(http.post("/v3/workspaces", json={"id": workspace, "metadata": {"a": 1}}), 201)
    expect(http.put(ws_url(workspace, "peers", "alice"), json={"metadata": {"k": "v"}}), 200)
    post_messages(http, workspace, "s1", ("alice", "hello"))
    app = ok(http.get(f"/v1/apps/name/{workspace}"))
    assert app["metadata"] == {"a": 1}
    alice = ok(http.get(f"/v1/apps/{app['id']}/users/name/alice"))
    assert alice["metadata"] == {"k": "v"}
    # A v3 session has no owner: it is not among alice's v1 sessions.
    sessions = ok(http.post(f"/v1/apps/{app['id']}/users/{alice['id']}/sessions/list", json={}))
    assert sessions["items"] == []
    # A v1 app made on v3's side takes v1 sessions and messages.
    v1_session = new_session(http, app["id"], alice["id"])
    listed = expect(http.post(ws_url(workspace, "sessions", "list")), 200)
    assert [s["id"] for s in listed["items"]] == ["s1", v1_session["id"]]


def test_deletion_on_v3_and_soft_deletion_on_v1(http: httpx.Client) -> None:
    app = new_app(http)
    user = new_user(http, app["id"])
    kept = new_session(http, app["id"], user["id"])
    removed = new_session(http, app["id"], user["id"])
    workspace = app["name"]
    # A v1 soft delete reads as a deleted session on v3.
    ok(http.delete(f"/v1/apps/{app['id']}/users/{user['id']}/sessions/{kept['id']}"))
    assert detail(http.post(ws_url(workspace, "sessions"), json={"id": kept["id"]}), 404) == (
        f"Session {kept['id']} not found in workspace {workspace}"
    )
    # A v3 delete removes the session for v1 too.
    expect(http.delete(ws_url(workspace, "sessions", removed["id"])), 202)
    url = f"/v1/apps/{app['id']}/users/{user['id']}/sessions"

    def gone() -> bool:
        return http.get(url, params={"session_id": removed["id"]}).status_code == 404

    wait_for(gone, "the session to be removed")
    assert ok(http.get(url, params={"session_id": kept["id"]}))["is_active"] is False
