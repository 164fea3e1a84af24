"""Message search (workspace, peer, session): meaning and text fused, scopes, filters,
`peer_perspective`, limits, tie order; messages embedded by the worker; the SDK's search."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mindkeeper.core.ports.derived import MessageVector
from mindkeeper.core.services.memory import indexing
from tests.conftest import LiveServer
from tests.honcho_v3.memory_support import (
    direct_runtime,
    make_peers,
    make_session,
    run_async,
    text_of_tokens,
)
from tests.honcho_v3.sdk import SdkRunner
from tests.honcho_v3.support import (
    MESSAGE_KEYS,
    detail,
    execute,
    expect,
    new_workspace,
    post_messages,
    uid,
    wait_for,
    ws_url,
)

DIARY = [
    "I adopted a golden retriever puppy last spring",
    "My sister is getting married in June",
    "The quarterly report is due on Friday",
    "I have been learning to play the cello",
    "We booked flights to Tokyo for the holidays",
    "Meet me at 5:30 near the cafe",
]


def embedded(api: LiveServer, ids: list[str]) -> Callable[[], bool]:
    """A condition: every message of `ids` has a vector."""

    def check() -> bool:
        rows = execute(
            api.settings.database_url,
            "SELECT count(*) FROM message_vectors WHERE message_id IN "
            + "("
            + ", ".join(f"'{i}'" for i in ids)
            + ")",
        )
        return int(rows[0][0]) == len(ids)

    return check


def post_and_index(
    http: httpx.Client, api: LiveServer, ws: str, session: str, *messages: tuple[str, str]
) -> list[dict[str, Any]]:
    """Post messages and wait until the worker has embedded them."""
    made = post_messages(http, ws, session, *messages)
    wait_for(embedded(api, [m["id"] for m in made]), "message vectors")
    return made


def _search(http: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    return http.post(path, json=body)


def contents(response: httpx.Response) -> list[str]:
    """The contents of a successful search's results."""
    return [m["content"] for m in expect(response, 200)]


@pytest.fixture(scope="module")
def diary(http: httpx.Client, api: LiveServer) -> Iterator[str]:
    """A workspace whose session `diary` holds DIARY (by alice) and `other` two messages."""
    ws = new_workspace(http)
    post_and_index(http, api, ws, "diary", *[("alice", text) for text in DIARY])
    post_and_index(
        http,
        api,
        ws,
        "other",
        ("bob", "My cat knocked a glass off the table"),
        ("alice", "The train to Lyon was delayed by an hour"),
    )
    yield ws


def test_paraphrases_find_messages(http: httpx.Client, diary: str) -> None:
    url = ws_url(diary, "search")
    for question, expected in [
        ("Which dog breed did they get?", DIARY[0]),
        ("wedding plans", DIARY[1]),
        ("Which musical instrument is she practising?", DIARY[3]),
        ("trip to Japan", DIARY[4]),
    ]:
        found = contents(_search(http, url, {"query": question, "limit": 3}))
        assert found[0] == expected, (question, found)
    result = expect(_search(http, url, {"query": "cello"}), 200)
    assert list(result[0]) == MESSAGE_KEYS
    assert result[0]["content"] == DIARY[3]
    assert (result[0]["peer_id"], result[0]["session_id"], result[0]["workspace_id"]) == (
        "alice",
        "diary",
        diary,
    )
    assert len(result) == 8  # no relevance cut-off: every message is a neighbour


def test_scopes(http: httpx.Client, diary: str) -> None:
    query = {"query": "pets and animals", "limit": 100}
    everywhere = contents(_search(http, ws_url(diary, "search"), query))
    assert len(everywhere) == 8
    in_session = contents(_search(http, ws_url(diary, "sessions", "other", "search"), query))
    assert sorted(in_session) == sorted(
        ["My cat knocked a glass off the table", "The train to Lyon was delayed by an hour"]
    )
    by_bob = contents(_search(http, ws_url(diary, "peers", "bob", "search"), query))
    assert by_bob == ["My cat knocked a glass off the table"]
    # The path's scope replaces the filter's workspace, session or peer.
    forced = {**query, "filters": {"session_id": "diary", "workspace_id": "elsewhere"}}
    assert sorted(
        contents(_search(http, ws_url(diary, "sessions", "other", "search"), forced))
    ) == (sorted(in_session))
    forced = {**query, "filters": {"peer_id": "alice"}}
    assert contents(_search(http, ws_url(diary, "peers", "bob", "search"), forced)) == by_bob
    # Unknown workspace, session or peer: nothing.
    assert expect(_search(http, ws_url(uid("ws"), "search"), query), 200) == []
    assert expect(_search(http, ws_url(diary, "sessions", "nope", "search"), query), 200) == []
    assert expect(_search(http, ws_url(diary, "peers", "nope", "search"), query), 200) == []


