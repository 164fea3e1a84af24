"""LangGraph's AgentCoreMemorySaver, unchanged, against the live server: a multi-turn graph
checkpointed in both formats, resumed from a fresh process, with the same state history as
LangGraph's in-memory saver on the same graph; forks from past checkpoints; delete_thread."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from tests.agentcore.langgraph_graph import build, config, history, run_turn, saver
from tests.agentcore.support import new_memory
from tests.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ("legacy", "snapshot")


def _transcript(turns: int) -> list[str]:
    lines: list[str] = []
    for turn in range(1, turns + 1):
        lines += [f"user:{turn}", f"think:{turn}", f"answer:{turn}:user:{turn}"]
    return lines


def _thread() -> str:
    return f"thread-{uuid.uuid4().hex[:10]}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_multi_turn_graph_matches_the_in_memory_saver_and_resumes_elsewhere(
    shared: LiveServer, control: Any, fmt: str
) -> None:
    memory_id = new_memory(control)
    actor, thread_id = "user/ada:42", _thread()
    app = build(saver(shared.url, memory_id, fmt))
    reference = build(InMemorySaver())
    for turn in (1, 2, 3):
        assert run_turn(app, thread_id, actor, turn) == {
            "transcript": _transcript(turn),
            "turns": turn,
        }
        run_turn(reference, thread_id, actor, turn)
    assert history(app, thread_id, actor) == history(reference, thread_id, actor)
    snapshot = app.get_state(config(thread_id, actor))
    assert snapshot.values == {"transcript": _transcript(3), "turns": 3}

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.agentcore.langgraph_graph",
            shared.url,
            memory_id,
            actor,
            thread_id,
            "4",
            fmt,
        ],
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
    run_turn(reference, thread_id, actor, 4)
    assert seen["history_steps"] == [step for step, _, _ in history(reference, thread_id, actor)]
    assert history(app, thread_id, actor) == history(reference, thread_id, actor)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_past_checkpoint_can_be_forked(shared: LiveServer, control: Any, fmt: str) -> None:
    memory_id = new_memory(control)
    actor, thread_id = "actor-fork", _thread()
    app = build(saver(shared.url, memory_id, fmt))
    for turn in (1, 2):
        run_turn(app, thread_id, actor, turn)
    after_first = next(
        h
        for h in app.get_state_history(config(thread_id, actor))
        if h.values.get("turns") == 1 and not h.next
    )
    forked = app.invoke({"transcript": ["user:9"]}, after_first.config)
    assert forked["turns"] == 2
    assert forked["transcript"] == [*_transcript(1), "user:9", "think:2", "answer:2:user:9"]
    assert app.get_state(config(thread_id, actor)).values["transcript"][-1] == "answer:2:user:9"


@pytest.mark.parametrize("fmt", FORMATS)
def test_delete_thread_removes_every_event_across_pages(
    shared: LiveServer, control: Any, data: Any, fmt: str
) -> None:
    memory_id = new_memory(control)
    actor, thread_id = "actor-del", _thread()
    checkpointer = saver(shared.url, memory_id, fmt, max_results=7)
    app = build(checkpointer)
    for turn in range(1, 9):
        run_turn(app, thread_id, actor, turn)
    events = data.list_events(memoryId=memory_id, actorId=actor, sessionId=thread_id)
    assert events["events"]
    checkpointer.delete_thread(thread_id, actor)
    for session in data.list_sessions(memoryId=memory_id, actorId=actor)["sessionSummaries"]:
        left = data.list_events(
            memoryId=memory_id, actorId=actor, sessionId=session["sessionId"], maxResults=100
        )
        assert left["events"] == [], session
    assert app.get_state(config(thread_id, actor)).values == {}
