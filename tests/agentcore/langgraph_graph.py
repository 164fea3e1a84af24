"""The Bedrock suite's deterministic LangGraph graph (no LLM: nodes append), checkpointed in
AgentCore Memory.

Used by test_langgraph_saver.py in-process and as a script in a fresh process:
`python -m tests.agentcore.langgraph_graph <endpoint> <memory_id> <actor> <thread_id> <turn>
<format>` resumes the thread, runs one more turn and prints what it saw as JSON.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from botocore.config import Config
from langgraph_checkpoint_aws import AgentCoreMemorySaver

from tests.bedrock.langgraph_graph import build as build

REGION = "us-east-1"


def saver(endpoint: str, memory_id: str, fmt: str = "legacy", **kwargs: Any) -> Any:
    """The package's AgentCore saver pointed at a Mindkeeper server, used unchanged."""
    return AgentCoreMemorySaver(
        memory_id,
        checkpoint_format=fmt,  # type: ignore[arg-type]
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        config=Config(retries={"max_attempts": 0, "mode": "standard"}),
        **kwargs,
    )


def config(thread_id: str, actor: str) -> dict[str, Any]:
    """The run config of a thread of an actor."""
    return {"configurable": {"thread_id": thread_id, "actor_id": actor}}


def run_turn(app: Any, thread_id: str, actor: str, turn: int) -> dict[str, Any]:
    """Send one user line; return the final state."""
    return dict(app.invoke({"transcript": [f"user:{turn}"]}, config(thread_id, actor)))


def history(app: Any, thread_id: str, actor: str) -> list[tuple[Any, Any, tuple[str, ...]]]:
    """The state history as (step, values, next) triples, newest first."""
    return [
        (s.metadata["step"], s.values, tuple(s.next))
        for s in app.get_state_history(config(thread_id, actor))
    ]


def main(endpoint: str, memory_id: str, actor: str, thread_id: str, turn: int, fmt: str) -> None:
    """Resume a thread in this (fresh) process, run one turn, print what was seen."""
    app = build(saver(endpoint, memory_id, fmt))
    before = app.get_state(config(thread_id, actor))
    after = run_turn(app, thread_id, actor, turn)
    steps = [step for step, _, _ in history(app, thread_id, actor)]
    print(
        json.dumps(
            {
                "before": before.values,
                "before_next": list(before.next),
                "after": after,
                "history_steps": steps,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
