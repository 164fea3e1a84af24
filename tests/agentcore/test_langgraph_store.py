"""LangGraph's AgentCoreMemoryStore, unchanged, against the live server: messages put as
conversational events, records extracted from them by the durable queue with the scripted
fake model, then found by search (hierarchical and exact) and get."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.config import Config
from langchain_core.messages import AIMessage, HumanMessage
from langgraph_checkpoint_aws import AgentCoreMemoryStore

from tests.agentcore.support import (
    KEY_ID,
    REGION,
    SECRET,
    control_client,
    data_client,
    new_memory,
)
from tests.conftest import LiveServer
from tests.deriver.conftest import model_settings, wait_for_queue
from tests.deriver.fakes import FakeModelServer


@pytest.fixture
def fake_models() -> Iterator[FakeModelServer]:
    """A scripted fake model server for one test."""
    server = FakeModelServer().start()
    yield server
    server.stop()


@pytest.fixture
def learning(server_factory: Callable[..., LiveServer], fake_models: FakeModelServer) -> LiveServer:
    """A server whose chat models are the fake."""
    return server_factory(**model_settings(fake_models))


def store(url: str, memory_id: str, **kwargs: Any) -> AgentCoreMemoryStore:
    """The package's store pointed at the server."""
    return AgentCoreMemoryStore(
        memory_id=memory_id,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 0, "mode": "standard"}),
        **kwargs,
    )


STRATEGIES = [
    {"semanticMemoryStrategy": {"name": "facts", "namespaceTemplates": ["/facts/{actorId}"]}},
    {
        "summaryMemoryStrategy": {
            "name": "summaries",
            "namespaceTemplates": ["/summaries/actors/{actorId}/sessions/{sessionId}/"],
        }
    },
]


def test_store_puts_messages_and_finds_extracted_records(learning: LiveServer) -> None:
    memory_id = new_memory(control_client(learning.url), memoryStrategies=STRATEGIES)
    items = store(learning.url, memory_id)
    items.put(("ada", "s1"), "k1", {"message": HumanMessage("FACT: Ada drinks green tea.")})
    items.put(("ada", "s1"), "k2", {"message": AIMessage("Noted, green tea it is.")})
    items.put(("ada", "s1"), "k3", {"message": HumanMessage("FACT: Ada lives in Lisbon.")})
    items.put(("bob", "s2"), "k4", {"message": HumanMessage("FACT: Bob plays the cello.")})
    wait_for_queue(learning.url)

    found = items.search(("facts", "ada"), query="what does Ada drink?", limit=5)
    contents = [f.value["content"] for f in found]
    assert set(contents) == {"Ada drinks green tea.", "Ada lives in Lisbon."}
    assert contents[0] == "Ada drinks green tea."
    assert all(0.0 <= (f.score or 0) <= 1.0 for f in found)
    assert found[0].score is not None and found[0].score >= (found[1].score or 0)
    assert all(f.value["namespaces"] == ["/facts/ada"] for f in found)
    assert items.search(("facts", "bob"), query="music", limit=5)[0].value["content"] == (
        "Bob plays the cello."
    )
    # Hierarchical from the root sees both actors; exact needs the exact namespace.
    assert len(items.search((), query="facts", limit=10)) >= 4
    exact = store(learning.url, memory_id, hierarchical_search=False)
    assert exact.search(("facts",), query="tea", limit=5) == []
    assert len(exact.search(("facts", "ada"), query="tea", limit=5)) == 2

    summary = items.search(("summaries", "actors", "ada"), query="conversation", limit=5)
    assert len(summary) == 1
    assert summary[0].value["content"].startswith("Summary of")

    got = items.get(("facts", "ada"), found[0].key)
    assert got is not None and got.value["content"] == found[0].value["content"]
    assert items.get(("facts", "ada"), "mem-" + "x" * 36) is None
    assert items.list_namespaces() == []


def test_without_a_model_extraction_waits_visibly(server: LiveServer) -> None:
    memory_id = new_memory(control_client(server.url), memoryStrategies=STRATEGIES)
    items = store(server.url, memory_id)
    items.put(("ada", "s1"), "k1", {"message": HumanMessage("FACT: Ada drinks green tea.")})
    status = server.client().get("/queue/status").json()
    assert status["pending"] >= 2
    assert status["deriver"]["unavailable"]
    jobs = data_client(server.url).list_memory_extraction_jobs(memoryId=memory_id)["jobs"]
    assert len(jobs) == 2
    assert {j["strategyId"] for j in jobs} == {
        s["strategyId"]
        for s in control_client(server.url).get_memory(memoryId=memory_id)["memory"]["strategies"]
    }
    assert all("status" not in j for j in jobs)
    assert items.search(("facts", "ada"), query="tea") == []
