"""Peer cards, representations, peer context, session context (token budget, summaries, a
peer's view) and session summaries; the SDK's methods for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from mindkeeper.core.services.memory import summaries
from tests.conftest import LiveServer
from tests.honcho_v3.memory_support import (
    SUMMARY_KEYS,
    TOKENS,
    conclude,
    make_peers,
    make_session,
    run_async,
    summarise,
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
    ws_url,
)

CONTEXT_KEYS = ["id", "messages", "summary", "peer_representation", "peer_card"]
PEER_CONTEXT_KEYS = ["peer_id", "target_id", "representation", "peer_card"]


def stamp(created_at: str) -> str:
    """A conclusion's `created_at` as a representation prints it."""
    return datetime.fromisoformat(created_at).strftime("%Y-%m-%d %H:%M:%S")


def card_url(ws: str, peer: str) -> str:
    """The card route of a peer."""
    return ws_url(ws, "peers", peer, "card")


def represent(http: httpx.Client, ws: str, peer: str, **body: Any) -> httpx.Response:
    """POST .../representation."""
    return http.post(ws_url(ws, "peers", peer, "representation"), json=body)


def representation(http: httpx.Client, ws: str, peer: str, **body: Any) -> str:
    """The representation text of a successful request."""
    result = expect(represent(http, ws, peer, **body), 200)
    assert list(result) == ["representation"]
    text: str = result["representation"]
    return text


def context(http: httpx.Client, ws: str, session: str, **query: Any) -> dict[str, Any]:
    """GET .../sessions/{S}/context."""
    result: dict[str, Any] = expect(
        http.get(ws_url(ws, "sessions", session, "context"), params=query), 200
    )
    assert list(result) == CONTEXT_KEYS
    return result


# --- peer cards ---------------------------------------------------------------------------


def test_card_read_and_replace(http: httpx.Client) -> None:
    ws = uid("ws")
    assert detail(http.get(card_url(ws, "alice")), 404) == (
        f"Peer alice not found in workspace {ws}"
    )
    # PUT creates the workspace and the peer; NUL characters are removed.
    card = ["Name: Alice", "Lives in\x00 Oslo"]
    assert expect(http.put(card_url(ws, "alice"), json={"peer_card": card}), 200) == {
        "peer_card": ["Name: Alice", "Lives in Oslo"]
    }
    assert expect(http.get(card_url(ws, "alice")), 200) == {
        "peer_card": ["Name: Alice", "Lives in Oslo"]
    }
    # A card about another peer is separate; a target never written reads null.
    assert expect(http.get(card_url(ws, "alice"), params={"target": "bob"}), 200) == {
        "peer_card": None
    }
    put = http.put(card_url(ws, "alice"), params={"target": "bob"}, json={"peer_card": ["Bob"]})
    assert expect(put, 200) == {"peer_card": ["Bob"]}
    assert expect(http.get(card_url(ws, "alice"), params={"target": "bob"}), 200) == {
        "peer_card": ["Bob"]
    }
    assert expect(http.get(card_url(ws, "bob")), 200) == {"peer_card": None}
    assert expect(http.get(card_url(ws, "alice")), 200)["peer_card"][0] == "Name: Alice"
    # An empty list is stored as an empty list.
    expect(http.put(card_url(ws, "alice"), json={"peer_card": []}), 200)
    assert expect(http.get(card_url(ws, "alice")), 200) == {"peer_card": []}


def test_card_bad_input(http: httpx.Client) -> None:
    ws = new_workspace(http)
    errors = detail(http.put(card_url(ws, "alice"), json={"peer_card": "x"}), 422)
    assert errors[0]["type"] == "list_type" and errors[0]["loc"] == ["body", "peer_card"]
    errors = detail(http.put(card_url(ws, "alice"), json={"peer_card": [1]}), 422)
    assert errors[0]["loc"] == ["body", "peer_card", 0]
    assert detail(http.put(card_url(ws, "alice"), json={}), 422)[0]["type"] == "missing"
    errors = detail(http.put(card_url(ws, "a b"), json={"peer_card": []}), 422)
    assert errors[0]["type"] == "string_pattern_mismatch"
    assert errors[0]["loc"] == ["path", "peer_id"]
    bad_target = http.put(card_url(ws, "alice"), params={"target": "x y"}, json={"peer_card": []})
    assert detail(bad_target, 422)[0]["loc"] == ["query", "target"]
    long_name = "x" * 513
    assert detail(http.put(card_url(ws, long_name), json={"peer_card": []}), 422)[0]["type"] == (
        "string_too_long"
    )
    expect(http.put(card_url(ws, "x" * 512), json={"peer_card": []}), 200)
    # Reads with odd names just miss.
    assert detail(http.get(card_url(ws, "a b")), 404) == f"Peer a b not found in workspace {ws}"