def test_filters(http: httpx.Client, api: LiveServer) -> None:
    ws = new_workspace(http)
    body = {
        "messages": [
            {"peer_id": "ann", "content": "red apples are sweet", "metadata": {"topic": "food"}},
            {"peer_id": "ann", "content": "red cars are fast", "metadata": {"topic": "cars"}},
            {"peer_id": "ben", "content": "red roses bloom", "metadata": {"topic": "garden"}},
        ]
    }
    made = expect(http.post(ws_url(ws, "sessions", "s", "messages"), json=body), 201)
    wait_for(embedded(api, [m["id"] for m in made]), "message vectors")
    url = ws_url(ws, "search")
    query = {"query": "red", "limit": 10}
    food = contents(_search(http, url, {**query, "filters": {"metadata": {"topic": "food"}}}))
    assert food == ["red apples are sweet"]
    by_ben = contents(_search(http, url, {**query, "filters": {"peer_id": "ben"}}))
    assert by_ben == ["red roses bloom"]
    not_ann = {"NOT": [{"peer_id": "ann"}]}
    assert contents(_search(http, url, {**query, "filters": not_ann})) == ["red roses bloom"]
    assert len(contents(_search(http, url, {**query, "filters": {"session_id": "s"}}))) == 3
    assert contents(_search(http, url, {**query, "filters": {"session_id": "x"}})) == []
    assert len(contents(_search(http, url, {**query, "filters": None}))) == 3
    bad = _search(http, url, {**query, "filters": {"content": "x"}})
    assert detail(bad, 422) == (
        "Column 'content' is not allowed to be filtered on or does not exist on Message"
    )
    bad = _search(http, url, {**query, "filters": {"peer_perspective": 3}})
    assert detail(bad, 422) == "peer_perspective must be a peer id"
    errors = detail(_search(http, url, {**query, "filters": "x"}), 422)
    assert errors[0]["type"] == "dict_type"


def test_limits_and_bad_input(http: httpx.Client, diary: str) -> None:
    url = ws_url(diary, "search")
    assert len(contents(_search(http, url, {"query": "x", "limit": 1}))) == 1
    assert len(contents(_search(http, url, {"query": "x", "limit": 100}))) == 8
    assert len(contents(_search(http, url, {"query": "x"}))) == 8  # default 10
    for limit in (0, 101, "many"):
        errors = detail(_search(http, url, {"query": "x", "limit": limit}), 422)
        assert errors[0]["loc"] == ["body", "limit"]
    assert detail(_search(http, url, {}), 422)[0]["loc"] == ["body", "query"]
    assert detail(_search(http, url, {"query": 5}), 422)[0]["type"] == "string_type"
    assert detail(_search(http, url, {"query": text_of_tokens(8193)}), 422) == (
        "Query exceeds maximum token limit of 8192."
    )
    assert len(contents(_search(http, url, {"query": text_of_tokens(8192), "limit": 2}))) == 2


def test_text_matches(http: httpx.Client, diary: str) -> None:
    url = ws_url(diary, "search")
    # Punctuation makes the query a plain substring test.
    assert contents(_search(http, url, {"query": "5:30", "limit": 1})) == [DIARY[5]]
    # Case does not matter; an empty query matches every message as text.
    assert contents(_search(http, url, {"query": "QUARTERLY REPORT", "limit": 1})) == [DIARY[2]]
    assert len(contents(_search(http, url, {"query": "", "limit": 5}))) == 5


def test_tie_order_is_insertion_order(http: httpx.Client, api: LiveServer) -> None:
    ws = new_workspace(http)
    made = post_and_index(http, api, ws, "s", *[("p", "zebra stripes")] * 3)
    found = expect(_search(http, ws_url(ws, "search"), {"query": "zebra stripes"}), 200)
    # Meaning ranks them 1, 2, 3 (equal distances, by insertion); text ranks them newest
    # first (3, 2, 1); the fused scores of the first and the third are equal.
    assert [m["id"] for m in found] == [made[0]["id"], made[2]["id"], made[1]["id"]]


def test_peer_perspective(http: httpx.Client, api: LiveServer) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "alice", "bob", "carol")
    make_session(http, ws, "room", "alice", "bob")
    before = post_and_index(http, api, ws, "room", ("bob", "before carol came"))
    expect(http.post(ws_url(ws, "sessions", "room", "peers"), json={"carol": {}}), 200)
    during = post_and_index(http, api, ws, "room", ("bob", "while carol was here"))
    expect(http.request("DELETE", ws_url(ws, "sessions", "room", "peers"), json=["carol"]), 200)
    after = post_and_index(http, api, ws, "room", ("bob", "after carol left"))
    url = ws_url(ws, "search")
    seen = expect(
        _search(http, url, {"query": "carol", "filters": {"peer_perspective": "carol"}}), 200
    )
    assert [m["id"] for m in seen] == [during[0]["id"]]
    everything = {m["id"] for m in expect(_search(http, url, {"query": "carol"}), 200)}
    assert everything == {before[0]["id"], during[0]["id"], after[0]["id"]}
    alice = {
        m["id"]
        for m in expect(
            _search(http, url, {"query": "carol", "filters": {"peer_perspective": "alice"}}), 200
        )
    }
    assert alice == everything
    nobody = {"query": "carol", "filters": {"peer_perspective": "nobody"}}
    assert expect(_search(http, url, nobody), 200) == []


