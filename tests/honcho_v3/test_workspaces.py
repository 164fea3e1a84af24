"""Workspaces: get or create, update, list, delete (asynchronous, every row of both
databases)."""

from __future__ import annotations

import httpx

from tests.conftest import LiveServer
from tests.honcho_v3.support import (
    CREATED_AT,
    PAGE_KEYS,
    PUBLIC_ID,
    WORKSPACE_KEYS,
    detail,
    expect,
    new_workspace,
    post_messages,
    rows_of_workspace,
    uid,
    wait_for,
    ws_url,
)


def test_get_or_create_signals_creation_by_status(http: httpx.Client) -> None:
    name = uid("ws")
    body = {"id": name, "metadata": {"a": 1}, "configuration": {"reasoning": {"enabled": False}}}
    first = expect(http.post("/v3/workspaces", json=body), 201)
    assert list(first) == WORKSPACE_KEYS
    assert first["id"] == name
    assert first["metadata"] == {"a": 1}
    assert first["configuration"] == {"reasoning": {"enabled": False}}
    assert CREATED_AT.match(first["created_at"])
    assert PUBLIC_ID.match(first["uid"])
    # An existing workspace ignores the body's metadata and configuration.
    again = expect(http.post("/v3/workspaces", json={"id": name, "metadata": {"b": 2}}), 200)
    assert again == first


def test_name_alias_and_validation(http: httpx.Client) -> None:
    name = uid("ws")
    assert expect(http.post("/v3/workspaces", json={"name": name}), 201)["id"] == name
    errors = detail(http.post("/v3/workspaces", json={"id": "a b"}), 422)
    assert errors[0]["type"] == "string_pattern_mismatch"
    assert errors[0]["loc"] == ["body", "id"]
    assert errors[0]["msg"] == "String should match pattern '^[a-zA-Z0-9_-]+$'"
    assert detail(http.post("/v3/workspaces", json={"id": "x" * 513}), 422)[0]["type"] == (
        "string_too_long"
    )
    expect(http.post("/v3/workspaces", json={"id": "x" * 512}), 201)
    errors = detail(http.post("/v3/workspaces", json={"id": uid(), "metadata": None}), 422)
    assert errors[0]["type"] == "dict_type"
    assert detail(http.post("/v3/workspaces", json={}), 422)[0]["loc"] == ["body", "id"]


def test_metadata_limits(http: httpx.Client) -> None:
    ok_meta = {f"k{i}": i for i in range(100)}
    expect(http.post("/v3/workspaces", json={"id": uid(), "metadata": ok_meta}), 201)
    too_many = {f"k{i}": i for i in range(101)}
    errors = detail(http.post("/v3/workspaces", json={"id": uid(), "metadata": too_many}), 422)
    assert errors[0]["msg"] == "Value error, Metadata exceeds maximum of 100 top-level keys"
    deep: dict[str, object] = {"a": {"b": {"c": {"d": {"e": 1}}}}}
    expect(http.post("/v3/workspaces", json={"id": uid(), "metadata": deep}), 201)
    deeper = {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}
    errors = detail(http.post("/v3/workspaces", json={"id": uid(), "metadata": deeper}), 422)
    assert errors[0]["msg"] == "Value error, Metadata nesting exceeds maximum depth of 5"


def test_put_creates_replaces_metadata_and_merges_configuration(http: httpx.Client) -> None:
    name = uid("ws")
    created = expect(
        http.put(f"/v3/workspaces/{name}", json={"configuration": {"dream": {"enabled": True}}}),
        200,
    )
    assert list(created) == WORKSPACE_KEYS
    assert created["configuration"] == {"dream": {"enabled": True}}
    expect(http.put(f"/v3/workspaces/{name}", json={"metadata": {"x": 1}}), 200)
    merged = expect(
        http.put(
            f"/v3/workspaces/{name}",
            json={"metadata": {"y": 2}, "configuration": {"summary": {"enabled": False}}},
        ),
        200,
    )
    assert merged["metadata"] == {"y": 2}
    assert merged["configuration"] == {"dream": {"enabled": True}, "summary": {"enabled": False}}
    # Null sub-objects cannot clear anything; an empty body changes nothing.
    same = expect(http.put(f"/v3/workspaces/{name}", json={"configuration": {"dream": None}}), 200)
    assert same["configuration"] == merged["configuration"]
    assert expect(http.put(f"/v3/workspaces/{name}", json={}), 200) == same
    assert detail(http.put(f"/v3/workspaces/{name}"), 422)[0]["type"] == "missing"


def test_put_with_a_bad_name_is_422_not_500(http: httpx.Client) -> None:
    errors = detail(http.put("/v3/workspaces/a%20b", json={}), 422)
    assert errors[0]["loc"] == ["path", "workspace_id"]
    assert errors[0]["type"] == "string_pattern_mismatch"
    errors = detail(http.put(f"/v3/workspaces/{'x' * 513}", json={}), 422)
    assert errors[0]["type"] == "string_too_long"


