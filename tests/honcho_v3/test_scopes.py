"""Scopes (served for honcho-ai 2.7.0, reference §11.3): get or create, read, list, add and
remove sessions, list their sessions, status; scopes stay out of peer and member lists; the
SDK's scope methods, sync and async."""

from __future__ import annotations

import httpx

from tests.honcho_v3.sdk import SdkRunner
from tests.honcho_v3.support import (
    CREATED_AT,
    PAGE_KEYS,
    SESSION_KEYS,
    detail,
    expect,
    new_workspace,
    post_messages,
    uid,
    ws_url,
)

SCOPE_KEYS = ["id", "metadata", "created_at"]


def _sessions(http: httpx.Client, ws: str, *names: str) -> None:
    for name in names:
        expect(http.post(ws_url(ws, "sessions"), json={"id": name, "peers": {"alice": {}}}), 201)


def _scope_sessions(http: httpx.Client, ws: str, scope: str, **params: str) -> list[str]:
    page = expect(http.post(ws_url(ws, "scopes", scope, "sessions", "list"), params=params), 200)
    return [s["id"] for s in page["items"]]


def test_get_or_create(http: httpx.Client) -> None:
    ws = new_workspace(http)
    first = expect(
        http.post(ws_url(ws, "scopes"), json={"id": "therapy", "metadata": {"a": 1}}), 201
    )
    assert list(first) == SCOPE_KEYS
    assert first["id"] == "therapy" and first["metadata"] == {"a": 1}
    assert CREATED_AT.match(first["created_at"])
    assert expect(http.post(ws_url(ws, "scopes"), json={"id": "therapy"}), 200) == first
    replaced = expect(
        http.post(ws_url(ws, "scopes"), json={"id": "therapy", "metadata": {"b": 2}}), 200
    )
    assert replaced["metadata"] == {"b": 2}
    assert expect(http.get(ws_url(ws, "scopes", "therapy")), 200) == replaced
    # a scope creates its workspace, as peers and sessions do
    fresh = uid("ws")
    expect(http.post(ws_url(fresh, "scopes"), json={"id": "x"}), 201)
    expect(http.post("/v3/workspaces", json={"id": fresh}), 200)


def test_names(http: httpx.Client) -> None:
    ws = new_workspace(http)
    errors = detail(http.post(ws_url(ws, "scopes"), json={"id": "scope.x"}), 422)
    assert (errors[0]["type"], errors[0]["loc"]) == ("string_pattern_mismatch", ["body", "id"])
    assert detail(http.post(ws_url(ws, "scopes"), json={"id": "x" * 507}), 422)[0]["type"] == (
        "string_too_long"
    )
    expect(http.post(ws_url(ws, "scopes"), json={"id": "x" * 506}), 201)
    assert detail(http.post(ws_url(ws, "scopes"), json={}), 422)[0]["loc"] == ["body", "id"]
    # a scope and a peer may share a name
    expect(http.post(ws_url(ws, "peers"), json={"id": "shared"}), 201)
    expect(http.post(ws_url(ws, "scopes"), json={"id": "shared"}), 201)


def test_missing_scopes_and_workspaces(http: httpx.Client) -> None:
    ws = new_workspace(http)
    missing = f"Scope nope not found in workspace {ws}"
    assert detail(http.get(ws_url(ws, "scopes", "nope")), 404) == missing
    assert detail(http.get(ws_url(ws, "scopes", "nope", "status")), 404) == missing
    assert detail(http.post(ws_url(ws, "scopes", "nope", "sessions", "list")), 404) == missing
    body = {"session_ids": ["s"]}
    assert detail(http.post(ws_url(ws, "scopes", "nope", "sessions"), json=body), 404) == missing
    assert detail(http.delete(ws_url(ws, "scopes", "nope", "sessions", "s")), 404) == missing
    page = expect(http.post(ws_url(uid("ws"), "scopes", "list")), 200)
    assert page == {"items": [], "total": 0, "page": 1, "size": 50, "pages": 0}