def test_without_embedder(server_factory: Callable[..., LiveServer]) -> None:
    server = server_factory(runtime_embedder=None, worker_poll_seconds=0.05)
    with server.client() as http:
        ws = new_workspace(http)
        post_messages(http, ws, "s", ("p", "plain text search still works"), ("p", "other"))
        upload = http.post(
            ws_url(ws, "sessions", "s", "messages", "upload"),
            data={"peer_id": "p"},
            files={"file": ("doc", b"an uploaded text", "text/plain")},
        )
        expect(upload, 201)
        found = contents(_search(http, ws_url(ws, "search"), {"query": "text search"}))
        assert found == ["plain text search still works"]
        # Nothing to embed with: no `embed` job was queued (`mindkeeper reindex` does it later).
        queued = execute(
            server.settings.database_url,
            "SELECT count(*) FROM jobs WHERE kind = :kind",
            kind=indexing.EMBED,
        )
        assert queued[0][0] == 0
        make_peers(http, ws, "q")
        body = {"conclusions": [{"observer_id": "q", "observed_id": "q", "content": "x"}]}
        assert detail(http.post(ws_url(ws, "conclusions"), json=body), 503) == (
            "No embedder is configured (MINDKEEPER_EMBEDDER is 'none')"
        )
        query = {"query": "x", "filters": {"observer_id": "q", "observed_id": "q"}}
        assert detail(http.post(ws_url(ws, "conclusions", "query"), json=query), 503) == (
            "No embedder is configured (MINDKEEPER_EMBEDDER is 'none')"
        )


SDK_SCRIPT = """
h = client()
alice = h.peer("alice")
session = h.session("diary")
emit({
    "workspace": [m.content for m in h.search("Which dog breed did they get?", limit=1)],
    "peer": [m.content for m in alice.search("trip to Japan", limit=1)],
    "session": [m.content for m in session.search("wedding", limit=2)],
    "filtered": [m.peer_id for m in h.search("cat", filters={"peer_id": "bob"})],
})
"""


def test_sdk_search(diary: str, sdk: SdkRunner) -> None:
    result = sdk.run(SDK_SCRIPT, workspace=diary)
    assert result["workspace"] == [DIARY[0]]
    assert result["peer"] == [DIARY[4]]
    assert result["session"][0] == DIARY[1]
    assert result["filtered"] == ["bob"]


async def _vector_of_another_model(
    server: LiveServer, embedder: Any, workspace_id: str, message_id: str
) -> None:
    async with direct_runtime(server, embedder) as runtime, runtime.uow() as uow:
        vector = (await embedder.embed(["anything"]))[0]
        await uow.message_index.put_vectors(
            [MessageVector(message_id, workspace_id, vector)], "older-model", runtime.now()
        )
        await uow.commit()


async def _reindex(server: LiveServer, embedder: Any) -> indexing.ReindexResult:
    async with direct_runtime(server, embedder) as runtime:
        return await indexing.reindex_messages(runtime, batch_size=1)


def test_reindex_embeds_unindexed_messages(
    server_factory: Callable[..., LiveServer], embedder: Any
) -> None:
    server = server_factory(worker_enabled=False)
    with server.client() as http:
        ws = new_workspace(http)
        made = post_messages(http, ws, "s", ("p", DIARY[0]), ("p", DIARY[2]))
        question = {"query": "Which dog breed did they get?", "limit": 1}
        # Not embedded yet (no worker): the text half alone finds nothing.
        assert contents(_search(http, ws_url(ws, "search"), question)) == []
        workspace_id = execute(
            server.settings.database_url,
            "SELECT workspace_id FROM messages WHERE public_id = :m",
            m=made[0]["id"],
        )[0][0]
        run_async(_vector_of_another_model(server, embedder, workspace_id, made[0]["id"]))
        first = run_async(_reindex(server, embedder))
        assert (first.total, first.embedded) == (2, 2)
        assert first.model_id == embedder.model_id
        again = run_async(_reindex(server, embedder))
        assert (again.total, again.embedded) == (0, 0)
        assert contents(_search(http, ws_url(ws, "search"), question)) == [DIARY[0]]
