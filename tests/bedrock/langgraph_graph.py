"""A deterministic LangGraph graph checkpointed in Bedrock sessions (no LLM: nodes append).

Used by test_langgraph.py in-process and as a script in a fresh process:
`python -m tests.bedrock.langgraph_graph <endpoint> <thread_id> <turn>` resumes the thread,
runs one more turn and prints the state before and after as JSON.
"""

from __future__ import annotations

import json
import operator
import sys
from typing import Annotated, Any, TypedDict

from botocore.config import Config
from langgraph.graph import END, START, StateGraph
from langgraph_checkpoint_aws import BedrockSessionSaver
from pydantic import SecretStr

REGION = "us-east-1"


class State(TypedDict):
    """The graph state: a transcript that grows and a turn counter."""

    transcript: Annotated[list[str], operator.add]
    turns: int


def think(state: State) -> dict[str, Any]:
    """Note the turn being worked on."""
    return {"transcript": [f"think:{state.get('turns', 0) + 1}"]}


def answer(state: State) -> dict[str, Any]:
    """Answer the last user line and count the turn."""
    users = [line for line in state["transcript"] if line.startswith("user:")]
    turn = state.get("turns", 0) + 1
    return {"transcript": [f"answer:{turn}:{users[-1]}"], "turns": turn}


def saver(endpoint: str) -> BedrockSessionSaver:
    """The package's Bedrock-session saver pointed at a Mindkeeper server."""
    return BedrockSessionSaver(
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=SecretStr("AKIDEXAMPLE"),
        aws_secret_access_key=SecretStr("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        config=Config(retries={"max_attempts": 0, "mode": "standard"}),
    )


def build(checkpointer: Any) -> Any:
    """Compile the two-node graph with the checkpointer."""
    graph = StateGraph(State)
    graph.add_node("think", think)
    graph.add_node("answer", answer)
    graph.add_edge(START, "think")
    graph.add_edge("think", "answer")
    graph.add_edge("answer", END)
    return graph.compile(checkpointer=checkpointer)


def run_turn(app: Any, thread_id: str, turn: int) -> dict[str, Any]:
    """Send one user line; return the final state."""
    config = {"configurable": {"thread_id": thread_id}}
    return dict(app.invoke({"transcript": [f"user:{turn}"]}, config))


def main(endpoint: str, thread_id: str, turn: int) -> None:
    """Resume a thread in this (fresh) process, run one turn, print what was seen."""
    app = build(saver(endpoint))
    config = {"configurable": {"thread_id": thread_id}}
    before = app.get_state(config)
    after = run_turn(app, thread_id, turn)
    history = [s.metadata["step"] for s in app.get_state_history(config)]
    print(
        json.dumps(
            {
                "before": before.values,
                "before_next": list(before.next),
                "after": after,
                "history_steps": history,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
