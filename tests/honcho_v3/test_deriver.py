"""The deriver of the named surface, end to end over HTTP with the fake model server:
observers per message (observe_me / observe_others), one extraction per work unit, the same
conclusions in every observer's collection with the session as provenance, de-duplication,
peer cards, summaries every N messages, configuration switches, jobs that wait without a
model, and v1 messages becoming the user's conclusions about itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.deriver.fakes import FakeModelServer
from tests.honcho_v3.memory_fakes import (
    conclusions,
    fact_calls,
    model_settings,
    queue_status,
    settle,
    start_fake,
)
from tests.honcho_v3.support import expect, uid, ws_url


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


def _post(http: httpx.Client, ws: str, session: str, *messages: dict[str, Any]) -> Any:
    url = ws_url(ws, "sessions", session, "messages")
    return expect(http.post(url, json={"messages": list(messages)}), 201)


def _session(http: httpx.Client, ws: str, name: str, **body: Any) -> None:
    expect(http.post(ws_url(ws, "sessions"), json={"id": name, **body}), 201)


def test_observers_learn_the_same_conclusions_once_per_work_unit(
    live: LiveServer, fake: FakeModelServer
) -> None:
    ws, s = uid("ws"), uid("s")
    with live.client() as http:
        _session(
            http,
            ws,
            s,
            peers={"alice": {}, "bob": {"observe_others": True}, "carol": {}},
        )
        _post(
            http,
            ws,
            s,
            {"peer_id": "alice", "content": "FACT: Alice lives in Lisbon."},
            {"peer_id": "alice", "content": "FACT: Alice keeps three cats."},
            {"peer_id": "bob", "content": "FACT: Bob plays chess on Sundays."},
        )
        status = settle(http, ws)
        assert status["completed_work_units"] == 3
        # One extraction for alice's two messages (one work unit), one for bob's.
        assert fact_calls(fake) == 2
        own = conclusions(http, ws, "alice", "alice")
        assert [c["content"] for c in own] == [
            "Alice lives in Lisbon.",
            "Alice keeps three cats.",
        ]
        assert {c["session_id"] for c in own} == {s}
        assert {c["level"] for c in own} == {"explicit"}
        seen_by_bob = conclusions(http, ws, "bob", "alice")
        assert [c["content"] for c in seen_by_bob] == [c["content"] for c in own]
        assert conclusions(http, ws, "carol", "alice") == []  # carol does not observe others
        assert [c["content"] for c in conclusions(http, ws, "bob", "bob")] == [
            "Bob plays chess on Sundays."
        ]
        assert conclusions(http, ws, "alice", "bob") == []

        # The same fact again is not stored twice; it counts one more derivation.
        _post(http, ws, s, {"peer_id": "alice", "content": "FACT: Alice lives in Lisbon."})
        settle(http, ws)
        again = conclusions(http, ws, "alice", "alice")
        assert len(again) == 2
        assert again[0]["times_derived"] == 2

        # Peer cards: each observer's card about alice holds the facts.
        card = expect(http.get(ws_url(ws, "peers", "alice", "card")), 200)["peer_card"]
        assert "Card: Alice lives in Lisbon." in card
        bobs = http.get(ws_url(ws, "peers", "bob", "card"), params={"target": "alice"})
        assert "Card: Alice keeps three cats." in expect(bobs, 200)["peer_card"]


def test_configuration_decides_what_is_queued(live: LiveServer, fake: FakeModelServer) -> None:
    ws = uid("ws")
    with live.client() as http:
        expect(
            http.post(
                ws_url(ws, "peers"), json={"id": "shy", "configuration": {"observe_me": False}}
            ),
            201,
        )
        off = uid("s")
        _session(http, ws, off, configuration={"summary": {"enabled": False}})
        _post(http, ws, off, {"peer_id": "shy", "content": "FACT: Shy likes tea."})
        assert queue_status(http, ws)["total_work_units"] == 0  # nobody observes, no summaries

        legacy = uid("s")
        _session(
            http, ws, legacy, configuration={"skip_deriver": True, "summary": {"enabled": False}}
        )
        _post(http, ws, legacy, {"peer_id": "dana", "content": "FACT: Dana sings."})
        assert queue_status(http, ws)["total_work_units"] == 0

        plain = uid("s")
        _session(http, ws, plain, configuration={"reasoning": {"enabled": False}})
        _post(
            http,
            ws,
            plain,
            {"peer_id": "erin", "content": "FACT: Erin rows."},
            {
                "peer_id": "erin",
                "content": "FACT: Erin paints.",
                "configuration": {"reasoning": {"enabled": True}},
            },
        )
        settle(http, ws)
        # The message that turned reasoning back on was derived; the other only summarised.
        assert [c["content"] for c in conclusions(http, ws, "erin", "erin")] == ["Erin paints."]
        assert fact_calls(fake) == 1
        card = expect(http.get(ws_url(ws, "peers", "shy", "card")), 200)
        assert card == {"peer_card": None}


def test_cards_are_not_created_when_the_session_says_so(live: LiveServer) -> None:
    ws, s = uid("ws"), uid("s")
    with live.client() as http:
        _session(http, ws, s, configuration={"peer_card": {"create": False}})
        _post(http, ws, s, {"peer_id": "finn", "content": "FACT: Finn surfs."})
        settle(http, ws)
        assert [c["content"] for c in conclusions(http, ws, "finn", "finn")] == ["Finn surfs."]
        card = expect(http.get(ws_url(ws, "peers", "finn", "card")), 200)
        assert card == {"peer_card": None}


def test_summaries_every_n_messages(live: LiveServer, fake: FakeModelServer) -> None:
    ws, s = uid("ws"), uid("s")
    with live.client() as http:
        _session(
            http,
            ws,
            s,
            configuration={
                "summary": {"messages_per_short_summary": 10, "messages_per_long_summary": 20}
            },
        )
        for batch in range(3):
            _post(
                http,
                ws,
                s,
                *[
                    {"peer_id": "gus" if i % 2 else "hal", "content": f"turn {batch * 10 + i}"}
                    for i in range(10)
                ],
            )
        settle(http, ws)
        summaries = expect(http.get(ws_url(ws, "sessions", s, "summaries")), 200)
        messages = expect(
            http.post(ws_url(ws, "sessions", s, "messages", "list"), params={"size": 100}), 200
        )["items"]
        short, long = summaries["short_summary"], summaries["long_summary"]
        assert short["message_id"] == messages[29]["id"]
        assert short["summary_type"] == "honcho_chat_summary_short"
        assert short["content"] == "Summary of 10 messages continuing."
        assert long["message_id"] == messages[19]["id"]
        assert long["content"] == "Summary of 20 messages."
        # Summaries at 10, 20 (long then short) and 30.
        assert len(fake.calls_for("fake-summary")) == 4


def test_without_a_model_derivations_wait_visibly(
    server_factory: Callable[..., LiveServer], fake: FakeModelServer
) -> None:
    idle = server_factory(worker_poll_seconds=0.02)
    ws, s = uid("ws"), uid("s")
    with idle.client() as http:
        _post(
            http,
            ws,
            s,
            {"peer_id": "ivy", "content": "FACT: Ivy fences."},
            {"peer_id": "ivy", "content": "hello"},
        )
        status = queue_status(http, ws)
        assert status["pending_work_units"] == 2
        assert status["in_progress_work_units"] == 0
        server = http.get("/queue/status").json()
        assert "MINDKEEPER_CHAT_MODEL" in server["deriver"]["unavailable"]
        assert server["stalled"] is False
    # A worker with a model picks the backlog up.
    ready = server_factory(**model_settings(fake))
    with ready.client() as http:
        status = settle(http, ws)
        assert status["completed_work_units"] == 2
        assert [c["content"] for c in conclusions(http, ws, "ivy", "ivy")] == ["Ivy fences."]


def test_v1_messages_become_the_users_conclusions_about_itself(live: LiveServer) -> None:
    with live.client() as http:
        app = expect(http.post("/v1/apps", json={"name": uid("app")}), 200)
        user = expect(http.post(f"/v1/apps/{app['id']}/users", json={"name": "uma"}), 200)
        base = f"/v1/apps/{app['id']}/users/{user['id']}/sessions"
        session = expect(http.post(base, json={}), 200)
        url = f"{base}/{session['id']}/messages"
        expect(http.post(url, json={"content": "FACT: Uma knits.", "is_user": True}), 200)
        ws = app["name"]
        settle(http, ws)
        found = conclusions(http, ws, "uma", "uma")
        assert [(c["content"], c["level"]) for c in found] == [("Uma knits.", "explicit")]
        assert found[0]["session_id"] == session["id"]  # a v1 session is named by its id