def test_list(http: httpx.Client) -> None:
    ws = new_workspace(http)
    for name in ("a", "b", "c"):
        expect(http.post(ws_url(ws, "scopes"), json={"id": name}), 201)
    page = expect(http.post(ws_url(ws, "scopes", "list"), params={"size": 2}), 200)
    assert list(page) == PAGE_KEYS
    assert [s["id"] for s in page["items"]] == ["a", "b"]
    assert (page["total"], page["pages"]) == (3, 2)
    page = expect(http.post(ws_url(ws, "scopes", "list"), params={"reverse": "true"}), 200)
    assert [s["id"] for s in page["items"]] == ["c", "b", "a"]
    assert detail(http.post(ws_url(ws, "scopes", "list"), params={"size": 101}), 422)[0]["loc"] == [
        "query",
        "size",
    ]


def test_sessions_of_a_scope(http: httpx.Client) -> None:
    ws = new_workspace(http)
    _sessions(http, ws, "s1", "s2", "s3")
    expect(http.post(ws_url(ws, "scopes"), json={"id": "sc"}), 201)
    add = ws_url(ws, "scopes", "sc", "sessions")
    assert http.post(add, json={"session_ids": ["s2", "s1"]}).status_code == 204
    assert _scope_sessions(http, ws, "sc") == ["s2", "s1"]
    # adding again changes nothing; order is the order of joining
    assert http.post(add, json={"session_ids": ["s3", "s2"]}).status_code == 204
    assert _scope_sessions(http, ws, "sc") == ["s2", "s1", "s3"]
    assert _scope_sessions(http, ws, "sc", reverse="true") == ["s3", "s1", "s2"]
    page = expect(
        http.post(ws_url(ws, "scopes", "sc", "sessions", "list"), params={"size": 1}), 200
    )
    assert list(page["items"][0]) == SESSION_KEYS
    assert (page["total"], page["pages"]) == (3, 3)
    # a missing session: 404 and nothing added
    expect(http.post(ws_url(ws, "scopes"), json={"id": "other"}), 201)
    other = ws_url(ws, "scopes", "other", "sessions")
    response = http.post(other, json={"session_ids": ["s1", "ghost"]})
    assert detail(response, 404) == f"Session ghost not found in workspace {ws}"
    assert _scope_sessions(http, ws, "other") == []
    # 1 to 100 sessions per call
    assert detail(http.post(other, json={"session_ids": []}), 422)[0]["type"] == "too_short"
    ids = [f"s{i}" for i in range(101)]
    assert detail(http.post(other, json={"session_ids": ids}), 422)[0]["type"] == "too_long"
    assert detail(http.post(other, json={}), 422)[0]["loc"] == ["body", "session_ids"]
    # removing
    assert http.delete(ws_url(ws, "scopes", "sc", "sessions", "s1")).status_code == 204
    assert _scope_sessions(http, ws, "sc") == ["s2", "s3"]
    assert http.delete(ws_url(ws, "scopes", "sc", "sessions", "s1")).status_code == 204
    response = http.delete(ws_url(ws, "scopes", "sc", "sessions", "ghost"))
    assert detail(response, 404) == f"Session ghost not found in workspace {ws}"
    # a deleted session leaves its scopes
    expect(http.delete(ws_url(ws, "sessions", "s3")), 202)
    assert _scope_sessions(http, ws, "sc") == ["s2"]
    response = http.post(add, json={"session_ids": ["s3"]})
    assert detail(response, 404) == f"Session s3 not found in workspace {ws}"


def test_status(http: httpx.Client) -> None:
    ws = new_workspace(http)
    _sessions(http, ws, "s1", "s2")
    expect(http.post(ws_url(ws, "scopes"), json={"id": "sc"}), 201)
    assert expect(http.get(ws_url(ws, "scopes", "sc", "status")), 200) == {"backfill_status": {}}
    http.post(ws_url(ws, "scopes", "sc", "sessions"), json={"session_ids": ["s1", "s2"]})
    status = expect(http.get(ws_url(ws, "scopes", "sc", "status")), 200)["backfill_status"]
    assert list(status) == ["s1", "s2"]
    for job in status.values():
        assert list(job) == ["state", "updated_at", "docs_copied"]
        assert job["state"] == "completed" and job["docs_copied"] == 0
        assert CREATED_AT.match(job["updated_at"])


