"""GET /v3/workspaces/{W}/queue/status over HTTP and the honcho-ai 2.7.0 SDK: counts by state,
per session name, the session / sender / observer filters (together they all apply), unknown
names, and dead letters (completed here, listed by the server's /queue/status)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer
from tests.deriver.fakes import FakeModelServer, Fault
from tests.honcho_v3.memory_fakes import MODEL, model_settings, queue_status, settle, start_fake
from tests.honcho_v3.sdk import SdkRunner
from tests.honcho_v3.support import expect, uid, wait_for, ws_url

KEYS = [
    "total_work_units",
    "completed_work_units",
    "in_progress_work_units",
    "pending_work_units",
    "sessions",
]


@pytest.fixture
def fake() -> Iterator[FakeModelServer]:
    """The scripted model server."""
    server = start_fake()
    yield server
    server.stop()


def _counts(total: int, done: int, running: int, pending: int) -> dict[str, int]:
    return {
        "total_work_units": total,
        "completed_work_units": done,
        "in_progress_work_units": running,
        "pending_work_units": pending,
    }


def _post(http: httpx.Client, ws: str, session: str, *messages: tuple[str, str]) -> None:
    body = {"messages": [{"peer_id": p, "content": c} for p, c in messages]}
    expect(http.post(ws_url(ws, "sessions", session, "messages"), json=body), 201)


def test_counts_and_filters(
    server_factory: Callable[..., LiveServer], honcho_sdk_dir: Path
) -> None:
    live = server_factory(worker_enabled=False)  # nothing runs: every job stays pending
    ws, one, two = uid("ws"), uid("s"), uid("s")
    with live.client() as http:
        unknown = queue_status(http, uid("ws"))
        assert list(unknown) == KEYS
        assert unknown == {**_counts(0, 0, 0, 0), "sessions": None}

        expect(
            http.post(
                ws_url(ws, "sessions"),
                json={"id": one, "peers": {"amy": {}, "ben": {"observe_others": True}}},
            ),
            201,
        )
        _post(http, ws, one, ("amy", "a1"), ("amy", "a2"), ("ben", "b1"))
        _post(http, ws, two, ("amy", "a3"))

        status = queue_status(http, ws)
        assert status == {
            **_counts(4, 0, 0, 4),
            "sessions": {
                one: {"session_id": one, **_counts(3, 0, 0, 3)},
                two: {"session_id": two, **_counts(1, 0, 0, 1)},
            },
        }
        assert queue_status(http, ws, session_id=one) == {**_counts(3, 0, 0, 3), "sessions": None}
        assert queue_status(http, ws, sender_id="amy")["total_work_units"] == 3
        # ben observes amy in session one only; ben's own message is observed by ben.
        assert queue_status(http, ws, observer_id="ben")["total_work_units"] == 3
        both = queue_status(http, ws, observer_id="ben", sender_id="amy")
        assert both["total_work_units"] == 2  # both filters apply
        assert queue_status(http, ws, observer_id="", sender_id="", session_id="") == status
        for params in ({"session_id": "nope"}, {"sender_id": "nobody"}, {"observer_id": "x"}):
            assert queue_status(http, ws, **params) == {**_counts(0, 0, 0, 0), "sessions": None}

    script = """
    honcho = client()
    everything = honcho.queue_status()
    session = honcho.session(PARAMS["session"]).queue_status(observer="ben", sender="amy")
    emit({
        "total": everything.total_work_units,
        "sessions": sorted(everything.sessions),
        "session": [session.total_work_units, session.pending_work_units],
    })
    """
    result = SdkRunner(live.url, honcho_sdk_dir).run(script, workspace=ws, session=one)
    assert result == {"total": 4, "sessions": sorted([one, two]), "session": [2, 2]}


def test_dead_letters_count_as_completed_and_show_on_the_server(
    server_factory: Callable[..., LiveServer], fake: FakeModelServer
) -> None:
    fake.responders[MODEL] = lambda text: "no JSON here"
    live = server_factory(**model_settings(fake, deriver_max_attempts=1))
    ws, s = uid("ws"), uid("s")
    with live.client() as http:
        _post(http, ws, s, ("cy", "FACT: Cy sails."))
        status = settle(http, ws)
        assert status["completed_work_units"] == 1
        assert status["sessions"][s]["completed_work_units"] == 1
        server = http.get("/queue/status").json()
        assert server["dead"] == 1
        assert "did not return" in server["last_error"]
        assert server["sessions"][0]["dead"] == 1


def test_a_work_unit_in_hand_is_in_progress(
    server_factory: Callable[..., LiveServer], fake: FakeModelServer
) -> None:
    release = threading.Event()
    fake.fail(Fault("hang", release=release, model=MODEL))
    live = server_factory(**model_settings(fake, model_timeout_seconds=60.0))
    ws, s = uid("ws"), uid("s")
    with live.client() as http:
        _post(http, ws, s, ("dot", "FACT: Dot rows."), ("dot", "FACT: Dot sews."), ("eli", "hi"))
        # The first job is claimed with the sender's next one attached: both in progress.
        wait_for(
            lambda: queue_status(http, ws)["in_progress_work_units"] == 2,
            "the work unit to be claimed",
        )
        status = queue_status(http, ws)
        assert (status["pending_work_units"], status["completed_work_units"]) == (1, 0)
        release.set()
        assert settle(http, ws)["completed_work_units"] == 3
