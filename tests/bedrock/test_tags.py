"""Tagging through boto3: TagResource, UntagResource, ListTagsForResource, tags at creation."""

from __future__ import annotations

from typing import Any

from tests.bedrock.support import make_client, new_session, raises_aws, session_arn
from tests.conftest import LiveServer


def test_tags_at_creation_then_add_overwrite_and_remove(client: Any) -> None:
    sid = new_session(client, tags={"team": "core", "env": "dev"})
    arn = session_arn(sid)
    listed = client.list_tags_for_resource(resourceArn=arn)
    assert listed["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert listed["tags"] == {"team": "core", "env": "dev"}
    tagged = client.tag_resource(resourceArn=arn, tags={"env": "prod", "cost center": "a/b:c"})
    assert tagged["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {
        "team": "core",
        "env": "prod",
        "cost center": "a/b:c",
    }
    untagged = client.untag_resource(resourceArn=arn, tagKeys=["team", "cost center", "absent"])
    assert untagged["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "prod"}


def test_session_without_tags_lists_an_empty_map(client: Any) -> None:
    assert client.list_tags_for_resource(resourceArn=session_arn(new_session(client)))["tags"] == {}


def test_tags_are_per_session(client: Any) -> None:
    first, second = new_session(client, tags={"k": "1"}), new_session(client, tags={"k": "2"})
    client.untag_resource(resourceArn=session_arn(first), tagKeys=["k"])
    assert client.list_tags_for_resource(resourceArn=session_arn(first))["tags"] == {}
    assert client.list_tags_for_resource(resourceArn=session_arn(second))["tags"] == {"k": "2"}


def test_tagging_needs_a_session_arn_not_a_uuid_or_another_resource(client: Any) -> None:
    sid = new_session(client)
    agent_arn = "arn:aws:bedrock:us-east-1:000000000000:agent/ABCDEFGHIJ"
    for bad in (f"{sid}-as-plain-id-xx", agent_arn, session_arn(sid).upper()):
        with raises_aws("ValidationException", 400, match="resourceArn"):
            client.list_tags_for_resource(resourceArn=bad)
        with raises_aws("ValidationException", 400, match="resourceArn"):
            client.tag_resource(resourceArn=bad, tags={"a": "b"})


def test_per_session_tag_limit_is_a_service_quota(server_factory: Any) -> None:
    server: LiveServer = server_factory(bedrock_max_tags_per_session=3)
    client = make_client(server.url)
    sid = new_session(client, tags={"a": "1", "b": "2", "c": "3"})
    arn = session_arn(sid)
    client.tag_resource(resourceArn=arn, tags={"a": "overwrite does not add"})
    with raises_aws("ServiceQuotaExceededException", 400, match="at most 3"):
        client.tag_resource(resourceArn=arn, tags={"d": "4"})
    with raises_aws("ServiceQuotaExceededException", 400):
        client.create_session(tags={"a": "1", "b": "2", "c": "3", "d": "4"})
    client.untag_resource(resourceArn=arn, tagKeys=["a"])
    client.tag_resource(resourceArn=arn, tags={"d": "4"})
    assert sorted(client.list_tags_for_resource(resourceArn=arn)["tags"]) == ["b", "c", "d"]