# --- representations --------------------------------------------------------------------


def test_representation_renders_markdown(http: httpx.Client, api: LiveServer, backend: str) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "alice", "bob")
    assert representation(http, ws, "alice") == ""
    assert representation(http, uid("ws"), "alice") == ""
    assert representation(http, ws, "nobody", target="alice") == ""
    first, second = conclude(
        http, ws, ("alice", "alice", "Alice likes hiking"), ("alice", "alice", "Alice owns a kayak")
    )
    expected = (
        "## Explicit Observations\n\n"
        f"[{stamp(first['created_at'])}] Alice likes hiking\n"
        f"[{stamp(second['created_at'])}] Alice owns a kayak\n"
    )
    assert representation(http, ws, "alice") == expected
    assert representation(http, ws, "alice", target="alice") == expected
    assert representation(http, ws, "alice", target="bob") == ""
    (deduced,) = conclude(http, ws, ("alice", "alice", "Alice enjoys the outdoors"))
    cast = "CAST(:v AS jsonb)" if backend == "postgresql" else ":v"
    execute(
        api.settings.database_url,
        f"UPDATE documents SET level = 'deductive', source_ids = {cast} WHERE public_id = :id",
        v=f'["{first["id"]}", "{second["id"]}"]',
        id=deduced["id"],
    )
    assert representation(http, ws, "alice") == (
        expected + "\n## Deductive Observations\n\n"
        f"[{stamp(deduced['created_at'])}] Alice enjoys the outdoors\n"
        "   Premises:\n   - Alice likes hiking\n   - Alice owns a kayak\n"
    )


def test_representation_selection(http: httpx.Client, api: LiveServer) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "alice", "bob")
    make_session(http, ws, "s1", "alice")
    make_session(http, ws, "s2", "alice")
    conclude(http, ws, ("bob", "alice", "Alice has a dog named Rex"), session="s1")
    conclude(http, ws, ("bob", "alice", "Alice drinks black coffee"), session="s2")
    conclude(http, ws, ("bob", "alice", "Alice reads science fiction"))

    def lines(**body: Any) -> list[str]:
        text = representation(http, ws, "bob", target="alice", **body)
        return [line.split("] ", 1)[1] for line in text.splitlines() if line.startswith("[")]

    assert lines() == [
        "Alice has a dog named Rex",
        "Alice drinks black coffee",
        "Alice reads science fiction",
    ]
    assert lines(max_conclusions=1) == ["Alice reads science fiction"]  # the newest
    assert lines(max_conclusions=1, search_query="What pet does she have?") == [
        "Alice has a dog named Rex"
    ]
    picked = lines(max_conclusions=2, search_query="morning drinks", search_top_k=1)
    assert picked == ["Alice drinks black coffee", "Alice reads science fiction"]
    assert lines(search_query="pets", search_max_distance=0.0, max_conclusions=1) == [
        "Alice reads science fiction"
    ]
    assert lines(session_id="s1") == ["Alice has a dog named Rex"]
    assert lines(filters={"session_id": ["s1", "s2"]}) == [
        "Alice has a dog named Rex",
        "Alice drinks black coffee",
    ]
    assert lines(filters={"session_id": {"in": ["s2"]}}, session_id="s2") == [
        "Alice drinks black coffee"
    ]
    assert lines(filters={"session_id": "unknown"}) == []
    assert lines(filters={"session_id": []}) == []  # an empty allowlist fails closed
    assert lines(session_id="unknown") == []
    for bad in ({"max_conclusions": 0}, {"max_conclusions": 101}, {"search_top_k": 0}):
        assert detail(represent(http, ws, "bob", **bad), 422)[0]["loc"][0] == "body"
    assert len(lines(max_conclusions=100)) == 3
    assert detail(represent(http, ws, "bob", search_max_distance=1.5), 422)[0]["loc"] == [
        "body",
        "search_max_distance",
    ]
    errors = detail(http.post(ws_url(ws, "peers", "bob", "representation")), 422)
    assert errors[0]["type"] == "missing"


