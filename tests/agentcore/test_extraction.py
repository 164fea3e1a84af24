"""Extraction on the durable queue with the scripted fake model: strategies and their
namespaces, prompt overrides, ingestion, and faults (retried, dead-lettered, visible,
re-driven, never lost)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.agentcore.support import (
    T0,
    control_client,
    data_client,
    new_memory,
    put_event,
    raises_aws,
    text_item,
)
from tests.conftest import LiveServer
from tests.deriver.conftest import model_settings, wait_for_queue
from tests.deriver.fakes import FakeModelServer, Fault


@pytest.fixture
def fake_models() -> Iterator[FakeModelServer]:
    """A scripted fake model server for one test."""
    server = FakeModelServer().start()
    yield server
    server.stop()


@pytest.fixture
def learning(server_factory: Callable[..., LiveServer], fake_models: FakeModelServer) -> LiveServer:
    """A server whose chat models are the fake (three attempts per job)."""
    return server_factory(**model_settings(fake_models))


def _texts(data: Any, memory: str, path: str) -> list[str]:
    records = data.list_memory_records(memoryId=memory, namespacePath=path)
    return sorted(r["content"]["text"] for r in records["memoryRecordSummaries"])


def test_each_strategy_writes_into_its_namespace(learning: LiveServer) -> None:
    control, data = control_client(learning.url), data_client(learning.url)
    memory = new_memory(
        control,
        memoryStrategies=[
            {"semanticMemoryStrategy": {"name": "facts", "namespaceTemplates": ["/f/{actorId}/"]}},
            {
                "userPreferenceMemoryStrategy": {
                    "name": "prefs",
                    "namespaceTemplates": ["/p/{actorId}/"],
                }
            },
            {
                "summaryMemoryStrategy": {
                    "name": "sums",
                    "namespaceTemplates": ["/s/{actorId}/{sessionId}/"],
                }
            },
            {
                "episodicMemoryStrategy": {
                    "name": "episodes",
                    "namespaceTemplates": ["/e/{actorId}/{sessionId}/"],
                    "reflectionConfiguration": {"namespaceTemplates": ["/r/{actorId}/"]},
                }
            },
        ],
    )
    put_event(data, memory, actor="ada", payload=[text_item("FACT: Ada likes figs.")])
    put_event(data, memory, actor="ada", payload=[text_item("Figs are great.", "ASSISTANT")])
    put_event(data, memory, actor="ada", payload=[{"blob": "FACT: never extracted."}])
    put_event(
        data,
        memory,
        actor="ada",
        payload=[text_item("FACT: Ada hates rain.")],
        extractionMode="SKIP",
    )
    wait_for_queue(learning.url)
    assert _texts(data, memory, "/f/ada") == ["Ada likes figs."]
    assert _texts(data, memory, "/p/ada") == ["Ada likes figs."]
    summaries = _texts(data, memory, "/s/ada/session-1")
    assert len(summaries) == 1 and summaries[0].startswith("Summary of 1 messages continuing")
    assert len(_texts(data, memory, "/e/ada/session-1")) == 1
    assert len(_texts(data, memory, "/r/ada")) == 1
    strategies = control.get_memory(memoryId=memory)["memory"]["strategies"]
    facts_id = strategies[0]["strategyId"]
    listed = data.list_memory_records(
        memoryId=memory, namespacePath="/", memoryStrategyId=facts_id
    )["memoryRecordSummaries"]
    assert [r["memoryStrategyId"] for r in listed] == [facts_id]
    assert data.list_memory_extraction_jobs(memoryId=memory)["jobs"] == []


def test_prompt_overrides_and_who_is_read(
    learning: LiveServer, fake_models: FakeModelServer
) -> None:
    control, data = control_client(learning.url), data_client(learning.url)
    memory = new_memory(
        control,
        memoryStrategies=[
            {
                "customMemoryStrategy": {
                    "name": "food",
                    "namespaceTemplates": ["/food/{actorId}/"],
                    "configuration": {
                        "userPreferenceOverride": {
                            "extraction": {"appendToPrompt": "Only food matters.", "modelId": "x"}
                        }
                    },
                }
            }
        ],
    )
    put_event(data, memory, payload=[text_item("FACT: assistant text only.", "ASSISTANT")])
    wait_for_queue(learning.url)
    assert fake_models.calls_for("fake-facts") == []
    put_event(data, memory, payload=[text_item("FACT: Ada eats olives.")])
    wait_for_queue(learning.url)
    calls = fake_models.calls_for("fake-facts")
    assert len(calls) == 1
    assert "Only food matters." in str(calls[0].body)
    assert _texts(data, memory, "/food/actor-1") == ["Ada eats olives."]


def test_namespace_variables_of_events(learning: LiveServer) -> None:
    control, data = control_client(learning.url), data_client(learning.url)
    memory = new_memory(
        control,
        memoryStrategies=[
            {
                "semanticMemoryStrategy": {
                    "name": "facts",
                    "namespaceTemplates": ["/t/{tenant}/{actorId}/"],
                }
            }
        ],
        namespaceKeys=[
            {"key": "tenant", "validation": {"allowedValues": ["acme", "globex"]}},
        ],
    )

    def event(**config: Any) -> None:
        put_event(data, memory, payload=[text_item("FACT: Ada is an engineer.")], **config)

    event(extractionConfig={"namespaceVariables": {"tenant": "acme"}})
    with raises_aws("ValidationException", 400, "allowed values"):
        event(extractionConfig={"namespaceVariables": {"tenant": "initech"}})
    with raises_aws("ValidationException", 400, "tenant"):
        event()
    with raises_aws("ValidationException", 400, "not a namespace key"):
        event(extractionConfig={"namespaceVariables": {"tenant": "acme", "other": "x"}})
    event(extractionMode="SKIP")
    wait_for_queue(learning.url)
    assert _texts(data, memory, "/t/acme/actor-1") == ["Ada is an engineer."]


def test_ingested_content_is_extracted_without_events(learning: LiveServer) -> None:
    control, data = control_client(learning.url), data_client(learning.url)
    memory = new_memory(
        control,
        memoryStrategies=[
            {"semanticMemoryStrategy": {"name": "facts", "namespaceTemplates": ["/f/{actorId}/"]}}
        ],
    )
    response = data.ingest_data(
        memoryId=memory,
        actorId="ada",
        contentTimestamp=T0,
        source={"inline": {"payload": [text_item("FACT: Ada sails on weekends.")]}},
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    session = response["sessionId"]
    wait_for_queue(learning.url)
    assert _texts(data, memory, "/f/ada") == ["Ada sails on weekends."]
    assert data.list_events(memoryId=memory, actorId="ada", sessionId=session)["events"] == []


def test_a_failing_model_is_retried_and_nothing_is_lost(
    learning: LiveServer, fake_models: FakeModelServer
) -> None:
    control, data = control_client(learning.url), data_client(learning.url)
    memory = new_memory(
        control,
        memoryStrategies=[
            {"semanticMemoryStrategy": {"name": "facts", "namespaceTemplates": ["/f/{actorId}/"]}}
        ],
    )
    # Three 500s exhaust the provider's own retries once: the job's first attempt fails.
    fake_models.fail(*[Fault("status", 500) for _ in range(3)])
    put_event(data, memory, payload=[text_item("FACT: Ada keeps bees.")])
    status = wait_for_queue(learning.url)
    assert status["failed_attempts"] >= 1
    assert _texts(data, memory, "/f/actor-1") == ["Ada keeps bees."]


def test_malformed_output_is_dead_lettered_visible_and_redriven(
    learning: LiveServer, fake_models: FakeModelServer
) -> None:
    control, data = control_client(learning.url), data_client(learning.url)
    memory = new_memory(
        control,
        memoryStrategies=[
            {"semanticMemoryStrategy": {"name": "facts", "namespaceTemplates": ["/f/{actorId}/"]}}
        ],
    )
    fake_models.fail(*[Fault("text", body="I cannot do that.") for _ in range(3)])
    event = put_event(data, memory, payload=[text_item("FACT: Ada fixes clocks.")])
    wait_for_queue(learning.url, lambda s: s["dead"] >= 1 and s["pending"] == 0)
    failed = data.list_memory_extraction_jobs(memoryId=memory, filter={"status": "FAILED"})
    (job,) = failed["jobs"]
    assert job["status"] == "FAILED"
    assert "MalformedOutput" in job["failureReason"]
    assert job["actorId"] == "actor-1" and job["sessionId"] == "session-1"
    assert job["messages"]["messagesList"] == [{"eventId": event["eventId"], "messageIndex": 0}]
    assert _texts(data, memory, "/f/actor-1") == []

    assert (
        data.start_memory_extraction_job(memoryId=memory, extractionJob={"jobId": job["jobID"]})[
            "jobId"
        ]
        == job["jobID"]
    )
    wait_for_queue(learning.url)
    assert _texts(data, memory, "/f/actor-1") == ["Ada fixes clocks."]
    assert data.list_memory_extraction_jobs(memoryId=memory)["jobs"] == []
    with raises_aws("ResourceNotFoundException", 404):
        data.start_memory_extraction_job(memoryId=memory, extractionJob={"jobId": job["jobID"]})
    with raises_aws("ResourceNotFoundException", 404):
        data.start_memory_extraction_job(memoryId=memory, extractionJob={"jobId": "nonsense"})
