"""The control plane through boto3: memories, strategies, keys, tags, tokens, lifecycle."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from mindkeeper.storage.tables import messages
from tests.agentcore.support import (
    ACCOUNT,
    REGION,
    assert_error,
    control_client,
    data_client,
    new_memory,
    put_event,
    raises_aws,
    raw_call,
    text_item,
    uid,
    walk,
)
from tests.bedrock.support import fetch_all
from tests.bedrock.support import make_client as bedrock_client
from tests.conftest import LiveServer

KMS_KEY = "arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555"


def test_create_get_and_the_waiter(control: Any) -> None:
    name = uid("mem")
    created = control.create_memory(
        name=name, eventExpiryDuration=90, description="notes", tags={"team": "a"}
    )["memory"]
    assert created["status"] == "ACTIVE"
    assert created["name"] == name
    assert created["id"].startswith(name + "-") and len(created["id"]) == len(name) + 11
    assert created["arn"] == f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:memory/{created['id']}"
    assert created["strategies"] == []
    control.get_waiter("memory_created").wait(memoryId=created["id"])
    got = control.get_memory(memoryId=created["id"], view="without_decryption")["memory"]
    assert got == created
    assert control.list_tags_for_resource(resourceArn=created["arn"])["tags"] == {"team": "a"}


def test_names_are_unique_and_checked(control: Any, http: Any) -> None:
    name = uid("mem")
    control.create_memory(name=name, eventExpiryDuration=3)
    with raises_aws("ValidationException", 400, "already exists"):
        control.create_memory(name=name, eventExpiryDuration=3)
    with raises_aws("ValidationException", 400, "regular expression"):
        control.create_memory(name="has-hyphen", eventExpiryDuration=3)
    with raises_aws("ValidationException", 400, "regular expression"):
        control.create_memory(name="a" * 49, eventExpiryDuration=3)
    longest = "a" + uuid.uuid4().hex + uuid.uuid4().hex[:15]
    assert len(longest) == 48
    control.create_memory(name=longest, eventExpiryDuration=3650)
    with raises_aws("ValidationException", 400, "eventExpiryDuration"):
        control.create_memory(name=uid("mem"), eventExpiryDuration=3651)
    too_short = {"name": uid("mem"), "eventExpiryDuration": 2}
    assert_error(
        raw_call(http, "POST", "/memories/create", too_short),
        "ValidationException",
        400,
        "greater than or equal to 3",
    )


def test_strategies_get_ids_types_and_default_templates(control: Any) -> None:
    memory = control.create_memory(
        name=uid("mem"),
        eventExpiryDuration=30,
        memoryStrategies=[
            {"semanticMemoryStrategy": {"name": "facts"}},
            {"summaryMemoryStrategy": {"name": "sums", "namespaces": ["/s/{sessionId}/"]}},
            {
                "userPreferenceMemoryStrategy": {
                    "name": "prefs",
                    "namespaceTemplates": ["/p/{actorId}"],
                    "recordExpirySpecification": {"recordExpiryDurationDays": 31},
                }
            },
            {
                "episodicMemoryStrategy": {
                    "name": "episodes",
                    "reflectionConfiguration": {"namespaceTemplates": ["/r/{actorId}/"]},
                }
            },
            {
                "customMemoryStrategy": {
                    "name": "custom",
                    "configuration": {
                        "semanticOverride": {
                            "extraction": {"appendToPrompt": "Only food.", "modelId": "m1"},
                            "consolidation": {"appendToPrompt": "Merge.", "modelId": "m2"},
                        }
                    },
                }
            },
            {
                "customMemoryStrategy": {
                    "name": "managed",
                    "configuration": {
                        "selfManagedConfiguration": {
                            "invocationConfiguration": {
                                "topicArn": "arn:aws:sns:us-east-1:000000000000:t",
                                "payloadDeliveryBucketName": "bucket-1",
                            }
                        }
                    },
                }
            },
        ],
    )["memory"]
    by_name = {s["name"]: s for s in memory["strategies"]}
    assert [s["type"] for s in memory["strategies"]] == [
        "SEMANTIC",
        "SUMMARIZATION",
        "USER_PREFERENCE",
        "EPISODIC",
        "CUSTOM",
        "CUSTOM",
    ]
    facts = by_name["facts"]
    assert facts["strategyId"].startswith("facts-")
    assert facts["namespaceTemplates"] == ["/strategies/{memoryStrategyId}/actors/{actorId}/"]
    assert facts["namespaces"] == facts["namespaceTemplates"]
    assert by_name["sums"]["namespaceTemplates"] == ["/s/{sessionId}/"]
    assert by_name["prefs"]["recordExpiryDurationDays"] == 31
    assert by_name["episodes"]["configuration"]["reflection"] == {
        "episodicReflectionConfiguration": {
            "namespaces": ["/r/{actorId}/"],
            "namespaceTemplates": ["/r/{actorId}/"],
        }
    }
    custom = by_name["custom"]["configuration"]
    assert custom["type"] == "SEMANTIC_OVERRIDE"
    assert custom["extraction"] == {
        "customExtractionConfiguration": {
            "semanticExtractionOverride": {"appendToPrompt": "Only food.", "modelId": "m1"}
        }
    }
    assert custom["consolidation"]["customConsolidationConfiguration"][
        "semanticConsolidationOverride"
    ] == {"appendToPrompt": "Merge.", "modelId": "m2"}
    managed = by_name["managed"]["configuration"]
    assert managed["type"] == "SELF_MANAGED"
    assert managed["selfManagedConfiguration"]["invocationConfiguration"]["topicArn"].endswith(":t")
    assert all(s["status"] == "ACTIVE" for s in memory["strategies"])


def test_strategy_limits_and_templates(control: Any) -> None:
    seven = [{"semanticMemoryStrategy": {"name": f"s{i}"}} for i in range(7)]
    with raises_aws("ServiceQuotaExceededException", 402, "at most 6"):
        control.create_memory(name=uid("mem"), eventExpiryDuration=3, memoryStrategies=seven)
    control.create_memory(name=uid("mem"), eventExpiryDuration=3, memoryStrategies=seven[:6])
    twice = [{"semanticMemoryStrategy": {"name": "same"}}] * 2
    with raises_aws("ValidationException", 400, "unique"):
        control.create_memory(name=uid("mem"), eventExpiryDuration=3, memoryStrategies=twice)
    unknown = [{"semanticMemoryStrategy": {"name": "x", "namespaceTemplates": ["/t/{tenant}/"]}}]
    with raises_aws("ValidationException", 400, "tenant"):
        control.create_memory(name=uid("mem"), eventExpiryDuration=3, memoryStrategies=unknown)
    keyed = control.create_memory(
        name=uid("mem"),
        eventExpiryDuration=3,
        memoryStrategies=unknown,
        namespaceKeys=[{"key": "tenant", "validation": {"allowedValues": ["acme", "globex"]}}],
    )["memory"]
    assert keyed["namespaceKeys"] == [
        {"key": "tenant", "validation": {"allowedValues": ["acme", "globex"]}}
    ]
    with raises_aws("ValidationException", 400, "regular expression"):
        control.create_memory(
            name=uid("mem"),
            eventExpiryDuration=3,
            memoryStrategies=[
                {"semanticMemoryStrategy": {"name": "x", "namespaceTemplates": ["/a b/"]}}
            ],
        )


def test_update_adds_modifies_and_deletes_strategies(control: Any) -> None:
    memory = control.create_memory(
        name=uid("mem"),
        eventExpiryDuration=30,
        memoryStrategies=[{"semanticMemoryStrategy": {"name": "facts"}}],
        indexedKeys=[{"key": "topic", "type": "STRING"}],
    )["memory"]
    facts = memory["strategies"][0]["strategyId"]
    updated = control.update_memory(
        memoryId=memory["id"],
        description="d2",
        eventExpiryDuration=60,
        memoryStrategies={
            "addMemoryStrategies": [{"summaryMemoryStrategy": {"name": "sums"}}],
            "modifyMemoryStrategies": [
                {"memoryStrategyId": facts, "namespaceTemplates": ["/facts/{actorId}/"]}
            ],
        },
        addIndexedKeys=[{"key": "level", "type": "NUMBER"}, {"key": "topic", "type": "STRING"}],
    )["memory"]
    assert updated["description"] == "d2"
    assert updated["eventExpiryDuration"] == 60
    assert [s["name"] for s in updated["strategies"]] == ["facts", "sums"]
    assert updated["strategies"][0]["namespaceTemplates"] == ["/facts/{actorId}/"]
    assert updated["indexedKeys"] == [
        {"key": "topic", "type": "STRING"},
        {"key": "level", "type": "NUMBER"},
    ]
    assert updated["updatedAt"] >= memory["updatedAt"]
    gone = control.update_memory(
        memoryId=memory["id"],
        memoryStrategies={"deleteMemoryStrategies": [{"memoryStrategyId": facts}]},
    )["memory"]
    assert [s["name"] for s in gone["strategies"]] == ["sums"]
    with raises_aws("ValidationException", 400, "no strategy"):
        control.update_memory(
            memoryId=memory["id"],
            memoryStrategies={"deleteMemoryStrategies": [{"memoryStrategyId": facts}]},
        )
    with raises_aws("ValidationException", 400, "already declared"):
        control.update_memory(
            memoryId=memory["id"], addIndexedKeys=[{"key": "topic", "type": "NUMBER"}]
        )
    many = [{"key": f"k{i}", "type": "STRING"} for i in range(9)]
    with raises_aws("ServiceQuotaExceededException", 402):
        control.update_memory(memoryId=memory["id"], addIndexedKeys=many)
    with raises_aws("ResourceNotFoundException", 404):
        control.update_memory(memoryId="missing_memory-AAAAAAAAAA", description="x")


def test_client_tokens_of_create_memory(control: Any) -> None:
    token = uid("tok")
    name = uid("mem")
    first = control.create_memory(name=name, eventExpiryDuration=5, clientToken=token)["memory"]
    again = control.create_memory(name=name, eventExpiryDuration=5, clientToken=token)["memory"]
    assert again["id"] == first["id"]
    with raises_aws("ValidationException", 400, "different parameters") as error:
        control.create_memory(name=name, eventExpiryDuration=6, clientToken=token)
    assert error["reason"] == "IdempotentParameterMismatchException"


def test_tags_on_memories_beside_bedrock_session_tags(shared: LiveServer, control: Any) -> None:
    arn = control.create_memory(name=uid("mem"), eventExpiryDuration=3)["memory"]["arn"]
    control.tag_resource(resourceArn=arn, tags={"a": "1", "b": "2"})
    control.untag_resource(resourceArn=arn, tagKeys=["a", "missing"])
    assert control.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}
    with raises_aws("ServiceQuotaExceededException", 402):
        control.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(50)})
    runtime_arn = f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:runtime/r-1"
    with raises_aws("ResourceNotFoundException", 404):
        control.list_tags_for_resource(resourceArn=runtime_arn)
    # The Bedrock sessions surface keeps its own /tags.
    bedrock = bedrock_client(shared.url)
    session = bedrock.create_session()["sessionArn"]
    bedrock.tag_resource(resourceArn=session, tags={"k": "v"})
    assert bedrock.list_tags_for_resource(resourceArn=session)["tags"] == {"k": "v"}
    assert control.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}


def test_list_memories_pages_and_the_account_quota(
    server_factory: Callable[..., LiveServer],
) -> None:
    server = server_factory(agentcore_max_memories=5, runtime_embedder=None)
    control = control_client(server.url)
    ids = [new_memory(control) for _ in range(5)]
    with raises_aws("ServiceQuotaExceededException", 402, "at most 5"):
        new_memory(control)
    pages = walk(control.list_memories, "memories", maxResults=2)
    assert [len(p) for p in pages] == [2, 2, 1]
    listed = [m["id"] for page in pages for m in page]
    assert listed == list(reversed(ids))
    assert all(set(m) == {"arn", "id", "status", "createdAt", "updatedAt"} for m in pages[0])
    with raises_aws("ValidationException", 400, "less than or equal to 100"):
        control.list_memories(maxResults=101)


def test_delete_memory_then_it_is_gone(server_factory: Callable[..., LiveServer]) -> None:
    server = server_factory(runtime_embedder=None, worker_poll_seconds=0.02)
    control, data = control_client(server.url), data_client(server.url)
    memory = new_memory(control)
    put_event(data, memory, payload=[text_item("bye")])
    deleted = control.delete_memory(memoryId=memory)
    assert deleted["memoryId"] == memory
    assert deleted["status"] == "DELETING"
    for _ in range(500):
        try:
            control.get_memory(memoryId=memory)
        except control.exceptions.ResourceNotFoundException:
            break
        time.sleep(0.02)
    else:
        pytest.fail("the memory was never removed")
    with raises_aws("ResourceNotFoundException", 404):
        data.list_events(memoryId=memory, actorId="actor-1", sessionId="session-1")


def test_a_deleting_memory_refuses_data_plane_requests(
    server_factory: Callable[..., LiveServer],
) -> None:
    server = server_factory(runtime_embedder=None, worker_enabled=False)
    control, data = control_client(server.url), data_client(server.url)
    memory = new_memory(control)
    control.delete_memory(memoryId=memory)
    assert control.get_memory(memoryId=memory)["memory"]["status"] == "DELETING"
    assert control.delete_memory(memoryId=memory)["status"] == "DELETING"
    with raises_aws("ValidationException", 400, "DELETING"):
        put_event(data, memory)
    with raises_aws("ConflictException", 409):
        control.update_memory(memoryId=memory, description="x")


def test_encrypted_memory_seals_events_and_records(
    shared: LiveServer, control: Any, data: Any
) -> None:
    memory = new_memory(control, encryptionKeyArn=KMS_KEY)
    assert control.get_memory(memoryId=memory)["memory"]["encryptionKeyArn"] == KMS_KEY
    secret = "the launch code is 0000"
    event = put_event(data, memory, payload=[text_item(secret), {"blob": secret}])
    got = data.get_event(
        memoryId=memory, actorId="actor-1", sessionId="session-1", eventId=event["eventId"]
    )
    assert got["event"]["payload"] == [text_item(secret), {"blob": secret}]
    rows = asyncio.run(
        fetch_all(
            shared,
            select(messages.c.content, messages.c.payload).where(messages.c.payload.is_not(None)),
        )
    )
    stored = [row for row in rows if secret.encode() in bytes(row.payload) or secret in row.content]
    assert stored == []
    record = data.batch_create_memory_records(
        memoryId=memory,
        records=[
            {
                "requestIdentifier": "r1",
                "namespaces": ["/secret/"],
                "content": {"text": secret},
                "timestamp": event["eventTimestamp"],
            }
        ],
    )["successfulRecords"][0]["memoryRecordId"]
    fetched = data.get_memory_record(memoryId=memory, memoryRecordId=record)["memoryRecord"]
    assert fetched["content"]["text"] == secret
    found = data.retrieve_memory_records(
        memoryId=memory, namespace="/secret/", searchCriteria={"searchQuery": "launch code"}
    )["memoryRecordSummaries"]
    assert [r["content"]["text"] for r in found] == [secret]


def test_a_key_outside_a_configured_keyring_is_refused(
    server_factory: Callable[..., LiveServer],
) -> None:
    server = server_factory(
        runtime_embedder=None, bedrock_keyring={KMS_KEY: base64.b64encode(bytes(32)).decode()}
    )
    control = control_client(server.url)
    new_memory(control, encryptionKeyArn=KMS_KEY)
    other = KMS_KEY.replace("11111111", "99999999")
    with raises_aws("ValidationException", 400, "keyring"):
        new_memory(control, encryptionKeyArn=other)
