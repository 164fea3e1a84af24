"""Sessions through boto3: create, get, update, end, delete, list; UUID vs ARN addressing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.bedrock.support import (
    ACCOUNT,
    REGION,
    UUID,
    make_client,
    new_session,
    raises_aws,
    session_arn,
)
from tests.conftest import LiveServer


def test_create_session_returns_201_and_every_member(client: Any) -> None:
    created = client.create_session()
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert UUID.match(created["sessionId"])
    assert created["sessionArn"] == session_arn(created["sessionId"])
    assert created["sessionStatus"] == "ACTIVE"
    assert isinstance(created["createdAt"], datetime)
    assert created["createdAt"].utcoffset().total_seconds() == 0


def test_get_session_by_uuid_and_by_arn(client: Any) -> None:
    created = client.create_session(sessionMetadata={"user": "ada", "empty": ""})
    by_id = client.get_session(sessionIdentifier=created["sessionId"])
    by_arn = client.get_session(sessionIdentifier=created["sessionArn"])
    for got in (by_id, by_arn):
        assert got["sessionId"] == created["sessionId"]
        assert got["sessionArn"] == created["sessionArn"]
        assert got["sessionStatus"] == "ACTIVE"
        assert got["sessionMetadata"] == {"user": "ada", "empty": ""}
        assert got["createdAt"] == created["createdAt"]
        assert got["lastUpdatedAt"] == created["createdAt"]
        assert "encryptionKeyArn" not in got


def test_get_session_without_metadata_omits_the_member(client: Any) -> None:
    got = client.get_session(sessionIdentifier=new_session(client))
    assert "sessionMetadata" not in got
    assert "encryptionKeyArn" not in got


def test_update_session_replaces_metadata_and_moves_last_updated(client: Any) -> None:
    sid = new_session(client, sessionMetadata={"a": "1", "b": "2"})
    before = client.get_session(sessionIdentifier=sid)
    updated = client.update_session(sessionIdentifier=sid, sessionMetadata={"c": "3"})
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert updated["sessionId"] == sid
    assert updated["sessionStatus"] == "ACTIVE"
    assert updated["createdAt"] == before["createdAt"]
    assert updated["lastUpdatedAt"] > before["lastUpdatedAt"]
    assert "sessionMetadata" not in updated
    assert client.get_session(sessionIdentifier=sid)["sessionMetadata"] == {"c": "3"}


def test_update_session_without_metadata_keeps_it_and_empty_map_clears_it(client: Any) -> None:
    sid = new_session(client, sessionMetadata={"keep": "me"})
    client.update_session(sessionIdentifier=sid)
    assert client.get_session(sessionIdentifier=sid)["sessionMetadata"] == {"keep": "me"}
    client.update_session(sessionIdentifier=session_arn(sid), sessionMetadata={})
    assert "sessionMetadata" not in client.get_session(sessionIdentifier=sid)


def test_end_session_then_end_again_is_idempotent(client: Any) -> None:
    sid = new_session(client)
    ended = client.end_session(sessionIdentifier=sid)
    assert ended["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert ended == {**ended, "sessionId": sid, "sessionArn": session_arn(sid)}
    assert ended["sessionStatus"] == "ENDED"
    again = client.end_session(sessionIdentifier=session_arn(sid))
    assert again["sessionStatus"] == "ENDED"
    assert client.get_session(sessionIdentifier=sid)["sessionStatus"] == "ENDED"


def test_delete_ended_session_then_everything_is_not_found(client: Any) -> None:
    sid = new_session(client, tags={"k": "v"})
    client.end_session(sessionIdentifier=sid)
    deleted = client.delete_session(sessionIdentifier=session_arn(sid))
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert set(deleted) == {"ResponseMetadata"}
    for call in (
        lambda: client.get_session(sessionIdentifier=sid),
        lambda: client.end_session(sessionIdentifier=sid),
        lambda: client.delete_session(sessionIdentifier=sid),
        lambda: client.list_invocations(sessionIdentifier=sid),
        lambda: client.list_tags_for_resource(resourceArn=session_arn(sid)),
    ):
        with raises_aws("ResourceNotFoundException", 404):
            call()


def test_unknown_session_is_not_found_for_every_session_operation(client: Any) -> None:
    ghost = "00000000-0000-4000-8000-000000000000"
    calls = [
        lambda: client.get_session(sessionIdentifier=ghost),
        lambda: client.update_session(sessionIdentifier=ghost, sessionMetadata={}),
        lambda: client.end_session(sessionIdentifier=ghost),
        lambda: client.delete_session(sessionIdentifier=ghost),
        lambda: client.create_invocation(sessionIdentifier=ghost),
        lambda: client.list_invocations(sessionIdentifier=ghost),
        lambda: client.list_invocation_steps(sessionIdentifier=ghost),
        lambda: client.get_invocation_step(
            sessionIdentifier=ghost, invocationIdentifier=ghost, invocationStepId=ghost
        ),
        lambda: client.put_invocation_step(
            sessionIdentifier=ghost,
            invocationIdentifier=ghost,
            invocationStepTime=datetime(2025, 1, 1),
            payload={"contentBlocks": [{"text": "x"}]},
        ),
        lambda: client.tag_resource(resourceArn=session_arn(ghost), tags={"a": "b"}),
        lambda: client.untag_resource(resourceArn=session_arn(ghost), tagKeys=["a"]),
        lambda: client.list_tags_for_resource(resourceArn=session_arn(ghost)),
    ]
    for call in calls:
        with raises_aws("ResourceNotFoundException", 404, match=ghost):
            call()


def test_arn_of_another_region_account_or_partition_is_not_found(client: Any) -> None:
    sid = new_session(client)
    foreign = [
        session_arn(sid, region="eu-west-1"),
        session_arn(sid, account="123456789012"),
        f"arn:aws-cn:bedrock:{REGION}:{ACCOUNT}:session/{sid}",
    ]
    for arn in foreign:
        with raises_aws("ResourceNotFoundException", 404):
            client.get_session(sessionIdentifier=arn)
        with raises_aws("ResourceNotFoundException", 404):
            client.list_tags_for_resource(resourceArn=arn)
    assert client.get_session(sessionIdentifier=session_arn(sid))["sessionId"] == sid


def test_session_arns_carry_the_configured_region_account_and_partition(
    server_factory: Any,
) -> None:
    server: LiveServer = server_factory(
        bedrock_region="eu-central-1", bedrock_account_id="123456789012"
    )
    client = make_client(server.url, region="eu-central-1")
    created = client.create_session()
    sid = created["sessionId"]
    assert created["sessionArn"] == f"arn:aws:bedrock:eu-central-1:123456789012:session/{sid}"
    assert client.get_session(sessionIdentifier=created["sessionArn"])["sessionId"] == sid
    with raises_aws("ResourceNotFoundException", 404):
        client.get_session(sessionIdentifier=session_arn(sid))


def test_sessions_are_scoped_by_account(server: LiveServer, server_factory: Any) -> None:
    mine = make_client(server.url)
    sid = new_session(mine)
    other_server = server_factory(bedrock_account_id="123456789012")
    theirs = make_client(other_server.url)
    with raises_aws("ResourceNotFoundException", 404):
        theirs.get_session(sessionIdentifier=sid)
    assert theirs.list_sessions()["sessionSummaries"] == []
    assert [s["sessionId"] for s in mine.list_sessions()["sessionSummaries"]] == [sid]


def test_list_sessions_newest_first_with_summaries(server: LiveServer) -> None:
    client = make_client(server.url)
    ids = [new_session(client) for _ in range(3)]
    client.end_session(sessionIdentifier=ids[0])
    listed = client.list_sessions()
    assert "nextToken" not in listed
    summaries = listed["sessionSummaries"]
    assert [s["sessionId"] for s in summaries] == ids[::-1]
    for summary in summaries:
        assert set(summary) == {
            "sessionId",
            "sessionArn",
            "sessionStatus",
            "createdAt",
            "lastUpdatedAt",
        }
        assert summary["sessionArn"] == session_arn(summary["sessionId"])
    assert [s["sessionStatus"] for s in summaries] == ["ACTIVE", "ACTIVE", "ENDED"]