def test_scopes_are_not_peers_or_members(http: httpx.Client) -> None:
    ws = new_workspace(http)
    post_messages(http, ws, "s1", ("alice", "hi"), ("bob", "hello"))
    expect(http.post(ws_url(ws, "scopes"), json={"id": "sc"}), 201)
    http.post(ws_url(ws, "scopes", "sc", "sessions"), json={"session_ids": ["s1"]})
    peers = expect(http.post(ws_url(ws, "peers", "list")), 200)
    assert [p["id"] for p in peers["items"]] == ["alice", "bob"] and peers["total"] == 2
    members = expect(http.get(ws_url(ws, "sessions", "s1", "peers")), 200)
    assert sorted(p["id"] for p in members["items"]) == ["alice", "bob"] and members["total"] == 2
    # replacing or removing the members keeps the session in its scope
    expect(http.put(ws_url(ws, "sessions", "s1", "peers"), json={"carol": {}}), 200)
    expect(http.request("DELETE", ws_url(ws, "sessions", "s1", "peers"), json=["carol"]), 200)
    assert expect(http.get(ws_url(ws, "sessions", "s1", "peers")), 200)["total"] == 0
    assert _scope_sessions(http, ws, "sc") == ["s1"]
    # observers are counted without it; messages still post
    post_messages(http, ws, "s1", ("alice", "again"))


def test_sdk_scopes(http: httpx.Client, sdk: SdkRunner) -> None:
    ws = new_workspace(http)
    _sessions(http, ws, "s1", "s2")
    result = sdk.run(
        """
        honcho = client()
        therapy = honcho.scope("therapy", metadata={"kind": "care"})
        therapy.add_sessions(["s1", honcho.session("s2")])
        out = {
            "scope": [therapy.id, therapy.metadata],
            "listed": [s.id for s in honcho.scopes()],
            "got": honcho.get_scope("therapy").metadata,
            "sessions": [s.id for s in therapy.sessions()],
            "status": sorted((k, v.state) for k, v in therapy.status().items()),
            "missing": errors(lambda: honcho.get_scope("nope")),
        }
        therapy.remove_session("s1")
        out["after"] = [s.id for s in therapy.sessions()]

        async def main():
            aio = client().aio
            work = await aio.scope("work")
            await work.aio.add_sessions(["s1"])
            out["async"] = [s.id async for s in await work.aio.sessions()]
            out["async listed"] = [s.id async for s in await aio.scopes()]

        emit(out)
        """,
        workspace=ws,
    )
    assert result == {
        "scope": ["therapy", {"kind": "care"}],
        "listed": ["therapy"],
        "got": {"kind": "care"},
        "sessions": ["s1", "s2"],
        "status": [["s1", "completed"], ["s2", "completed"]],
        "missing": ["NotFoundError", 404],
        "after": ["s2"],
        "async": ["s1"],
        "async listed": ["therapy", "work"],
    }


def test_sessions_join_scopes_when_created(http: httpx.Client, sdk: SdkRunner) -> None:
    ws = new_workspace(http)
    expect(http.post(ws_url(ws, "scopes"), json={"id": "old"}), 201)
    body = {"id": "s1", "peers": {"alice": {}}, "scopes": ["old", "new"]}
    assert expect(http.post(ws_url(ws, "sessions"), json=body), 201)["id"] == "s1"
    assert expect(http.post(ws_url(ws, "sessions"), json=body), 200)["id"] == "s1"
    listed = expect(http.post(ws_url(ws, "scopes", "list")), 200)
    assert [s["id"] for s in listed["items"]] == ["old", "new"]
    assert _scope_sessions(http, ws, "old") == ["s1"] == _scope_sessions(http, ws, "new")
    errors = detail(http.post(ws_url(ws, "sessions"), json={"id": "s2", "scopes": ["a.b"]}), 422)
    assert (errors[0]["type"], errors[0]["loc"]) == (
        "string_pattern_mismatch",
        ["body", "scopes", 0],
    )
    result = sdk.run(
        """
        honcho = client()
        honcho.session("s4", scopes=["new", honcho.scope("sdk")])
        emit(sorted(s.id for s in honcho.get_scope("new").sessions()))
        """,
        workspace=ws,
    )
    assert result == ["s1", "s4"]
    assert _scope_sessions(http, ws, "sdk") == ["s4"]
