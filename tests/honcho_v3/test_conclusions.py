"""Conclusions: create (limits, token cap, missing peers and sessions), list (order, filters,
pages), query by meaning (paraphrases, the pair, distance), read, delete; v1 facts as v3
conclusions; the SDK's conclusion methods."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np

from mindkeeper.core.services import collections
from tests.conftest import LiveServer
from tests.honcho_v3.memory_support import (
    CONCLUSION_KEYS,
    conclude,
    direct_runtime,
    make_peers,
    make_session,
    text_of_tokens,
)
from tests.honcho_v3.sdk import SdkRunner
from tests.honcho_v3.support import (
    CREATED_AT,
    PAGE_KEYS,
    PUBLIC_ID,
    detail,
    execute,
    expect,
    new_workspace,
    uid,
    ws_url,
)

FACTS = [
    "Alice enjoys hiking in the mountains on weekends",
    "Alice is allergic to peanuts",
    "Alice works as a software engineer in Berlin",
    "Alice's favourite colour is green",
    "Alice has two cats named Miso and Tofu",
]


def _post(http: httpx.Client, ws: str, body: Any) -> httpx.Response:
    return http.post(ws_url(ws, "conclusions"), json=body)


def _list(http: httpx.Client, ws: str, filters: Any = None, **query: Any) -> Any:
    response = http.post(ws_url(ws, "conclusions", "list"), params=query, json={"filters": filters})
    return expect(response, 200)


def _query(http: httpx.Client, ws: str, body: dict[str, Any]) -> httpx.Response:
    return http.post(ws_url(ws, "conclusions", "query"), json=body)


def test_create_returns_conclusions_in_request_order(http: httpx.Client) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "alice", "bob")
    make_session(http, ws, "s1", "alice", "bob")
    body = {
        "conclusions": [
            {"observer_id": "alice", "observed_id": "alice", "content": "Alice likes tea"},
            {
                "observer_id": "alice",
                "observed_id": "bob",
                "content": "Bob\x00 plays chess",
                "session_id": "s1",
            },
            {"observer_id": "bob", "observed_id": "alice", "content": "Alice likes tea"},
        ]
    }
    made = expect(_post(http, ws, body), 201)
    assert [list(c) for c in made] == [CONCLUSION_KEYS] * 3
    assert [(c["observer_id"], c["observed_id"], c["session_id"]) for c in made] == [
        ("alice", "alice", None),
        ("alice", "bob", "s1"),
        ("bob", "alice", None),
    ]
    assert made[1]["content"] == "Bob plays chess"
    assert {c["level"] for c in made} == {"explicit"}
    assert {c["created_at"] for c in made} == {made[0]["created_at"]}
    assert CREATED_AT.match(made[0]["created_at"])
    assert all(PUBLIC_ID.match(c["id"]) for c in made)
    assert all(c["source_ids"] == [] and c["times_derived"] == 1 for c in made)
    # Identical contents are all kept; `observations` is an alias of `conclusions`.
    again = expect(_post(http, ws, {"observations": body["conclusions"][:1]}), 201)
    assert again[0]["content"] == "Alice likes tea" and again[0]["id"] != made[0]["id"]


def test_batch_and_content_limits(http: httpx.Client) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "p")
    one = {"observer_id": "p", "observed_id": "p", "content": "x"}
    errors = detail(_post(http, ws, {"conclusions": []}), 422)
    assert errors[0]["type"] == "too_short" and errors[0]["loc"] == ["body", "conclusions"]
    assert len(expect(_post(http, ws, {"conclusions": [one] * 100}), 201)) == 100
    errors = detail(_post(http, ws, {"conclusions": [one] * 101}), 422)
    assert errors[0]["type"] == "too_long"
    errors = detail(_post(http, ws, {"conclusions": [{**one, "content": ""}]}), 422)
    assert errors[0]["type"] == "string_too_short"
    assert errors[0]["loc"] == ["body", "conclusions", 0, "content"]
    errors = detail(_post(http, ws, {"conclusions": [{**one, "content": "x" * 65_536}]}), 422)
    assert errors[0]["type"] == "string_too_long"
    assert detail(_post(http, ws, {}), 422)[0]["loc"] == ["body", "conclusions"]
    missing = detail(_post(http, ws, {"conclusions": [{"content": "x"}]}), 422)
    assert {tuple(e["loc"]) for e in missing} == {
        ("body", "conclusions", 0, "observer_id"),
        ("body", "conclusions", 0, "observed_id"),
    }


def test_token_cap(http: httpx.Client) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "p")
    at_cap = text_of_tokens(8192)
    over = text_of_tokens(8193)
    made = expect(
        _post(
            http, ws, {"conclusions": [{"observer_id": "p", "observed_id": "p", "content": at_cap}]}
        ),
        201,
    )
    assert made[0]["content"] == at_cap
    body = {
        "conclusions": [
            {"observer_id": "p", "observed_id": "p", "content": "fine"},
            {"observer_id": "p", "observed_id": "p", "content": over},
        ]
    }
    errors = detail(_post(http, ws, body), 422)
    assert errors == [
        {
            "type": "value_error",
            "loc": ["body", "conclusions", 1, "content"],
            "msg": "Value error, Content exceeds maximum embedding token limit of 8192 "
            "(got 8193 tokens)",
            "input": over,
            "ctx": {"error": {}},
        }
    ]
    assert _list(http, ws)["total"] == 1  # nothing of the refused batch was stored


def test_missing_peers_and_sessions(http: httpx.Client) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "alice")
    item = {"observer_id": "alice", "observed_id": "ghost", "content": "x"}
    assert detail(_post(http, ws, {"conclusions": [item]}), 404) == (
        f"Peer ghost not found in workspace {ws}"
    )
    item = {"observer_id": "alice", "observed_id": "alice", "content": "x", "session_id": "nope"}
    assert detail(_post(http, ws, {"conclusions": [item]}), 404) == (
        f"Session nope not found in workspace {ws}"
    )
    unknown = uid("ws")
    item = {"observer_id": "alice", "observed_id": "alice", "content": "x"}
    assert detail(_post(http, unknown, {"conclusions": [item]}), 404) == (
        f"Peer alice not found in workspace {unknown}"
    )
    # A deleted session is not found either.
    make_session(http, ws, "gone", "alice")
    expect(http.delete(ws_url(ws, "sessions", "gone")), 202)
    item = {"observer_id": "alice", "observed_id": "alice", "content": "x", "session_id": "gone"}
    assert detail(_post(http, ws, {"conclusions": [item]}), 404) == (
        f"Session gone not found in workspace {ws}"
    )
    assert _list(http, ws)["total"] == 0


def test_list_order_pages_and_filters(http: httpx.Client) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "alice", "bob")
    make_session(http, ws, "s1", "alice", "bob")
    first = conclude(http, ws, ("alice", "alice", "one"), ("alice", "bob", "two"))
    second = conclude(http, ws, ("bob", "alice", "three"), session="s1")
    ids = [c["id"] for c in first + second]
    page = _list(http, ws)
    assert list(page) == PAGE_KEYS
    assert [c["id"] for c in page["items"]] == ids[::-1]  # newest first
    assert (page["total"], page["page"], page["size"], page["pages"]) == (3, 1, 50, 1)
    assert [c["id"] for c in _list(http, ws, reverse="true")["items"]] == ids
    two = _list(http, ws, page=2, size=2)
    assert [c["id"] for c in two["items"]] == [ids[0]] and two["pages"] == 2
    assert _list(http, ws, page=9, size=2)["items"] == []
    expect(http.post(ws_url(ws, "conclusions", "list"), params={"size": 100}), 200)
    for bad in ({"size": 101}, {"size": 0}, {"page": 0}, {"reverse": "maybe"}):
        expect(http.post(ws_url(ws, "conclusions", "list"), params=bad), 422)
    # The SDK's view filters: the pair, a session, `id in`.
    pair = _list(http, ws, {"observer_id": "alice", "observed_id": "bob"})
    assert [c["content"] for c in pair["items"]] == ["two"]
    assert [c["content"] for c in _list(http, ws, {"observer": "bob"})["items"]] == ["three"]
    assert [c["content"] for c in _list(http, ws, {"session_id": "s1"})["items"]] == ["three"]
    chosen = _list(http, ws, {"id": {"in": [ids[0], ids[2]]}})
    assert [c["id"] for c in chosen["items"]] == [ids[2], ids[0]]
    assert _list(http, ws, {"observer_id": "nobody"})["total"] == 0
    assert _list(http, ws, {"level": "explicit", "content": {"icontains": "TW"}})["total"] == 1
    either = {"OR": [{"observed_id": "bob"}, {"observer_id": "bob"}]}
    assert _list(http, ws, either)["total"] == 2
    # No body, a null body and empty filters all mean no filter.
    assert expect(http.post(ws_url(ws, "conclusions", "list")), 200)["total"] == 3
    assert _list(http, ws, {})["total"] == 3
    # An unknown workspace is an empty page.
    assert _list(http, uid("ws"))["items"] == []


def test_list_filter_errors(http: httpx.Client) -> None:
    ws = new_workspace(http)
    url = ws_url(ws, "conclusions", "list")
    assert detail(http.post(url, json={"filters": {"foo": 1}}), 422) == (
        "Column 'foo' does not exist on Document"
    )
    assert detail(http.post(url, json={"filters": {"level": {"gt": "a"}}}), 422) == (
        "Invalid numeric value: a. Expected a number, got str"
    )
    errors = detail(http.post(url, json={"filters": ["x"]}), 422)
    assert errors[0]["type"] == "dict_type"


async def test_source_ids_contains(http: httpx.Client, api: LiveServer, backend: str) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "alice")
    base, derived, other = conclude(
        http, ws, ("alice", "alice", "a"), ("alice", "alice", "b"), ("alice", "alice", "c")
    )
    value = f'["{base["id"]}", "zzz"]'
    cast = "CAST(:v AS jsonb)" if backend == "postgresql" else ":v"
    execute(
        api.settings.database_url,
        f"UPDATE documents SET source_ids = {cast}, level = 'deductive' WHERE public_id = :id",
        v=value,
        id=derived["id"],
    )
    found = _list(http, ws, {"source_ids": {"contains": base["id"]}})
    assert [c["id"] for c in found["items"]] == [derived["id"]]
    assert found["items"][0]["source_ids"] == [base["id"], "zzz"]
    assert found["items"][0]["level"] == "deductive"
    assert _list(http, ws, {"source_ids": {"contains": other["id"]}})["items"] == []


def test_query_finds_paraphrases(http: httpx.Client) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "alice", "bob")
    conclude(http, ws, *[("bob", "alice", f) for f in FACTS])
    conclude(http, ws, ("alice", "alice", "I am allergic to peanuts"))  # another pair
    pair = {"observer_id": "bob", "observed_id": "alice"}
    for question, expected in [
        ("What outdoor activities does she like?", FACTS[0]),
        ("Which foods can make her ill?", FACTS[1]),
        ("What is her job and where?", FACTS[2]),
        ("Does she have any pets?", FACTS[4]),
    ]:
        found = expect(_query(http, ws, {"query": question, "filters": pair, "top_k": 3}), 200)
        assert found[0]["content"] == expected, (question, found)
        assert len(found) == 3
        assert all(c["observer_id"] == "bob" for c in found)
    # `observer`/`observed` name the pair too; other keys filter within it.
    alias = {"observer": "bob", "observed": "alice", "content": {"icontains": "cats"}}
    found = expect(_query(http, ws, {"query": "pets", "filters": alias}), 200)
    assert [c["content"] for c in found] == [FACTS[4]]
    # `distance` keeps only results closer than it.
    assert expect(_query(http, ws, {"query": "pets", "filters": pair, "distance": 0}), 200) == []
    close = expect(
        _query(http, ws, {"query": "Does she have any pets?", "filters": pair, "distance": 0.6}),
        200,
    )
    assert [c["content"] for c in close][:1] == [FACTS[4]] and len(close) < len(FACTS)


def test_query_limits_and_errors(http: httpx.Client) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "a")
    conclude(http, ws, *[("a", "a", f"fact {i}") for i in range(3)])
    pair = {"observer_id": "a", "observed_id": "a"}
    assert len(expect(_query(http, ws, {"query": "x", "filters": pair, "top_k": 1}), 200)) == 1
    assert len(expect(_query(http, ws, {"query": "x", "filters": pair, "top_k": 100}), 200)) == 3
    assert len(expect(_query(http, ws, {"query": "x", "filters": pair}), 200)) == 3
    for bad in ({"top_k": 0}, {"top_k": 101}, {"distance": -0.1}, {"distance": 1.01}):
        errors = detail(_query(http, ws, {"query": "x", "filters": pair, **bad}), 422)
        assert errors[0]["loc"][0] == "body"
    assert detail(_query(http, ws, {"filters": pair}), 422)[0]["loc"] == ["body", "query"]
    required = "observer and observed must be specified for semantic search"
    for filters in (None, {}, {"observer_id": "a"}, {"observed": "a"}, {"observer_id": 1}):
        body = {"query": "x", "filters": filters}
        assert detail(_query(http, ws, body), 422) == required
    assert detail(_query(http, ws, {"query": "x", "filters": {**pair, "nope": 1}}), 422) == (
        "Column 'nope' does not exist on Document"
    )
    too_long = text_of_tokens(8193)
    assert detail(_query(http, ws, {"query": too_long, "filters": pair}), 422) == (
        "Query exceeds maximum token limit of 8192."
    )
    assert len(expect(_query(http, ws, {"query": text_of_tokens(8192), "filters": pair}), 200))
    # Unknown peers or workspace: nothing found.
    ghost = {"observer_id": "a", "observed_id": "ghost"}
    assert expect(_query(http, ws, {"query": "x", "filters": ghost}), 200) == []
    assert expect(_query(http, uid("ws"), {"query": "x", "filters": pair}), 200) == []


def test_get_and_delete(http: httpx.Client) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "a")
    keep, gone = conclude(http, ws, ("a", "a", "keep me"), ("a", "a", "delete me"))
    assert expect(http.get(ws_url(ws, "conclusions", keep["id"])), 200) == keep
    response = http.delete(ws_url(ws, "conclusions", gone["id"]))
    assert response.status_code == 204 and response.content == b""
    missing = f"Document {gone['id']} not found or does not belong to workspace {ws}"
    assert detail(http.delete(ws_url(ws, "conclusions", gone["id"])), 404) == missing
    assert detail(http.get(ws_url(ws, "conclusions", gone["id"])), 404) == missing
    assert [c["id"] for c in _list(http, ws)["items"]] == [keep["id"]]
    pair = {"observer_id": "a", "observed_id": "a"}
    found = expect(_query(http, ws, {"query": "delete me", "filters": pair}), 200)
    assert [c["id"] for c in found] == [keep["id"]]
    # Another workspace's conclusion is not found here.
    other = new_workspace(http)
    assert detail(http.delete(ws_url(other, "conclusions", keep["id"])), 404) == (
        f"Document {keep['id']} not found or does not belong to workspace {other}"
    )
    assert detail(http.get(ws_url(uid("ws"), "conclusions", "nope")), 404).startswith("Document")


async def test_v1_facts_are_self_conclusions(
    http: httpx.Client, api: LiveServer, embedder: Any
) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "carol")
    async with direct_runtime(api, embedder) as runtime, runtime.uow() as uow:
        workspace = await uow.workspaces.get_by_name(ws)
        assert workspace is not None
        peer = await uow.peers.get_by_name(workspace.id, "carol")
        assert peer is not None
        reserved = await collections.get_or_create_reserved(uow, workspace.id, peer.id)
        vector = np.asarray((await embedder.embed(["Carol speaks Portuguese"]))[0])
        from mindkeeper.core.ports import StoredVector

        await uow.documents.create(
            reserved,
            "Carol speaks Portuguese",
            {"message_id": "m"},
            StoredVector(vector, embedder.model_id),
            runtime.now(),
        )
        await uow.commit()
    found = _list(http, ws, {"observer_id": "carol", "observed_id": "carol"})["items"]
    assert [(c["content"], c["level"], c["observed_id"]) for c in found] == [
        ("Carol speaks Portuguese", "explicit", "carol")
    ]
    pair = {"observer_id": "carol", "observed_id": "carol"}
    hits = expect(
        _query(http, ws, {"query": "Which languages does she know?", "filters": pair}), 200
    )
    assert hits[0]["content"] == "Carol speaks Portuguese"
    # A v3 conclusion of the same pair lands in the same collection.
    conclude(http, ws, ("carol", "carol", "Carol lives in Lisbon"))
    assert _list(http, ws, pair)["total"] == 2


SYNC_SCRIPT = """
alice, bob = client().peer("alice"), client().peer("bob")
view = alice.conclusions_of("bob")
made = view.create([
    {"content": "Bob collects vinyl records", "session_id": "s1"},
    {"content": "Bob is learning Japanese"},
])
listed = [c.content for c in view.list()]
got = client().conclusions.get(made[0].id)
many = [c.id for c in view.get_many([made[0].id, made[1].id])]
hits = [c.content for c in view.query("What music does he listen to?", top_k=1)]
derived = [c.id for c in view.derived(made[0].id)]
view.delete(made[1].id)
after = [c.content for c in view.list()]
own = [c.content for c in alice.conclusions.list()]
emit({
    "made": [[c.content, c.observer_id, c.observed_id, c.session_id, c.level] for c in made],
    "listed": listed, "got": [got.content, got.source_ids, got.times_derived],
    "many": sorted(many) == sorted(c.id for c in made), "hits": hits,
    "derived": derived, "after": after, "own": own,
    "missing": errors(lambda: view.get("nope")),
})
"""

ASYNC_SCRIPT = """
async def main():
    h = client().aio
    alice = await h.peer("alice")
    view = alice.conclusions_of("bob").aio
    made = await view.create([{"content": "Bob collects vinyl records", "session_id": "s1"}])
    hits = [c.content for c in await view.query("What music does he listen to?", top_k=1)]
    got = await h.conclusions.get(made[0].id)
    emit({"hits": hits, "got": got.content})
"""


def test_sdk_conclusions(http: httpx.Client, sdk: SdkRunner) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "alice", "bob")
    make_session(http, ws, "s1", "alice", "bob")
    result = sdk.run(SYNC_SCRIPT, workspace=ws)
    assert result["made"] == [
        ["Bob collects vinyl records", "alice", "bob", "s1", "explicit"],
        ["Bob is learning Japanese", "alice", "bob", None, "explicit"],
    ]
    assert result["listed"] == ["Bob is learning Japanese", "Bob collects vinyl records"]
    assert result["got"] == ["Bob collects vinyl records", [], 1]
    assert result["many"] is True
    assert result["hits"] == ["Bob collects vinyl records"]
    assert result["derived"] == []
    assert result["after"] == ["Bob collects vinyl records"]
    assert result["own"] == []
    assert result["missing"][0] == "NotFoundError"


def test_sdk_conclusions_async(http: httpx.Client, sdk: SdkRunner) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "alice", "bob")
    make_session(http, ws, "s1", "alice", "bob")
    result = sdk.run(ASYNC_SCRIPT, workspace=ws)
    assert result == {"hits": ["Bob collects vinyl records"], "got": "Bob collects vinyl records"}
