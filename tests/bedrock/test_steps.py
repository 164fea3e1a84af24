"""Invocations and invocation steps through boto3: ids, conflicts, payloads, times, ordering."""

from __future__ import annotations

import base64
import os
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from tests.bedrock.support import (
    T0,
    UUID,
    gif,
    jpeg,
    new_invocation,
    new_session,
    png,
    put_text,
    raises_aws,
    session_arn,
    webp,
)


def test_create_invocation_generates_a_lowercase_uuid(client: Any) -> None:
    sid = new_session(client)
    created = client.create_invocation(sessionIdentifier=sid, description="first turn")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert UUID.match(created["invocationId"])
    assert created["sessionId"] == sid
    assert isinstance(created["createdAt"], datetime)


def test_client_supplied_invocation_id_is_kept_and_unique_per_session(client: Any) -> None:
    first, second = new_session(client), new_session(client)
    chosen = str(uuid.uuid4())
    created = client.create_invocation(sessionIdentifier=first, invocationId=chosen)
    assert created["invocationId"] == chosen
    with raises_aws("ConflictException", 409, match=chosen):
        client.create_invocation(sessionIdentifier=session_arn(first), invocationId=chosen)
    # The same id is free in another session (LangGraph reuses ids across threads).
    assert (
        client.create_invocation(sessionIdentifier=second, invocationId=chosen)["invocationId"]
        == chosen
    )


