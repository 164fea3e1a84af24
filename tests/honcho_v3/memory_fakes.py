"""The scripted model of the v3 memory tests, served by the fake model server over real HTTP.

One model name, `fake-v3`, answers every prompt of the named surface by what its system
text asks for: facts (the `FACT: ...` sentences of the new messages), a peer card (the old
card plus one line per new fact), a dream (one deductive and one inductive conclusion over
the first conclusions, and a card), and the dialectic (an answer quoting the conclusions it
was given, or a JSON document when a schema is asked for). Summaries come from the shared
fake's `fake-summary`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.conftest import LiveServer
from tests.deriver.fakes import FACT, FakeModelServer, _section, facts_responder

MODEL = "fake-v3"


def _facts(text: str) -> str:
    if "<latest_user_message>" in text:  # the v1 deriver's prompt
        return facts_responder(text)
    new = re.search(r"<new_messages[^>]*>\n?(.*?)\n?</new_messages>", text, re.DOTALL)
    return json.dumps({"facts": FACT.findall(new.group(1) if new else "")})


def _card(text: str) -> str:
    old = [ln for ln in _section(text, "card").splitlines() if ln and ln != "(empty)"]
    new = [ln[2:] for ln in _section(text, "new_facts").splitlines() if ln.startswith("- ")]
    return json.dumps({"card": old + [f"Card: {f}" for f in new if f"Card: {f}" not in old]})


def _dream(text: str) -> str:
    lines = [ln for ln in _section(text, "conclusions").splitlines() if ln[:1].isdigit()]
    if len(lines) < 2:
        return json.dumps({"deductive": [], "inductive": [], "contradictions": []})
    return json.dumps(
        {
            "deductive": [{"conclusion": "Deduced from the first two.", "premises": [1, 2]}],
            "inductive": [
                {"conclusion": "A pattern across all.", "sources": [1, 2], "confidence": "high"}
            ],
            "contradictions": [],
            "card": ["Dreamed card line"],
        }
    )


def _dialectic(text: str) -> str:
    facts = [ln[2:] for ln in _section(text, "conclusions").splitlines() if ln.startswith("- ")]
    answer = "Known: " + (" ".join(facts) if facts else "nothing.")
    if "JSON Schema" in text:
        return json.dumps({"answer": answer})
    return answer


def v3_responder(text: str) -> str:
    """Answer a v3 memory prompt."""
    if "You maintain a memory of facts about" in text:
        return _facts(text)
    if "You keep the peer card of" in text:
        return _card(text)
    if "You consolidate what is known" in text:
        return _dream(text)
    return _dialectic(text)


def start_fake() -> FakeModelServer:
    """A fake model server that also answers `fake-v3`."""
    fake = FakeModelServer().start()
    fake.responders[MODEL] = v3_responder
    return fake


def model_settings(fake: FakeModelServer, **overrides: Any) -> dict[str, Any]:
    """Server settings whose roles use the fake, with quick polls and retries."""
    settings: dict[str, Any] = {
        "chat_base_url": fake.openai_url,
        "deriver_model": MODEL,
        "summary_model": "fake-summary",
        "dialectic_model": MODEL,
        "worker_poll_seconds": 0.02,
        "model_timeout_seconds": 5.0,
        "model_max_retries": 0,
        "deriver_retry_base_seconds": 0.05,
        "deriver_retry_max_seconds": 0.1,
        "deriver_max_attempts": 3,
    }
    settings.update(overrides)
    return settings


def queue_status(http: httpx.Client, workspace: str, **params: str) -> dict[str, Any]:
    """GET .../queue/status."""
    response = http.get(f"/v3/workspaces/{workspace}/queue/status", params=params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def settle(http: httpx.Client, workspace: str, deadline: float = 60.0) -> dict[str, Any]:
    """Wait until nothing of the workspace is pending or in progress."""
    end = time.monotonic() + deadline
    while True:
        status = queue_status(http, workspace)
        if status["pending_work_units"] == 0 and status["in_progress_work_units"] == 0:
            return status
        if time.monotonic() > end:
            raise AssertionError(f"work did not settle: {status}")
        time.sleep(0.05)


def conclusions(
    http: httpx.Client, workspace: str, observer: str, observed: str
) -> list[dict[str, Any]]:
    """Every conclusion of the pair, oldest first."""
    body = {"filters": {"observer_id": observer, "observed_id": observed}}
    response = http.post(
        f"/v3/workspaces/{workspace}/conclusions/list?size=100&reverse=true", json=body
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def fact_calls(fake: FakeModelServer) -> int:
    """How many fact extractions the fake answered."""
    return sum(
        1
        for call in fake.calls_for(MODEL)
        if "You maintain a memory of facts" in json.dumps(call.body.get("messages"))
    )


Starter = Callable[..., LiveServer]
