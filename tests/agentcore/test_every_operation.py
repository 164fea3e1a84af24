"""Every operation of both clients once, through boto3, with SigV4 off and on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.agentcore.support import T0, control_client, data_client, text_item
from tests.conftest import LiveServer
from tests.security.conftest import ACCOUNT_A, AUTH_SETTINGS, create_access_key


@pytest.mark.parametrize("signed", [False, True], ids=["sigv4-off", "sigv4-on"])
def test_every_operation(server_factory: Callable[..., LiveServer], signed: bool) -> None:
    settings: dict[str, Any] = dict(AUTH_SETTINGS) if signed else {"worker_enabled": False}
    server = server_factory(**settings)
    credentials: tuple[str, ...] = ()
    if signed:
        key = create_access_key(server, ACCOUNT_A)
        credentials = ("us-east-1", key.access_key_id, key.secret_access_key)
    control, data = control_client(server.url, *credentials), data_client(server.url, *credentials)

    memory = control.create_memory(
        name="every_op",
        eventExpiryDuration=7,
        memoryStrategies=[{"semanticMemoryStrategy": {"name": "facts"}}],
    )["memory"]
    memory_id, arn = memory["id"], memory["arn"]
    assert control.get_memory(memoryId=memory_id)["memory"]["status"] == "ACTIVE"
    assert [m["id"] for m in control.list_memories()["memories"]] == [memory_id]
    control.update_memory(memoryId=memory_id, description="all operations")
    control.tag_resource(resourceArn=arn, tags={"k": "v"})
    assert control.list_tags_for_resource(resourceArn=arn)["tags"] == {"k": "v"}
    control.untag_resource(resourceArn=arn, tagKeys=["k"])

    at = {"memoryId": memory_id, "actorId": "user/ada:1", "sessionId": "s-1"}
    event = data.create_event(eventTimestamp=T0, payload=[text_item("hello")], **at)["event"]
    assert data.get_event(eventId=event["eventId"], **at)["event"] == event
    assert [e["eventId"] for e in data.list_events(**at)["events"]] == [event["eventId"]]
    assert data.list_sessions(memoryId=memory_id, actorId="user/ada:1")["sessionSummaries"]
    assert data.list_actors(memoryId=memory_id)["actorSummaries"] == [{"actorId": "user/ada:1"}]
    jobs = data.list_memory_extraction_jobs(memoryId=memory_id)["jobs"]
    assert len(jobs) == 1
    assert (
        data.start_memory_extraction_job(
            memoryId=memory_id, extractionJob={"jobId": jobs[0]["jobID"]}
        )["jobId"]
        == jobs[0]["jobID"]
    )
    ingested = data.ingest_data(
        memoryId=memory_id,
        actorId="user/ada:1",
        contentTimestamp=T0,
        source={"inline": {"payload": [text_item("more")]}},
    )
    assert ingested["sessionId"]
    assert data.delete_event(eventId=event["eventId"], **at)["eventId"] == event["eventId"]

    created = data.batch_create_memory_records(
        memoryId=memory_id,
        records=[
            {
                "requestIdentifier": "r",
                "namespaces": ["/n/"],
                "content": {"text": "Ada rows boats."},
                "timestamp": T0,
            }
        ],
    )["successfulRecords"]
    record = created[0]["memoryRecordId"]
    assert data.get_memory_record(memoryId=memory_id, memoryRecordId=record)["memoryRecord"]
    retrieved = data.retrieve_memory_records(
        memoryId=memory_id, namespace="/n/", searchCriteria={"searchQuery": "boats"}
    )["memoryRecordSummaries"]
    assert [r["memoryRecordId"] for r in retrieved] == [record]
    listed = data.list_memory_records(memoryId=memory_id, namespacePath="/")
    assert [r["memoryRecordId"] for r in listed["memoryRecordSummaries"]] == [record]
    updated = data.batch_update_memory_records(
        memoryId=memory_id,
        records=[{"memoryRecordId": record, "timestamp": T0, "content": {"text": "Ada sails."}}],
    )
    assert updated["failedRecords"] == []
    assert data.delete_memory_record(memoryId=memory_id, memoryRecordId=record)
    deleted = data.batch_delete_memory_records(
        memoryId=memory_id, records=[{"memoryRecordId": record}]
    )
    assert deleted["failedRecords"][0]["errorCode"] == 404
    assert control.delete_memory(memoryId=memory_id)["status"] == "DELETING"