def test_list_pages_in_creation_order(api: LiveServer, http: httpx.Client) -> None:
    first = expect(http.post("/v3/workspaces/list", params={"size": 100}), 200)
    assert list(first) == PAGE_KEYS
    total = first["total"]
    names = [new_workspace(http) for _ in range(3)]
    page = expect(http.post("/v3/workspaces/list", params={"size": 100, "page": 1}), 200)
    assert page["total"] == total + 3
    ids = [w["id"] for w in page["items"]]
    assert ids[-3:] == names
    last = expect(
        http.post("/v3/workspaces/list", params={"size": 1, "page": total + 3}, json={}), 200
    )
    assert [w["id"] for w in last["items"]] == [names[-1]]
    assert last["pages"] == total + 3
    rev = expect(http.post("/v3/workspaces/list", params={"size": 3, "reverse": "true"}), 200)
    assert [w["id"] for w in rev["items"]] == names[::-1]
    past = expect(http.post("/v3/workspaces/list", params={"page": 999, "size": 2}), 200)
    assert past["items"] == [] and past["total"] == total + 3 and past["page"] == 999
    for body in (None, {}, {"filters": None}, {"filters": {}}):
        expect(http.post("/v3/workspaces/list", json=body), 200)


def test_list_query_limits(http: httpx.Client) -> None:
    expect(http.post("/v3/workspaces/list", params={"size": 100}), 200)
    errors = detail(http.post("/v3/workspaces/list", params={"size": 101}), 422)
    assert errors[0]["loc"] == ["query", "size"]
    assert errors[0]["type"] == "less_than_equal"
    assert detail(http.post("/v3/workspaces/list", params={"size": 0}), 422)[0]["type"] == (
        "greater_than_equal"
    )
    assert detail(http.post("/v3/workspaces/list", params={"page": 0}), 422)[0]["loc"] == [
        "query",
        "page",
    ]
    errors = detail(http.post("/v3/workspaces/list", params={"reverse": "maybe"}), 422)
    assert errors[0]["type"] == "bool_parsing"
    assert detail(http.post("/v3/workspaces/list", json={"filters": []}), 422)[0]["loc"] == [
        "body",
        "filters",
    ]


def test_delete_refuses_unknown_and_busy_workspaces(http: httpx.Client) -> None:
    assert detail(http.delete(f"/v3/workspaces/{uid()}"), 404).startswith("Workspace ")
    name = new_workspace(http)
    expect(http.post(ws_url(name, "sessions"), json={"id": "s1"}), 201)
    assert detail(http.delete(f"/v3/workspaces/{name}"), 409) == (
        f"Cannot delete workspace '{name}': active session(s) remain. Delete all sessions first."
    )
    missing = uid()
    assert detail(http.delete(f"/v3/workspaces/{missing}"), 404) == (
        f"Workspace {missing} not found"
    )


def test_delete_removes_every_row_in_the_background(api: LiveServer, http: httpx.Client) -> None:
    name = new_workspace(http)
    post_messages(http, name, "s1", ("alice", "hello"), ("bob", "hi"))
    expect(http.post(ws_url(name, "sessions"), json={"id": "s2", "peers": {"carol": {}}}), 201)
    expect(http.put(ws_url(name, "peers", "dave"), json={"metadata": {"a": 1}}), 200)
    # Rows of the other areas: a peer card, a conclusion, a webhook endpoint.
    expect(http.put(ws_url(name, "peers", "alice", "card"), json={"peer_card": ["likes tea"]}), 200)
    conclusion = {"content": "Bob likes tea", "observer_id": "alice", "observed_id": "bob"}
    expect(http.post(ws_url(name, "conclusions"), json={"conclusions": [conclusion]}), 201)
    hook = {"url": "https://example.com/hook"}
    expect(http.post(ws_url(name, "webhooks"), json=hook), 201)
    uid = expect(http.post("/v3/workspaces", json={"id": name}), 200)["uid"]
    counts = rows_of_workspace(api.settings.database_url, name)
    made = {"peer_cards": 1, "documents": 1, "collections": 1, "webhook_endpoints": 1}
    made |= {"sessions": 2, "messages": 2, "session_peers": 3, "peers": 4}
    assert {table: counts[table] for table in made} == made, counts
    for session in ("s1", "s2"):
        ack = expect(http.delete(ws_url(name, "sessions", session)), 202)
        assert ack == {"message": "Session deleted successfully"}
    # Inactive sessions (deletion pending) do not block; a repeated delete is accepted.
    ack = expect(http.delete(f"/v3/workspaces/{name}"), 202)
    assert ack == {"message": "Workspace deletion accepted"}

    def gone() -> bool:
        return expect(http.post(ws_url(name, "peers", "list"), json={}), 200)["total"] == 0

    wait_for(gone, "the workspace to be removed")
    remaining = rows_of_workspace(api.settings.database_url, name, uid)
    assert remaining and set(remaining.values()) == {0}, remaining
    # The name is free again.
    expect(http.post("/v3/workspaces", json={"id": name}), 201)
