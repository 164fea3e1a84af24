"""Short-term memory through boto3: events, sessions, actors, branches, tokens, pagination."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.agentcore.support import (
    ACCOUNT,
    EVENT_ID,
    REGION,
    T0,
    put_event,
    raises_aws,
    text_item,
    uid,
    walk,
)

SESSION = {"actorId": "actor-1", "sessionId": "session-1"}


def test_create_event_returns_the_whole_stored_event(data: Any, memory: str) -> None:
    blob = json.dumps({"checkpoint_id": "1f0", "data": {"type": "msgpack", "data": "gqR0"}})
    at = T0 + timedelta(microseconds=123456)
    event = put_event(
        data,
        memory,
        at=at,
        payload=[
            text_item("hello", "USER"),
            {"blob": blob},
            {"json": {"content": {"k": [1, 2.5, None, True], "z": "é"}}},
            text_item("hi there", "ASSISTANT"),
        ],
        metadata={"lc_kind": {"stringValue": "checkpoint"}},
    )
    assert EVENT_ID.match(event["eventId"])
    assert event["memoryId"] == memory
    assert event["eventTimestamp"] == at
    assert event["payload"][1] == {"blob": blob}
    assert event["payload"][2] == {"json": {"content": {"k": [1, 2.5, None, True], "z": "é"}}}
    assert event["metadata"] == {"lc_kind": {"stringValue": "checkpoint"}}
    assert "branch" not in event
    got = data.get_event(memoryId=memory, eventId=event["eventId"], **SESSION)["event"]
    assert got == event


@pytest.mark.parametrize(
    "blob",
    [
        '{"a": 1, "b": "\\u00e9\\ud83d\\ude00", "c": [1.50, 2e5]}',
        'plain text with "quotes" and \\ backslashes',
        {"nested": {"z": 1, "a": [True, None]}},
        [1, "two", 3.25],
        42,
        False,
    ],
)
def test_blobs_come_back_as_sent(data: Any, memory: str, blob: Any) -> None:
    event = put_event(data, memory, payload=[{"blob": blob}])
    listed = data.list_events(memoryId=memory, **SESSION)["events"]
    assert listed[0]["payload"] == [{"blob": blob}]
    assert event["payload"] == [{"blob": blob}]


def test_a_null_blob_is_refused_as_botocore_could_not_read_it_back(data: Any, memory: str) -> None:
    with raises_aws("ValidationException", 400, "exactly one member"):
        put_event(data, memory, payload=[{"blob": None}])


def test_list_events_is_newest_first_with_insertion_breaking_ties(data: Any, memory: str) -> None:
    ids = []
    for second in (5, 1, 3, 3, 3, 0):
        ids.append(put_event(data, memory, at=T0 + timedelta(seconds=second))["eventId"])
    listed = [e["eventId"] for e in data.list_events(memoryId=memory, **SESSION)["events"]]
    order = [0, 4, 3, 2, 1, 5]  # 5 s; then the three at 3 s newest insertion first; 1 s; 0 s
    assert listed == [ids[i] for i in order]


def test_unknown_actor_or_session_lists_nothing_but_unknown_memory_is_404(
    data: Any, memory: str
) -> None:
    assert data.list_events(memoryId=memory, actorId="nobody", sessionId="s")["events"] == []
    put_event(data, memory)
    assert data.list_events(memoryId=memory, actorId="actor-1", sessionId="other")["events"] == []
    with raises_aws("ResourceNotFoundException", 404, "not found"):
        data.list_events(memoryId="missing_mem-AAAAAAAAAA", actorId="a", sessionId="s")


@pytest.mark.parametrize("size", [1, 3, 7, 25])
def test_pagination_walks_every_event_once_in_exact_pages(
    data: Any, memory: str, size: int
) -> None:
    total = 25
    for i in range(total):
        put_event(data, memory, at=T0 + timedelta(milliseconds=i))
    pages = walk(data.list_events, "events", memoryId=memory, maxResults=size, **SESSION)
    seen = [e["eventId"] for page in pages for e in page]
    assert len(seen) == total == len(set(seen))
    assert [len(p) for p in pages[:-1]] == [size] * (len(pages) - 1)
    assert 0 < len(pages[-1]) <= size
    assert len(pages) == -(-total // size)


def test_a_token_survives_deleting_the_page_it_came_after(data: Any, memory: str) -> None:
    for i in range(12):
        put_event(data, memory, at=T0 + timedelta(seconds=i))
    first = data.list_events(memoryId=memory, maxResults=5, includePayloads=False, **SESSION)
    assert all(e["payload"] == [] for e in first["events"])
    for e in first["events"]:
        data.delete_event(memoryId=memory, eventId=e["eventId"], **SESSION)
    rest = walk(
        data.list_events,
        "events",
        memoryId=memory,
        maxResults=5,
        nextToken=first["nextToken"],
        **SESSION,
    )
    assert sum(len(p) for p in rest) == 7


def test_tokens_are_bound_to_their_listing(data: Any, memory: str) -> None:
    for i in range(3):
        put_event(data, memory, at=T0 + timedelta(seconds=i))
    token = data.list_events(memoryId=memory, maxResults=1, **SESSION)["nextToken"]
    for bad in (token[:-2] + "xx", "garbage", ""):
        with raises_aws("ValidationException", 400, "nextToken"):
            data.list_events(memoryId=memory, nextToken=bad, **SESSION)
    with raises_aws("ValidationException", 400, "nextToken"):
        data.list_events(memoryId=memory, actorId="actor-1", sessionId="other", nextToken=token)
    with raises_aws("ValidationException", 400, "nextToken"):
        data.list_sessions(memoryId=memory, actorId="actor-1", nextToken=token)


def test_metadata_filters_are_anded(data: Any, memory: str) -> None:
    def meta(**values: str) -> dict[str, Any]:
        return {k: {"stringValue": v} for k, v in values.items()}

    a = put_event(data, memory, metadata=meta(lc_kind="checkpoint", lc_checkpoint_id="c1"))
    put_event(data, memory, metadata=meta(lc_kind="checkpoint_data", lc_checkpoint_id="c1"))
    c = put_event(data, memory, metadata=meta(lc_kind="checkpoint", lc_checkpoint_id="c2"))
    put_event(data, memory)

    def ids(*conditions: dict[str, Any]) -> list[str]:
        response = data.list_events(
            memoryId=memory, filter={"eventMetadata": list(conditions)}, **SESSION
        )
        return [e["eventId"] for e in response["events"]]

    def eq(key: str, value: str) -> dict[str, Any]:
        return {
            "left": {"metadataKey": key},
            "operator": "EQUALS_TO",
            "right": {"metadataValue": {"stringValue": value}},
        }

    assert ids(eq("lc_kind", "checkpoint")) == [c["eventId"], a["eventId"]]
    assert ids(eq("lc_kind", "checkpoint"), eq("lc_checkpoint_id", "c1")) == [a["eventId"]]
    exists = {"left": {"metadataKey": "lc_kind"}, "operator": "EXISTS"}
    missing = {"left": {"metadataKey": "lc_kind"}, "operator": "NOT_EXISTS"}
    assert len(ids(exists)) == 3
    assert len(ids(missing)) == 1
    with raises_aws("ValidationException", 400, "EQUALS_TO"):
        ids({"left": {"metadataKey": "lc_kind"}, "operator": "EQUALS_TO"})


def test_branches_and_their_parents(data: Any, memory: str) -> None:
    main = [put_event(data, memory, at=T0 + timedelta(seconds=i))["eventId"] for i in range(3)]
    fork = put_event(
        data,
        memory,
        at=T0 + timedelta(seconds=10),
        branch={"name": "alt", "rootEventId": main[1]},
    )
    assert fork["branch"] == {"name": "alt", "rootEventId": main[1]}
    second = put_event(data, memory, at=T0 + timedelta(seconds=11), branch={"name": "alt"})
    deeper = put_event(
        data,
        memory,
        at=T0 + timedelta(seconds=12),
        branch={"name": "alt2", "rootEventId": fork["eventId"]},
    )

    def listed(name: str, parents: bool) -> list[str]:
        response = data.list_events(
            memoryId=memory,
            filter={"branch": {"name": name, "includeParentBranches": parents}},
            **SESSION,
        )
        return [e["eventId"] for e in response["events"]]

    assert listed("alt", False) == [second["eventId"], fork["eventId"]]
    assert listed("alt", True) == [second["eventId"], fork["eventId"], main[1], main[0]]
    assert listed("alt2", True) == [deeper["eventId"], fork["eventId"], main[1], main[0]]
    assert listed("nothing", True) == []
    everything = data.list_events(memoryId=memory, **SESSION)["events"]
    assert len(everything) == 6


def test_branch_root_must_be_an_event_of_the_same_session(data: Any, memory: str) -> None:
    elsewhere = put_event(data, memory, session="session-2")["eventId"]
    with raises_aws("ValidationException", 400, "another session") as error:
        put_event(data, memory, branch={"name": "b", "rootEventId": elsewhere})
    assert error["reason"] == "EventInOtherSession"
    with raises_aws("ResourceNotFoundException", 404):
        put_event(data, memory, branch={"name": "b", "rootEventId": "123#abcdef"})


def test_get_and_delete_need_the_right_actor_and_session(data: Any, memory: str) -> None:
    event = put_event(data, memory)["eventId"]
    for actor, session in (("actor-2", "session-1"), ("actor-1", "session-2")):
        with raises_aws("ResourceNotFoundException", 404):
            data.get_event(memoryId=memory, actorId=actor, sessionId=session, eventId=event)
        with raises_aws("ResourceNotFoundException", 404):
            data.delete_event(memoryId=memory, actorId=actor, sessionId=session, eventId=event)
    for bogus in ("1#00", "0000000000000#" + "ab" * 21):
        with raises_aws("ResourceNotFoundException", 404):
            data.get_event(memoryId=memory, eventId=bogus, **SESSION)
    assert data.delete_event(memoryId=memory, eventId=event, **SESSION)["eventId"] == event
    with raises_aws("ResourceNotFoundException", 404):
        data.delete_event(memoryId=memory, eventId=event, **SESSION)


def test_actor_ids_with_slashes_colons_and_memory_arns(data: Any, memory: str) -> None:
    actor = "agent-support-123/customer:456"
    arn = f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:memory/{memory}"
    event = put_event(data, arn, actor=actor)
    assert event["memoryId"] == memory
    got = data.get_event(
        memoryId=arn, actorId=actor, sessionId="session-1", eventId=event["eventId"]
    )
    assert got["event"]["actorId"] == actor
    assert [a["actorId"] for a in data.list_actors(memoryId=memory)["actorSummaries"]] == [actor]
    other = f"arn:aws:bedrock-agentcore:{REGION}:999999999999:memory/{memory}"
    with raises_aws("ResourceNotFoundException", 404):
        data.list_actors(memoryId=other)
    elsewhere = f"arn:aws:bedrock-agentcore:eu-west-1:{ACCOUNT}:memory/{memory}"
    with raises_aws("ResourceNotFoundException", 404):
        data.list_actors(memoryId=elsewhere)


def test_session_id_is_generated_when_absent(data: Any, memory: str) -> None:
    response = data.create_event(
        memoryId=memory, actorId="a", eventTimestamp=T0, payload=[text_item("x")]
    )
    session = response["event"]["sessionId"]
    assert session
    listed = data.list_events(memoryId=memory, actorId="a", sessionId=session)["events"]
    assert [e["eventId"] for e in listed] == [response["event"]["eventId"]]


def test_client_tokens_replay_the_original_event(data: Any, memory: str) -> None:
    token = uid("token")
    first = put_event(data, memory, clientToken=token, payload=[text_item("once")])
    again = put_event(data, memory, clientToken=token, payload=[text_item("once")])
    assert again == first
    assert len(data.list_events(memoryId=memory, **SESSION)["events"]) == 1
    with raises_aws("ValidationException", 400, "different parameters") as error:
        put_event(data, memory, clientToken=token, payload=[text_item("twice")])
    assert error["reason"] == "IdempotentParameterMismatchException"
    # botocore fills a fresh token per call: two calls are two events.
    put_event(data, memory, payload=[text_item("once")])
    put_event(data, memory, payload=[text_item("once")])
    assert len(data.list_events(memoryId=memory, **SESSION)["events"]) == 3


def test_list_sessions_and_actors(data: Any, memory: str) -> None:
    for i, session in enumerate(["s-a", "s-b", "s-c"]):
        put_event(data, memory, session=session, at=T0 + timedelta(seconds=i))
    put_event(data, memory, actor="actor-2", session="s-a")
    sessions = data.list_sessions(memoryId=memory, actorId="actor-1")["sessionSummaries"]
    assert [s["sessionId"] for s in sessions] == ["s-c", "s-b", "s-a"]
    assert all(s["actorId"] == "actor-1" and s["createdAt"] for s in sessions)
    only = data.list_events(memoryId=memory, actorId="actor-1", sessionId="s-c")["events"]
    data.delete_event(
        memoryId=memory, actorId="actor-1", sessionId="s-c", eventId=only[0]["eventId"]
    )
    with_events = data.list_sessions(
        memoryId=memory, actorId="actor-1", filter={"eventFilter": "HAS_EVENTS"}
    )["sessionSummaries"]
    assert [s["sessionId"] for s in with_events] == ["s-b", "s-a"]
    pages = walk(
        data.list_sessions, "sessionSummaries", memoryId=memory, actorId="actor-1", maxResults=1
    )
    assert [len(p) for p in pages] == [1, 1, 1]
    assert data.list_sessions(memoryId=memory, actorId="nobody")["sessionSummaries"] == []
    actors = walk(data.list_actors, "actorSummaries", memoryId=memory, maxResults=1)
    assert [a["actorId"] for page in actors for a in page] == ["actor-1", "actor-2"]