def test_put_and_get_a_step_with_text_and_images(client: Any) -> None:
    sid = new_session(client)
    iid = new_invocation(client, sid)
    blobs = {"png": png(3, 2), "jpeg": jpeg(4, 5), "gif": gif(2, 2), "webp": webp(7, 9)}
    blobs["bytes-only"] = os.urandom(257)  # not an image header at all: stored as opaque bytes
    blocks: list[dict[str, Any]] = [{"text": "hello"}]
    for name, data in blobs.items():
        fmt = name if name != "bytes-only" else "png"
        blocks.append({"image": {"format": fmt, "source": {"bytes": data}}})
    blocks.append(
        {"image": {"format": "jpeg", "source": {"s3Location": {"uri": "s3://bkt/a.jpg"}}}}
    )
    blocks.append({"text": "tschüss ✓"})
    put = client.put_invocation_step(
        sessionIdentifier=sid,
        invocationIdentifier=iid,
        invocationStepTime=T0,
        payload={"contentBlocks": blocks},
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 201
    step_id = put["invocationStepId"]
    assert UUID.match(step_id)
    got = client.get_invocation_step(
        sessionIdentifier=session_arn(sid), invocationIdentifier=iid, invocationStepId=step_id
    )["invocationStep"]
    assert got["sessionId"] == sid
    assert got["invocationId"] == iid
    assert got["invocationStepId"] == step_id
    assert got["invocationStepTime"] == T0
    assert got["payload"] == {"contentBlocks": blocks}
    images = [b["image"]["source"]["bytes"] for b in got["payload"]["contentBlocks"][1:6]]
    assert images == list(blobs.values())


def test_step_time_is_echoed_at_the_precision_sent(client: Any, http: Any) -> None:
    sid = new_session(client)
    iid = new_invocation(client, sid)
    cases = {
        "2025-03-01T12:00:00Z": "2025-03-01T12:00:00Z",
        "2025-03-01T12:00:00.1Z": "2025-03-01T12:00:00.1Z",
        "2025-03-01T12:00:00.123Z": "2025-03-01T12:00:00.123Z",
        "2025-03-01T12:00:00.123456Z": "2025-03-01T12:00:00.123456Z",
        "2025-03-01T12:00:00.123456789Z": "2025-03-01T12:00:00.123456Z",
        "2025-03-01T14:00:00.50+02:00": "2025-03-01T12:00:00.50Z",
        "2025-03-01T11:30:00-00:30": "2025-03-01T12:00:00Z",
    }
    for sent, echoed in cases.items():
        body = {
            "invocationIdentifier": iid,
            "invocationStepTime": sent,
            "payload": {"contentBlocks": [{"text": sent}]},
        }
        r = http.put(f"/sessions/{sid}/invocationSteps/", json=body)
        assert r.status_code == 201, r.text
        step_id = r.json()["invocationStepId"]
        got = http.post(
            f"/sessions/{sid}/invocationSteps/{step_id}", json={"invocationIdentifier": iid}
        )
        assert got.json()["invocationStep"]["invocationStepTime"] == echoed
        listed = http.post(f"/sessions/{sid}/invocationSteps/?maxResults=100", json={})
        summaries = listed.json()["invocationStepSummaries"]
        [summary] = [x for x in summaries if x["invocationStepId"] == step_id]
        assert summary["invocationStepTime"] == echoed


def test_botocore_times_round_trip(client: Any) -> None:
    sid = new_session(client)
    iid = new_invocation(client, sid)
    times = [
        datetime(2025, 3, 1, 12, 0, 0, 5000),  # naive = UTC for botocore
        datetime(2025, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
        datetime(2025, 3, 1, 12, 0, 0, 999999, tzinfo=UTC),
    ]
    for at in times:
        step = put_text(client, sid, iid, "t", at=at)
        got = client.get_invocation_step(
            sessionIdentifier=sid, invocationIdentifier=iid, invocationStepId=step
        )["invocationStep"]["invocationStepTime"]
        expected = at if at.tzinfo else at.replace(tzinfo=UTC)
        assert got == expected


def test_client_step_id_reput_identical_is_accepted_and_different_is_conflict(
    client: Any,
) -> None:
    sid = new_session(client)
    iid = new_invocation(client, sid)
    step_id = str(uuid.uuid4())
    assert put_text(client, sid, iid, "same", invocationStepId=step_id) == step_id
    assert put_text(client, sid, iid, "same", invocationStepId=step_id) == step_id
    with raises_aws("ConflictException", 409, match=step_id):
        put_text(client, sid, iid, "different", invocationStepId=step_id)
    with raises_aws("ConflictException", 409):
        put_text(client, sid, iid, "same", at=T0 + timedelta(seconds=1), invocationStepId=step_id)
    other = new_invocation(client, sid)
    with raises_aws("ConflictException", 409):
        put_text(client, sid, other, "same", invocationStepId=step_id)
    listed = client.list_invocation_steps(sessionIdentifier=sid)["invocationStepSummaries"]
    assert [s["invocationStepId"] for s in listed] == [step_id]
    # Step ids are per session: the same id may be used in another session.
    sid2 = new_session(client)
    assert put_text(client, sid2, new_invocation(client, sid2), "x", invocationStepId=step_id)


def test_put_step_into_unknown_invocation_is_not_found(client: Any) -> None:
    sid = new_session(client)
    ghost = str(uuid.uuid4())
    with raises_aws("ResourceNotFoundException", 404, match=ghost):
        put_text(client, sid, ghost, "x")
    # An invocation of another session does not count either.
    other = new_session(client)
    foreign = new_invocation(client, other)
    with raises_aws("ResourceNotFoundException", 404):
        put_text(client, sid, foreign, "x")


def test_get_step_of_unknown_step_or_other_invocation_is_not_found(client: Any) -> None:
    sid = new_session(client)
    first, second = new_invocation(client, sid), new_invocation(client, sid)
    step = put_text(client, sid, first, "x")
    with raises_aws("ResourceNotFoundException", 404):
        client.get_invocation_step(
            sessionIdentifier=sid, invocationIdentifier=second, invocationStepId=step
        )
    with raises_aws("ResourceNotFoundException", 404):
        client.get_invocation_step(
            sessionIdentifier=sid, invocationIdentifier=first, invocationStepId=str(uuid.uuid4())
        )
    other = new_session(client)
    with raises_aws("ResourceNotFoundException", 404):
        client.get_invocation_step(
            sessionIdentifier=other, invocationIdentifier=first, invocationStepId=step
        )


def test_steps_list_newest_step_time_first_with_ties_newest_arrival_first(client: Any) -> None:
    sid = new_session(client)
    a, b = new_invocation(client, sid), new_invocation(client, sid)
    plan = [
        (a, T0 + timedelta(seconds=5)),
        (b, T0),
        (a, T0 + timedelta(seconds=10)),
        (b, T0 + timedelta(seconds=5)),  # ties with the first: arrived later, listed first
        (a, T0 - timedelta(days=1)),
    ]
    ids = [put_text(client, sid, inv, str(i), at=at) for i, (inv, at) in enumerate(plan)]
    listed = client.list_invocation_steps(sessionIdentifier=sid)
    assert "nextToken" not in listed
    order = [s["invocationStepId"] for s in listed["invocationStepSummaries"]]
    assert order == [ids[2], ids[3], ids[0], ids[1], ids[4]]
    for summary in listed["invocationStepSummaries"]:
        assert set(summary) == {
            "invocationId",
            "invocationStepId",
            "invocationStepTime",
            "sessionId",
        }
        assert summary["sessionId"] == sid
    only_a = client.list_invocation_steps(sessionIdentifier=sid, invocationIdentifier=a)
    assert [s["invocationStepId"] for s in only_a["invocationStepSummaries"]] == [
        ids[2],
        ids[0],
        ids[4],
    ]
    assert {s["invocationId"] for s in only_a["invocationStepSummaries"]} == {a}


def test_list_steps_with_unknown_invocation_filter_is_empty(client: Any) -> None:
    sid = new_session(client)
    put_text(client, sid, new_invocation(client, sid), "x")
    listed = client.list_invocation_steps(
        sessionIdentifier=sid, invocationIdentifier=str(uuid.uuid4())
    )
    assert listed["invocationStepSummaries"] == []
    assert "nextToken" not in listed


def test_list_invocations_newest_first(client: Any) -> None:
    sid = new_session(client)
    ids = [new_invocation(client, sid) for _ in range(4)]
    listed = client.list_invocations(sessionIdentifier=session_arn(sid))
    assert [i["invocationId"] for i in listed["invocationSummaries"]] == ids[::-1]
    assert all(i["sessionId"] == sid for i in listed["invocationSummaries"])
    assert "nextToken" not in listed


def test_image_bytes_survive_exactly_with_every_byte_value(client: Any, http: Any) -> None:
    sid = new_session(client)
    iid = new_invocation(client, sid)
    data = bytes(range(256)) * 3 + b"\x00"
    step = client.put_invocation_step(
        sessionIdentifier=sid,
        invocationIdentifier=iid,
        invocationStepTime=T0,
        payload={"contentBlocks": [{"image": {"format": "gif", "source": {"bytes": data}}}]},
    )["invocationStepId"]
    raw = http.post(
        f"/sessions/{sid}/invocationSteps/{step}", json={"invocationIdentifier": iid}
    ).json()
    encoded = raw["invocationStep"]["payload"]["contentBlocks"][0]["image"]["source"]["bytes"]
    assert encoded == base64.b64encode(data).decode()
    got = client.get_invocation_step(
        sessionIdentifier=sid, invocationIdentifier=iid, invocationStepId=step
    )
    assert got["invocationStep"]["payload"]["contentBlocks"][0]["image"]["source"]["bytes"] == data