def test_representation_most_frequent(http: httpx.Client, api: LiveServer) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "a")
    old, *_ = conclude(http, ws, *[("a", "a", f"fact number {i}") for i in range(4)])
    execute(
        api.settings.database_url,
        "UPDATE documents SET times_derived = 5 WHERE public_id = :id",
        id=old["id"],
    )
    text = representation(http, ws, "a", max_conclusions=2, include_most_frequent=True)
    assert [line.split("] ")[1] for line in text.splitlines()[2:]] == [
        "fact number 0",
        "fact number 3",
    ]
    text = representation(http, ws, "a", max_conclusions=2)
    assert [line.split("] ")[1] for line in text.splitlines()[2:]] == [
        "fact number 2",
        "fact number 3",
    ]


def test_representation_allowlist_errors(http: httpx.Client) -> None:
    ws = new_workspace(http)
    cases = [
        (
            {"filters": {"session_id": "a", "peer_id": "x", "b": 1}},
            "Unsupported filter key(s) for this endpoint: ['b', 'peer_id']. "
            "Only 'session_id' is supported.",
        ),
        ({"filters": {}}, "filters must contain 'session_id'"),
        (
            {"filters": {"session_id": 5}},
            'filters.session_id must be a session id, a list of session ids, or {"in": [...]}',
        ),
        (
            {"filters": {"session_id": {"in": "a", "x": 1}}},
            'filters.session_id must be a session id, a list of session ids, or {"in": [...]}',
        ),
        (
            {"filters": {"session_id": ["a", ""]}},
            "filters.session_id entries must be non-empty strings",
        ),
        (
            {"filters": {"session_id": ["a", 3]}},
            "filters.session_id entries must be non-empty strings",
        ),
        (
            {"filters": {"session_id": [f"s{i}" for i in range(1001)]}},
            "filters.session_id supports at most 1000 sessions per request",
        ),
        (
            {"filters": {"session_id": ["a"]}, "session_id": "b"},
            "session_id must be included in filters.session_id",
        ),
    ]
    for body, message in cases:
        assert detail(represent(http, ws, "alice", **body), 422) == message, body
    ok = {"filters": {"session_id": [f"s{i}" for i in range(1000)]}}
    assert representation(http, ws, "alice", **ok) == ""


# --- peer context -------------------------------------------------------------------------


def test_peer_context(http: httpx.Client) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "alice", "bob")
    (fact,) = conclude(http, ws, ("alice", "bob", "Bob plays the trumpet"))
    expect(
        http.put(card_url(ws, "alice"), params={"target": "bob"}, json={"peer_card": ["Bob"]}), 200
    )
    url = ws_url(ws, "peers", "alice", "context")
    found = expect(http.get(url, params={"target": "bob"}), 200)
    assert list(found) == PEER_CONTEXT_KEYS
    assert found == {
        "peer_id": "alice",
        "target_id": "bob",
        "representation": "## Explicit Observations\n\n"
        f"[{stamp(fact['created_at'])}] Bob plays the trumpet\n",
        "peer_card": ["Bob"],
    }
    own = expect(http.get(url), 200)
    assert own == {
        "peer_id": "alice",
        "target_id": "alice",
        "representation": "",
        "peer_card": None,
    }
    ghost = expect(http.get(url, params={"target": "ghost"}), 200)
    assert ghost == {
        "peer_id": "alice",
        "target_id": "ghost",
        "representation": "",
        "peer_card": None,
    }
    searched = expect(
        http.get(url, params={"target": "bob", "search_query": "music", "search_top_k": 1}), 200
    )
    assert "Bob plays the trumpet" in searched["representation"]
    for bad in ({"search_top_k": 0}, {"max_conclusions": 101}, {"search_max_distance": 2}):
        assert detail(http.get(url, params=bad), 422)[0]["loc"][0] == "query"
    expect(http.get(url, params={"max_conclusions": 100, "search_top_k": 100}), 200)
    assert detail(http.get(ws_url(ws, "peers", "nobody", "context")), 404) == (
        f"Peer nobody not found in workspace {ws}"
    )


# --- session context and summaries --------------------------------------------------------


