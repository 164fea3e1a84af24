"""Dialectic chat of the named surface over HTTP (and the honcho-ai 2.7.0 SDK): the order of
checks, the restricted filters and response formats with upstream's strings, a clear 503
without a model, whole and streamed answers in v3's SSE format, evidence, workspace chat."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.deriver.fakes import FakeModelServer
from tests.honcho_v3.memory_fakes import MODEL, model_settings, settle, start_fake
from tests.honcho_v3.sdk import SdkRunner
from tests.honcho_v3.support import detail, expect, uid, ws_url


@pytest.fixture
def fake() -> Iterator[FakeModelServer]:
    """The scripted model server."""
    server = start_fake()
    yield server
    server.stop()


@pytest.fixture
def live(server_factory: Callable[..., LiveServer], fake: FakeModelServer) -> LiveServer:
    """A server whose models are the fake."""
    return server_factory(**model_settings(fake))


def _learn(http: httpx.Client, ws: str, session: str, peer: str, *facts: str) -> None:
    body = {"messages": [{"peer_id": peer, "content": f"FACT: {f}"} for f in facts]}
    expect(http.post(ws_url(ws, "sessions", session, "messages"), json=body), 201)
    settle(http, ws)


def _chat(http: httpx.Client, ws: str, peer: str, **body: Any) -> httpx.Response:
    return http.post(ws_url(ws, "peers", peer, "chat"), json=body)


def _events(text: str) -> list[dict[str, Any]]:
    assert text.endswith("\n\n")
    events = []
    for block in text.split("\n\n")[:-1]:
        assert block.startswith("data: "), block
        events.append(json.loads(block[len("data: ") :]))
    return events


FILTER_ERRORS = [
    ({"peer_id": "x"}, "Unsupported filter key(s) for this endpoint: ['peer_id']. "
     "Only 'session_id' is supported."),
    ({}, "filters must contain 'session_id'"),
    ({"session_id": 3}, 'filters.session_id must be a session id, a list of session ids, '
     'or {"in": [...]}'),
    ({"session_id": ["a", ""]}, "filters.session_id entries must be non-empty strings"),
    ({"session_id": [f"s{i}" for i in range(1001)]},
     "filters.session_id supports at most 1000 sessions per request"),
]  # fmt: skip

FORMAT_ERRORS = [
    ([1], "Invalid response_format: response_format must be a JSON Schema object"),
    ({"type": "array"}, "Invalid response_format: root schema must have type 'object'"),
    (
        {"type": "object", "properties": {"a": {"allOf": []}}},
        "Invalid response_format: 'allOf' is not supported at /properties/a",
    ),
    (
        {"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}},
        "Invalid response_format: unresolvable $ref '#/$defs/missing' at /properties/a",
    ),
]


def test_checks_come_in_upstreams_order_and_words(
    server_factory: Callable[..., LiveServer],
) -> None:
    live = server_factory()  # no model at all
    ws = uid("ws")
    with live.client() as http:
        for filters, message in FILTER_ERRORS:
            assert detail(_chat(http, ws, "pat", query="q", filters=filters), 422) == message
        body = {"query": "q", "session_id": "b", "filters": {"session_id": {"in": ["a"]}}}
        assert detail(_chat(http, ws, "pat", **body), 422) == (
            "session_id must be included in filters.session_id"
        )
        for schema, message in FORMAT_ERRORS:
            assert detail(_chat(http, ws, "pat", query="q", response_format=schema), 422) == (
                message
            )
        errors = detail(_chat(http, ws, "pat", query="q", reasoning_level="huge"), 422)
        assert errors[0]["type"] == "literal_error"
        assert detail(_chat(http, ws, "pat", query=""), 422)[0]["type"] == "string_too_short"
        # Nothing was created by the refused requests.
        assert http.post("/v3/workspaces", json={"id": ws}).status_code == 201

        # The observer is created before the target and session are checked.
        missing_target = _chat(http, ws, "pat", query="q", target="nobody")
        assert detail(missing_target, 404) == f"Peer nobody not found in workspace {ws}"
        peers = expect(http.post(ws_url(ws, "peers", "list")), 200)["items"]
        assert [p["id"] for p in peers] == ["pat"]
        missing_session = _chat(http, ws, "pat", query="q", session_id="gone")
        assert detail(missing_session, 404) == f"Session gone not found in workspace {ws}"

        # Without a model: a clear 503 naming the setting, after the resource checks.
        response = _chat(http, ws, "pat", query="q", stream=True)
        assert "MINDKEEPER_CHAT_MODEL" in detail(response, 503)
        assert response.headers["x-should-retry"] == "false"
        workspace = http.post(ws_url(ws, "chat"), json={"query": "q"})
        assert "MINDKEEPER_DIALECTIC_MODEL" in detail(workspace, 503)
        unknown = http.post(ws_url(uid("ws"), "chat"), json={"query": "q"})
        assert detail(unknown, 404).startswith("Workspace ")


def test_answers_whole_and_streamed_with_evidence(live: LiveServer, fake: FakeModelServer) -> None:
    ws, s = uid("ws"), uid("s")
    with live.client() as http:
        expect(
            http.post(
                ws_url(ws, "sessions"),
                json={"id": s, "peers": {"quinn": {}, "rae": {"observe_others": True}}},
            ),
            201,
        )
        _learn(http, ws, s, "quinn", "Quinn bakes bread.")

        whole = expect(_chat(http, ws, "quinn", query="What does Quinn bake?"), 200)
        assert whole == {"content": "Known: Quinn bakes bread."}

        about = _chat(http, ws, "rae", query="Quinn?", target="quinn", include_evidence=True)
        body = expect(about, 200)
        assert list(body) == ["content", "evidence"]
        assert body["content"] == "Known: Quinn bakes bread."
        found = body["evidence"]["conclusions"]
        assert [(c["content"], c["observer_id"], c["observed_id"]) for c in found] == [
            ("Quinn bakes bread.", "rae", "quinn")
        ]
        assert list(found[0]) == [
            "id",
            "level",
            "content",
            "created_at",
            "session_id",
            "observer_id",
            "observed_id",
            "source_ids",
        ]
        assert found[0]["session_id"] == s
        tools = [t["tool_name"] for t in body["evidence"]["tool_calls"]]
        assert tools[0] == "search_memory"

        streamed = _chat(http, ws, "quinn", query="Bread?", stream=True, session_id=s)
        assert streamed.status_code == 200
        assert streamed.headers["content-type"] == "text/event-stream; charset=utf-8"
        events = _events(streamed.text)
        assert events[-1] == {"done": True}
        assert all(list(e) == ["delta", "done"] and e["done"] is False for e in events[:-1])
        assert "".join(e["delta"]["content"] for e in events[:-1]) == ("Known: Quinn bakes bread.")
        assert streamed.text.startswith('data: {"delta": {"content": "Known: "}, "done": false}')
        prompt = json.dumps(fake.calls_for(MODEL)[-1].body["messages"])
        assert "FACT: Quinn bakes bread." in prompt  # the session's recent messages

        with_evidence = _chat(http, ws, "quinn", query="x", stream=True, include_evidence=True)
        last = _events(with_evidence.text)[-1]
        assert last["done"] is True and last["evidence"]["conclusions"]

        schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
        shaped = expect(_chat(http, ws, "quinn", query="x", response_format=schema), 200)
        assert json.loads(shaped["content"]) == {"answer": "Known: Quinn bakes bread."}

        # The allowlist narrows recall to conclusions of those sessions (none: fail closed).
        narrowed = _chat(http, ws, "quinn", query="x", filters={"session_id": []})
        assert expect(narrowed, 200) == {"content": "Known: nothing."}

        # The workspace's chat reads every conclusion of the workspace.
        answer = expect(http.post(ws_url(ws, "chat"), json={"query": "bread"}), 200)
        assert "Quinn bakes bread." in answer["content"]


def test_the_sdk_chats(live: LiveServer, honcho_sdk_dir: Path) -> None:
    ws, s = uid("ws"), uid("s")
    with live.client() as http:
        _learn(http, ws, s, "sam", "Sam climbs mountains.")
    script = """
    honcho = client()
    sam = honcho.peer("sam")
    plain = sam.chat("What does Sam do?")
    streamed = "".join(sam.chat_stream("And?"))
    response = sam.chat("Evidence?", include_evidence=True)
    everyone = honcho.chat("Who climbs?")
    emit({
        "plain": plain,
        "streamed": streamed,
        "evidence": [c.content for c in response.evidence.conclusions],
        "workspace": everyone,
    })
    """
    result = SdkRunner(live.url, honcho_sdk_dir).run(script, workspace=ws)
    assert result["plain"] == "Known: Sam climbs mountains."
    assert result["streamed"] == "Known: Sam climbs mountains."
    assert result["evidence"] == ["Sam climbs mountains."]
    assert "Sam climbs mountains." in result["workspace"]
