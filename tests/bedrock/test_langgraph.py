"""A real multi-turn LangGraph graph checkpointed in Mindkeeper through BedrockSessionSaver,
resumed from a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.bedrock.langgraph_graph import build, run_turn, saver
from tests.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]


def _transcript(turns: int) -> list[str]:
    lines: list[str] = []
    for turn in range(1, turns + 1):
        lines += [f"user:{turn}", f"think:{turn}", f"answer:{turn}:user:{turn}"]
    return lines


def test_multi_turn_graph_resumes_in_a_fresh_process(shared: LiveServer) -> None:
    checkpointer = saver(shared.url)
    thread_id = checkpointer.session_client.create_session().session_id
    app = build(checkpointer)
    config = {"configurable": {"thread_id": thread_id}}
    for turn in (1, 2, 3):
        state = run_turn(app, thread_id, turn)
        assert state == {"transcript": _transcript(turn), "turns": turn}

    snapshot = app.get_state(config)
    assert snapshot.values == {"transcript": _transcript(3), "turns": 3}
    assert snapshot.next == ()
    history = list(app.get_state_history(config))
    steps = [s.metadata["step"] for s in history]
    # Newest first; each turn checkpoints its input, the start, think and answer: steps -1..10.
    assert steps == list(range(10, -2, -1))
    assert steps[0] == snapshot.metadata["step"]
    assert [h.values.get("turns") for h in history[:3]] == [3, 2, 2]

    result = subprocess.run(
        [sys.executable, "-m", "tests.bedrock.langgraph_graph", shared.url, thread_id, "4"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["before"] == {"transcript": _transcript(3), "turns": 3}
    assert seen["before_next"] == []
    assert seen["after"] == {"transcript": _transcript(4), "turns": 4}
    assert seen["history_steps"] == list(range(14, -2, -1))

    # The parent process sees the turn the other process added, and can go on.
    assert app.get_state(config).values == {"transcript": _transcript(4), "turns": 4}
    assert run_turn(app, thread_id, 5) == {"transcript": _transcript(5), "turns": 5}
    client = checkpointer.session_client.client
    steps_listed = client.list_invocation_steps(sessionIdentifier=thread_id, maxResults=1000)
    assert len(steps_listed["invocationStepSummaries"]) >= 5 * 4


def test_a_past_checkpoint_can_be_read_and_forked(shared: LiveServer) -> None:
    checkpointer = saver(shared.url)
    thread_id = checkpointer.session_client.create_session().session_id
    app = build(checkpointer)
    for turn in (1, 2):
        run_turn(app, thread_id, turn)
    config = {"configurable": {"thread_id": thread_id}}
    after_first = next(
        h for h in app.get_state_history(config) if h.values.get("turns") == 1 and not h.next
    )
    assert after_first.values == {"transcript": _transcript(1), "turns": 1}
    forked = app.invoke({"transcript": ["user:9"]}, after_first.config)
    assert forked["turns"] == 2
    assert forked["transcript"] == [*_transcript(1), "user:9", "think:2", "answer:2:user:9"]
    assert app.get_state(config).values["transcript"][-1] == "answer:2:user:9"