def test_session_context_budget(http: httpx.Client) -> None:
    ws = new_workspace(http)
    made = post_messages(
        http,
        ws,
        "chat",
        ("alice", "good morning"),
        ("bob", "hello there, how was the weekend?"),
        ("alice", "we went sailing on the lake"),
        ("bob", "sounds lovely"),
    )
    counts = [m["token_count"] for m in made]
    everything = context(http, ws, "chat")
    assert [m["id"] for m in everything["messages"]] == [m["id"] for m in made]
    assert list(everything["messages"][0]) == MESSAGE_KEYS
    assert everything["summary"] is None
    assert everything["peer_representation"] is None and everything["peer_card"] is None
    last_two = counts[2] + counts[3]
    assert [m["id"] for m in context(http, ws, "chat", tokens=last_two)["messages"]] == [
        made[2]["id"],
        made[3]["id"],
    ]
    assert [m["id"] for m in context(http, ws, "chat", tokens=last_two - 1)["messages"]] == [
        made[3]["id"]
    ]
    assert context(http, ws, "chat", tokens=0)["messages"] == []
    assert context(http, ws, "chat", tokens=-5)["messages"] == []
    assert len(context(http, ws, "chat", tokens=100_000)["messages"]) == 4
    errors = detail(
        http.get(ws_url(ws, "sessions", "chat", "context"), params={"tokens": 100_001}), 422
    )
    assert errors[0]["loc"] == ["query", "tokens"]
    # A message that does not fit hides every older one.
    big = post_messages(http, ws, "chat", ("alice", "word " * 300), ("bob", "ok"))
    small_budget = big[1]["token_count"] + 5
    assert [m["id"] for m in context(http, ws, "chat", tokens=small_budget)["messages"]] == [
        big[1]["id"]
    ]
    # An unknown session has no messages.
    assert context(http, ws, "nope") == {
        "id": "nope",
        "messages": [],
        "summary": None,
        "peer_representation": None,
        "peer_card": None,
    }
    assert context(http, uid("ws"), "nope")["messages"] == []


def test_session_context_summaries(http: httpx.Client, api: LiveServer) -> None:
    ws = new_workspace(http)
    made = post_messages(http, ws, "chat", *[("alice", f"message {i}") for i in range(6)])
    summaries_url = ws_url(ws, "sessions", "chat", "summaries")
    assert expect(http.get(summaries_url), 200) == {
        "id": "chat",
        "short_summary": None,
        "long_summary": None,
    }
    run_async(summarise(api, ws, "chat", summaries.SHORT, "short one", made[2]["id"], 10))
    found = context(http, ws, "chat")
    summary = found["summary"]
    assert list(summary) == SUMMARY_KEYS
    assert summary["content"] == "short one"
    assert summary["message_id"] == made[2]["id"]
    assert summary["summary_type"] == "honcho_chat_summary_short"
    assert summary["token_count"] == 10
    assert summary["created_at"].endswith("Z") and len(summary["created_at"]) == 20
    # Messages after the summary's last message (not that message again).
    assert [m["id"] for m in found["messages"]] == [m["id"] for m in made[3:]]
    plain = context(http, ws, "chat", summary="false")
    assert plain["summary"] is None and len(plain["messages"]) == 6
    # The long summary wins when it fits in 40 % of the budget and is longer.
    run_async(summarise(api, ws, "chat", summaries.LONG, "long one", made[1]["id"], 40))
    assert context(http, ws, "chat")["summary"]["summary_type"] == "honcho_chat_summary_long"
    assert [m["id"] for m in context(http, ws, "chat")["messages"]] == [m["id"] for m in made[2:]]
    assert context(http, ws, "chat", tokens=100)["summary"]["summary_type"] == (
        "honcho_chat_summary_long"
    )
    assert context(http, ws, "chat", tokens=99)["summary"]["summary_type"] == (
        "honcho_chat_summary_short"
    )
    assert context(http, ws, "chat", tokens=24)["summary"] is None
    listed = expect(http.get(summaries_url), 200)
    assert list(listed) == ["id", "short_summary", "long_summary"]
    assert listed["short_summary"]["content"] == "short one"
    assert listed["long_summary"]["message_id"] == made[1]["id"]
    assert expect(http.get(ws_url(ws, "sessions", "nope", "summaries")), 200) == {
        "id": "nope",
        "short_summary": None,
        "long_summary": None,
    }
    # Without a token count in its metadata, a summary's tokens are counted when read.
    run_async(summarise(api, ws, "chat", summaries.SHORT, "newer short", made[4]["id"], 0))
    execute(
        api.settings.database_url,
        "UPDATE notes SET metadata = '{}' WHERE content = 'newer short'",
    )
    newest = expect(http.get(summaries_url), 200)["short_summary"]
    assert newest["content"] == "newer short"
    assert newest["token_count"] == TOKENS.count("newer short")


