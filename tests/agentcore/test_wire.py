"""The wire as botocore and hand-written clients meet it: routing on raw paths, error shapes,
body limits, SigV4 (accounts isolated, `/tags` shared with Bedrock sessions), and no 500s."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import boto3
import pytest

from tests.agentcore.support import (
    T0,
    assert_error,
    control_client,
    data_client,
    new_memory,
    put_event,
    raises_aws,
    raw_call,
    text_item,
)
from tests.conftest import LiveServer
from tests.security.conftest import ACCOUNT_A, ACCOUNT_B, AUTH_SETTINGS, create_access_key


def test_unknown_operations_and_slash_variants(http: Any, memory: str) -> None:
    for method, path in (
        ("GET", f"/memories/{memory}/events"),
        ("PATCH", "/memories"),
        ("POST", f"/memories/{memory}/nothing"),
        ("PUT", f"/memories/{memory}/memoryRecords/batchCreate"),
    ):
        assert_error(raw_call(http, method, path), "UnknownOperationException", 404)
    for path in (f"/memories/{memory}/details", f"/memories/{memory}/details/"):
        response = raw_call(http, "GET", path)
        assert response.status_code == 200, response.text
        assert response.json()["memory"]["id"] == memory
    assert raw_call(http, "POST", "/memories", {}).status_code == 200
    assert raw_call(http, "POST", "/memories/", {}).status_code == 200


def test_bodies_that_cannot_be_parsed(http: Any, memory: str) -> None:
    path = f"/memories/{memory}/events"
    for body in (b"{not json", b"[1, 2]", b'"text"', b'{"a": "\\ud800"}', b'{"a": NaN}'):
        response = http.post(path, content=body, headers={"content-type": "application/json"})
        assert_error(response, "ValidationException", 400)
        assert response.json()["reason"] == "CannotParse"
    deep: Any = "x"
    for _ in range(130):
        deep = [deep]
    response = raw_call(http, "POST", path, {"payload": [{"blob": deep}]})
    assert_error(response, "ValidationException", 400, "nested")


def test_empty_bodies_read_as_empty_objects(http: Any, memory: str) -> None:
    response = http.post(f"/memories/{memory}/actors")
    assert response.status_code == 200
    assert response.json() == {"actorSummaries": []}
    assert response.headers["content-type"] == "application/json"


def test_events_larger_than_the_general_body_limit(data: Any, memory: str) -> None:
    blob = json.dumps({"data": "x" * (10 * 1024 * 1024)})
    event = put_event(data, memory, payload=[{"blob": blob}])
    got = data.get_event(
        memoryId=memory, actorId="actor-1", sessionId="session-1", eventId=event["eventId"]
    )
    assert got["event"]["payload"][0]["blob"] == blob


def test_the_agentcore_body_limit(server_factory: Callable[..., LiveServer]) -> None:
    server = server_factory(runtime_embedder=None, agentcore_max_body_bytes=4096)
    memory = new_memory(control_client(server.url))
    data = data_client(server.url)
    with server.client() as http:
        body = json.dumps(
            {"actorId": "a", "eventTimestamp": 1, "payload": [{"blob": "x"}]}
        ).encode()
        fits = body.replace(b'"x"', b'"' + b"x" * (4096 - len(body) + 1) + b'"')
        assert len(fits) == 4096
        response = http.post(
            f"/memories/{memory}/events", content=fits, headers={"content-type": "application/json"}
        )
        assert response.status_code == 201, response.text
        response = http.post(
            f"/memories/{memory}/events",
            content=fits + b" ",
            headers={"content-type": "application/json"},
        )
        assert_error(response, "ValidationException", 400, "exceeds 4096 bytes")
    with raises_aws("ValidationException", 400, "exceeds"):
        put_event(data, memory, payload=[{"blob": "y" * 5000}])


@pytest.mark.parametrize(
    "body",
    [
        [],
        "x",
        {"payload": "x"},
        {"payload": [{"conversational": "x"}]},
        {"payload": [{"conversational": {"content": [], "role": 1}}]},
        {"actorId": 5, "eventTimestamp": True, "payload": [None]},
        {"metadata": {"k": "v"}},
        {"branch": "main"},
        {"filter": {"branch": {"name": 3}}},
        {"searchCriteria": {"searchQuery": "q", "metadataFilters": [{"left": {}}]}},
        {"records": [{"content": {"text": 1}}]},
        {"records": [{"memoryRecordId": "mem-" + "a" * 36}]},
        {"extractionJob": {"jobId": 7}},
        {"source": {"inline": {"payload": []}}},
        {"maxResults": -1, "nextToken": 5},
    ],
)
def test_no_request_gets_a_500(http: Any, memory: str, body: Any) -> None:
    paths = [
        ("POST", f"/memories/{memory}/events"),
        ("POST", f"/memories/{memory}/actor/a/sessions/s"),
        ("POST", f"/memories/{memory}/actor/a/sessions"),
        ("POST", f"/memories/{memory}/actors"),
        ("POST", f"/memories/{memory}/retrieve"),
        ("POST", f"/memories/{memory}/memoryRecords"),
        ("POST", f"/memories/{memory}/memoryRecords/batchCreate"),
        ("POST", f"/memories/{memory}/memoryRecords/batchUpdate"),
        ("POST", f"/memories/{memory}/memoryRecords/batchDelete"),
        ("POST", f"/memories/{memory}/extractionJobs"),
        ("POST", f"/memories/{memory}/extractionJobs/start"),
        ("POST", f"/memories/{memory}/ingest"),
        ("POST", "/memories/create"),
        ("POST", "/memories/"),
        ("PUT", f"/memories/{memory}/update"),
    ]
    for method, path in paths:
        response = raw_call(http, method, path, body)
        assert response.status_code < 500, (path, response.text)
        if response.status_code >= 400:
            assert response.headers["x-amzn-errortype"], response.text


def test_signed_requests_choose_the_account(server_factory: Callable[..., LiveServer]) -> None:
    server = server_factory(runtime_embedder=None, **AUTH_SETTINGS)
    key_a, key_b = create_access_key(server, ACCOUNT_A), create_access_key(server, ACCOUNT_B)

    def clients(key: Any) -> tuple[Any, Any]:
        args = (server.url, "us-east-1", key.access_key_id, key.secret_access_key)
        return control_client(*args), data_client(*args)

    control_a, data_a = clients(key_a)
    control_b, data_b = clients(key_b)
    memory = control_a.create_memory(name="shared_name", eventExpiryDuration=3)["memory"]
    assert memory["arn"].split(":")[4] == ACCOUNT_A
    control_b.create_memory(name="shared_name", eventExpiryDuration=3)
    put_event(data_a, memory["id"], payload=[text_item("hello")])
    with raises_aws("ResourceNotFoundException", 404):
        control_b.get_memory(memoryId=memory["id"])
    with raises_aws("ResourceNotFoundException", 404):
        data_b.list_events(memoryId=memory["id"], actorId="actor-1", sessionId="session-1")
    with raises_aws("ResourceNotFoundException", 404):
        data_b.list_events(memoryId=memory["arn"], actorId="actor-1", sessionId="session-1")
    with raises_aws("ResourceNotFoundException", 404):
        control_b.list_tags_for_resource(resourceArn=memory["arn"])
    assert [m["id"] for m in control_a.list_memories()["memories"]] == [memory["id"]]
    assert len(control_b.list_memories()["memories"]) == 1

    # The two surfaces share /tags: the credential scope picks the one that answers.
    control_a.tag_resource(resourceArn=memory["arn"], tags={"k": "v"})
    bedrock = boto3.client(
        "bedrock-agent-runtime",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key_a.access_key_id,
        aws_secret_access_key=key_a.secret_access_key,
    )
    session = bedrock.create_session()["sessionArn"]
    bedrock.tag_resource(resourceArn=session, tags={"b": "1"})
    assert bedrock.list_tags_for_resource(resourceArn=session)["tags"] == {"b": "1"}
    assert control_a.list_tags_for_resource(resourceArn=memory["arn"])["tags"] == {"k": "v"}

    with server.client() as http:
        unsigned = raw_call(http, "POST", f"/memories/{memory['id']}/actors", {})
        assert_error(unsigned, "MissingAuthenticationTokenException", 403)
    wrong = data_client(server.url, "us-east-1", key_a.access_key_id, "not-the-secret")
    with raises_aws("InvalidSignatureException", 403):
        wrong.list_actors(memoryId=memory["id"])
    elsewhere = data_client(server.url, "eu-west-1", key_a.access_key_id, key_a.secret_access_key)
    with raises_aws("InvalidSignatureException", 403, "region"):
        elsewhere.list_actors(memoryId=memory["id"])


def test_event_timestamps_keep_microseconds(data: Any, memory: str) -> None:
    at = T0 + timedelta(microseconds=1)
    event = put_event(data, memory, at=at)
    assert event["eventTimestamp"] == at
    listed = data.list_events(memoryId=memory, actorId="actor-1", sessionId="session-1")
    assert listed["events"][0]["eventTimestamp"] == at


def _raw_exchange(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_requests_the_http_parser_refuses_answer_in_the_aws_shape(shared: LiveServer) -> None:
    unknown = _raw_exchange(shared.url, b"BREW /memories/ HTTP/1.1\r\nHost: x\r\n\r\n")
    assert unknown.startswith(b"HTTP/1.1 404")
    assert b"x-amzn-errortype: UnknownOperationException" in unknown
    bad = _raw_exchange(shared.url, b"POST /memories/ HTTP/1.1\r\nHost: x\x01\r\n\r\n")
    assert bad.startswith(b"HTTP/1.1 400")
    assert b"x-amzn-errortype: ValidationException" in bad
