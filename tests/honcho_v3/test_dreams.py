"""Dreams over HTTP and the honcho-ai 2.7.0 SDK: POST .../schedule_dream (204, 400 when
disabled, 422 for an unknown type, one pending dream per identical request), and the worker's
omni dream (deductive and inductive conclusions with their sources, a new card) and
card refresh (with and without `rebuild`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.deriver.fakes import FakeModelServer
from tests.honcho_v3.memory_fakes import (
    MODEL,
    conclusions,
    model_settings,
    queue_status,
    settle,
    start_fake,
)
from tests.honcho_v3.sdk import SdkRunner
from tests.honcho_v3.support import detail, expect, uid, wait_for, ws_url


@pytest.fixture
def fake() -> Iterator[FakeModelServer]:
    """The scripted model server."""
    server = start_fake()
    yield server
    server.stop()


def _dream(http: httpx.Client, ws: str, **body: Any) -> httpx.Response:
    return http.post(ws_url(ws, "schedule_dream"), json=body)


def _seed(http: httpx.Client, ws: str, peer: str, *contents: str) -> None:
    expect(http.post(ws_url(ws, "peers"), json={"id": peer}), 201)
    items = [{"content": c, "observer_id": peer, "observed_id": peer} for c in contents]
    expect(http.post(ws_url(ws, "conclusions"), json={"conclusions": items}), 201)


def test_scheduling(server_factory: Callable[..., LiveServer], honcho_sdk_dir: Path) -> None:
    live = server_factory(worker_enabled=False)
    ws = uid("ws")
    with live.client() as http:
        expect(http.post("/v3/workspaces", json={"id": ws}), 201)
        response = _dream(http, ws, observer="dee", dream_type="omni")
        assert response.status_code == 204 and response.content == b""
        assert _dream(http, ws, observer="dee", dream_type="omni").status_code == 204
        assert queue_status(http, ws)["pending_work_units"] == 1  # the same dream once
        card = _dream(http, ws, observer="dee", observed="eve", dream_type="card_refresh")
        assert card.status_code == 204
        assert queue_status(http, ws)["pending_work_units"] == 2
        errors = detail(_dream(http, ws, observer="dee", dream_type="nap"), 422)
        assert errors[0]["type"] == "enum"
        assert errors[0]["msg"] == "Input should be 'omni' or 'card_refresh'"
        assert detail(_dream(http, ws, dream_type="omni"), 422)[0]["loc"] == ["body", "observer"]
        # An unknown workspace is accepted and nothing is queued.
        assert _dream(http, uid("ws"), observer="x", dream_type="omni").status_code == 204

    script = """
    honcho = client()
    honcho.schedule_dream(observer="fay")
    emit(honcho.queue_status().pending_work_units)
    """
    assert SdkRunner(live.url, honcho_sdk_dir).run(script, workspace=ws) == 3

    off = server_factory(worker_enabled=False, dream_enabled=False)
    with off.client() as http:
        refused = _dream(http, ws, observer="dee", dream_type="omni")
        assert detail(refused, 400) == "Dreams are not enabled in the system configuration"


def test_dreams_write_conclusions_and_cards(
    server_factory: Callable[..., LiveServer], fake: FakeModelServer
) -> None:
    live = server_factory(**model_settings(fake))
    ws = uid("ws")
    with live.client() as http:
        _seed(http, ws, "gil", "Gil runs every morning.", "Gil entered a marathon.")
        expect(_dream(http, ws, observer="gil", dream_type="omni"), 204)
        settle(http, ws)
        found = conclusions(http, ws, "gil", "gil")
        given = {c["content"]: c["id"] for c in found if c["level"] == "explicit"}
        by_level = {c["level"]: c for c in found if c["level"] != "explicit"}
        assert by_level["deductive"]["content"] == "Deduced from the first two."
        assert by_level["deductive"]["source_ids"] == [
            given["Gil runs every morning."],
            given["Gil entered a marathon."],
        ]
        assert by_level["inductive"]["content"] == "A pattern across all."
        card = expect(http.get(ws_url(ws, "peers", "gil", "card")), 200)
        assert card == {"peer_card": ["Dreamed card line"]}

        expect(_dream(http, ws, observer="gil", dream_type="card_refresh"), 204)
        settle(http, ws)
        refreshed = expect(http.get(ws_url(ws, "peers", "gil", "card")), 200)["peer_card"]
        assert refreshed[0] == "Dreamed card line"  # the old card was the start
        assert "Card: Gil runs every morning." in refreshed

        expect(_dream(http, ws, observer="gil", dream_type="card_refresh", rebuild=True), 204)
        settle(http, ws)
        rebuilt = expect(http.get(ws_url(ws, "peers", "gil", "card")), 200)["peer_card"]
        assert "Dreamed card line" not in rebuilt
        assert "Card: Gil entered a marathon." in rebuilt

        # A dream about a peer that does not exist ends with nothing done.
        expect(_dream(http, ws, observer="nobody", dream_type="omni"), 204)
        assert settle(http, ws)["pending_work_units"] == 0


def test_a_failing_dream_is_a_visible_dead_letter(
    server_factory: Callable[..., LiveServer], fake: FakeModelServer
) -> None:
    fake.responders[MODEL] = lambda text: "no JSON here"
    live = server_factory(**model_settings(fake, deriver_max_attempts=1))
    ws = uid("ws")
    with live.client() as http:
        _seed(http, ws, "hal", "Hal rides a tandem.")
        expect(_dream(http, ws, observer="hal", dream_type="omni"), 204)
        assert settle(http, ws)["completed_work_units"] == 1
        server = http.get("/queue/status").json()
        assert server["dead"] == 1
        assert server["sessions"] == []  # a dream is about no session
        assert "did not return a JSON object" in server["last_error"]
    printed = subprocess.run(
        [sys.executable, "-m", "mindkeeper.cli.main", "queue"],
        capture_output=True,
        text=True,
        env={**os.environ, "MINDKEEPER_DATABASE_URL": live.settings.database_url},
        timeout=120,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr
    assert "dead 1" in printed.stdout
    assert "the dream did not return a JSON object" in printed.stdout


def test_pairs_that_learnt_enough_dream_by_themselves(
    server_factory: Callable[..., LiveServer], fake: FakeModelServer
) -> None:
    live = server_factory(**model_settings(fake, dream_document_threshold=2, dream_idle_seconds=0))
    ws, s = uid("ws"), uid("s")
    with live.client() as http:
        body = {
            "messages": [
                {"peer_id": "ida", "content": "FACT: Ida grows tomatoes."},
                {"peer_id": "ida", "content": "FACT: Ida sells jam at the market."},
            ]
        }
        expect(http.post(ws_url(ws, "sessions", s, "messages"), json=body), 201)
        status = settle(http, ws)
        assert status["completed_work_units"] == 3  # two messages, then the dream
        levels = [c["level"] for c in conclusions(http, ws, "ida", "ida")]
        assert levels == ["explicit", "explicit", "deductive", "inductive"]
        # Within the minimum interval, new conclusions call for no other dream.
        more = {"messages": [{"peer_id": "ida", "content": "FACT: Ida owns a red van."}]}
        expect(http.post(ws_url(ws, "sessions", s, "messages"), json=more), 201)
        assert settle(http, ws)["completed_work_units"] == 4


def test_an_automatic_dream_waits_for_the_peer_to_be_idle(
    server_factory: Callable[..., LiveServer], fake: FakeModelServer
) -> None:
    live = server_factory(
        **model_settings(fake, dream_document_threshold=1, deriver_stall_seconds=0.05)
    )
    ws, s = uid("ws"), uid("s")
    with live.client() as http:
        body = {"messages": [{"peer_id": "jo", "content": "FACT: Jo repairs clocks."}]}
        expect(http.post(ws_url(ws, "sessions", s, "messages"), json=body), 201)
        wait_for(lambda: queue_status(http, ws)["completed_work_units"] == 1, "the derivation")
        status = queue_status(http, ws, observer_id="jo")
        assert (status["pending_work_units"], status["in_progress_work_units"]) == (1, 0)
        assert [c["level"] for c in conclusions(http, ws, "jo", "jo")] == ["explicit"]
        # A dream that is not due yet is no stalled work.
        time.sleep(0.2)
        ready = http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["queue"]["stalled"] is False