def test_session_context_peer_view(http: httpx.Client) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "alice", "bob")
    made = post_messages(http, ws, "chat", ("alice", "hi bob"), ("bob", "hi alice"))
    (fact,) = conclude(http, ws, ("alice", "alice", "Alice is a nurse"), session="chat")
    conclude(http, ws, ("alice", "alice", "Alice was born in Porto"))
    expect(http.put(card_url(ws, "alice"), json={"peer_card": ["Alice, nurse"]}), 200)
    found = context(http, ws, "chat", peer_target="alice")
    assert found["peer_representation"].startswith("## Explicit Observations\n\n")
    assert "Alice is a nurse" in found["peer_representation"]
    assert "Alice was born in Porto" in found["peer_representation"]
    assert found["peer_card"] == ["Alice, nurse"]
    assert len(found["messages"]) == 2
    limited = context(http, ws, "chat", peer_target="alice", limit_to_session="true")
    assert limited["peer_representation"] == (
        f"## Explicit Observations\n\n[{stamp(fact['created_at'])}] Alice is a nurse\n"
    )
    # Bob's view of Alice: nothing known, no card.
    bobs = context(http, ws, "chat", peer_target="alice", peer_perspective="bob")
    assert (bobs["peer_representation"], bobs["peer_card"]) == ("", None)
    # The view's tokens come off the budget.
    view_tokens = TOKENS.count(found["peer_representation"]) + TOKENS.count("Alice, nurse")
    budget = view_tokens + made[1]["token_count"]
    squeezed = context(http, ws, "chat", peer_target="alice", tokens=budget)
    assert [m["id"] for m in squeezed["messages"]] == [made[1]["id"]]
    url = ws_url(ws, "sessions", "chat", "context")
    assert detail(http.get(url, params={"peer_perspective": "bob"}), 422) == (
        "peer_target must be provided if peer_perspective is provided"
    )
    assert detail(http.get(url, params={"peer_target": "ghost"}), 404) == (
        f"Peer ghost not found in workspace {ws}"
    )
    assert detail(
        http.get(url, params={"peer_target": "alice", "peer_perspective": "ghost"}), 404
    ) == (f"Peer ghost not found in workspace {ws}")
    unknown = context(http, ws, "nope", peer_target="alice")
    assert unknown["messages"] == [] and "Alice is a nurse" in unknown["peer_representation"]
    for bad in ({"search_top_k": 0}, {"max_conclusions": 0}, {"summary": "maybe"}):
        assert detail(http.get(url, params=bad), 422)[0]["loc"][0] == "query"


SDK_SCRIPT = """
h = client()
alice, bob = h.peer("alice"), h.peer("bob")
alice.set_card(["Alice", "likes tea"])
alice.set_card(["Bob"], target="bob")
session = h.session("chat")
ctx = session.context(tokens=1000, peer_target="alice")
peer_ctx = alice.context(target="bob")
emit({
    "card": alice.get_card(),
    "card_bob": alice.get_card(target="bob"),
    "representation": alice.representation(),
    "peer_context": [peer_ctx.peer_id, peer_ctx.target_id, peer_ctx.representation,
                     peer_ctx.peer_card],
    "context_messages": [m.content for m in ctx.messages],
    "context_card": ctx.peer_card,
    "summaries": [session.summaries().short_summary, session.summaries().long_summary],
    "in_session": session.representation("alice"),
    "view": alice.conclusions_of("bob").representation(),
})
"""


def test_sdk_cards_and_context(http: httpx.Client, sdk: SdkRunner) -> None:
    ws = new_workspace(http)
    post_messages(http, ws, "chat", ("alice", "hello"), ("bob", "hi"))
    conclude(http, ws, ("alice", "alice", "Alice likes tea"))
    conclude(
        http,
        ws,
        ("alice", "alice", "Alice said hello"),
        ("alice", "bob", "Bob says hi"),
        session="chat",
    )
    result = sdk.run(SDK_SCRIPT, workspace=ws)
    assert result["card"] == ["Alice", "likes tea"]
    assert result["card_bob"] == ["Bob"]
    assert "] Alice likes tea\n" in result["representation"]
    assert result["in_session"].endswith("] Alice said hello\n")
    assert "Alice likes tea" not in result["in_session"]
    assert result["view"].endswith("] Bob says hi\n")
    assert result["peer_context"][:2] == ["alice", "bob"]
    assert result["peer_context"][2].endswith("] Bob says hi\n")
    assert result["peer_context"][3] == ["Bob"]
    assert result["context_messages"] == ["hello", "hi"]
    assert result["context_card"] == ["Alice", "likes tea"]
    assert result["summaries"] == [None, None]
