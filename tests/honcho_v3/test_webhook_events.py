"""`queue.empty` raised by the deriver: when a sender's work in a session drains, every webhook
endpoint of the workspace gets one signed event per observer whose facts were derived, and one
when a summary was written, named as upstream names them."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.deriver.fakes import FakeModelServer
from tests.honcho_v3.memory_fakes import model_settings, settle, start_fake
from tests.honcho_v3.support import expect, uid, wait_for, ws_url
from tests.honcho_v3.test_webhooks import SECRET, Receiver


@pytest.fixture
def fake() -> Iterator[FakeModelServer]:
    server = start_fake()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def live(server_factory: Callable[..., LiveServer], fake: FakeModelServer) -> LiveServer:
    return server_factory(**model_settings(fake, webhook_secret=SECRET, webhook_allow_private=True))


def _events(receiver: Receiver, path: str) -> list[dict[str, Any]]:
    out = []
    for request in receiver.at(path):
        expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-honcho-signature"] == expected
        out.append(json.loads(request.body))
    return out


def test_a_drained_work_unit_raises_queue_empty_per_observer(
    live: LiveServer, receiver: Receiver
) -> None:
    ws, s, path = uid("ws"), uid("s"), receiver.path()
    with live.client() as http:
        expect(http.post("/v3/workspaces", json={"id": ws}), 201)
        expect(http.post(ws_url(ws, "webhooks"), json={"url": receiver.url(path)}), 201)
        body = {"id": s, "peers": {"alice": {}, "bob": {"observe_others": True}}}
        expect(http.post(ws_url(ws, "sessions"), json=body), 201)
        messages = [{"peer_id": "alice", "content": "FACT: Alice lives in Lisbon."}]
        expect(http.post(ws_url(ws, "sessions", s, "messages"), json={"messages": messages}), 201)
        settle(http, ws)
        wait_for(lambda: len(receiver.at(path)) >= 2, "two queue.empty events")
        events = [e for e in _events(receiver, path) if e["type"] == "queue.empty"]
    assert sorted((e["data"]["observer"], e["data"]["observed"]) for e in events) == [
        ("alice", "alice"),
        ("bob", "alice"),
    ]
    for event in events:
        assert event["data"] == {
            "workspace_id": ws,
            "queue_type": "representation",
            "session_id": s,
            "observer": event["data"]["observer"],
            "observed": "alice",
        }


def test_events_reach_only_their_workspace(
    live: LiveServer, receiver: Receiver, fake: FakeModelServer
) -> None:
    ws, other, s = uid("ws"), uid("ws"), uid("s")
    mine, theirs = receiver.path(), receiver.path()
    with live.client() as http:
        for name in (ws, other):
            expect(http.post("/v3/workspaces", json={"id": name}), 201)
        expect(http.post(ws_url(ws, "webhooks"), json={"url": receiver.url(mine)}), 201)
        expect(http.post(ws_url(other, "webhooks"), json={"url": receiver.url(theirs)}), 201)
        messages = [{"peer_id": "carol", "content": "FACT: Carol runs marathons."}]
        expect(http.post(ws_url(ws, "sessions", s, "messages"), json={"messages": messages}), 201)
        settle(http, ws)
        wait_for(lambda: len(receiver.at(mine)) >= 1, "the queue.empty event")
    assert [e["data"]["workspace_id"] for e in _events(receiver, mine)] == [ws]
    assert receiver.at(theirs) == []
