"""The exact wire, checked with raw HTTP: routes, slashes, statuses, headers, bodies, errors."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.bedrock.support import SERVER_TIME, UUID, new_invocation, new_session, session_arn


def _encoded(arn: str) -> str:
    return quote(arn, safe="")


def _aws_error(r: httpx.Response, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    assert r.headers["x-amzn-ErrorType"] == code
    assert r.headers["content-type"] == "application/json"
    assert UUID.match(r.headers["x-amzn-RequestId"])
    body = r.json()
    assert body["__type"] == code
    assert isinstance(body["message"], str) and body["message"]
    return str(body["message"])


def test_every_operation_on_its_modelled_path_method_and_status(http: httpx.Client) -> None:
    created = http.put("/sessions/", json={})
    assert created.status_code == 201
    sid = created.json()["sessionId"]
    enc = _encoded(session_arn(sid))
    inv = http.put(f"/sessions/{sid}/invocations/", json={})
    assert inv.status_code == 201
    iid = inv.json()["invocationId"]
    step = http.put(
        f"/sessions/{enc}/invocationSteps/",
        json={
            "invocationIdentifier": iid,
            "invocationStepTime": "2025-03-01T12:00:00Z",
            "payload": {"contentBlocks": [{"text": "hi"}]},
        },
    )
    assert step.status_code == 201
    step_id = step.json()["invocationStepId"]
    calls: list[tuple[str, str, Any, int]] = [
        ("GET", f"/sessions/{sid}/", None, 200),
        ("PUT", f"/sessions/{enc}/", {"sessionMetadata": {"a": "b"}}, 200),
        ("POST", "/sessions/", None, 200),
        ("POST", f"/sessions/{enc}/invocations/", None, 200),
        ("POST", f"/sessions/{sid}/invocationSteps/", {}, 200),
        ("POST", f"/sessions/{enc}/invocationSteps/{step_id}", {"invocationIdentifier": iid}, 200),
        ("POST", f"/tags/{enc}", {"tags": {"k": "v"}}, 200),
        ("GET", f"/tags/{enc}", None, 200),
        ("DELETE", f"/tags/{enc}?tagKeys=k&tagKeys=b%20c", None, 200),
        ("PATCH", f"/sessions/{enc}", None, 200),
        ("DELETE", f"/sessions/{enc}/", None, 200),
    ]
    for method, path, body, status in calls:
        r = (
            http.request(method, path, json=body)
            if body is not None
            else http.request(method, path)
        )
        assert r.status_code == status, (method, path, r.text)
        assert r.headers["content-type"] == "application/json"
        assert UUID.match(r.headers["x-amzn-RequestId"])
        assert "content-encoding" not in r.headers
        assert r.content != b"null"


def test_list_operations_need_no_body_and_no_content_type(http: httpx.Client) -> None:
    sid = new_session_raw(http)
    for path in ("/sessions/", f"/sessions/{sid}/invocations/"):
        r = http.post(path, headers={"content-length": "0"})
        assert r.status_code == 200, r.text
        assert "content-type" not in r.request.headers


def new_session_raw(http: httpx.Client) -> str:
    return str(http.put("/sessions/", json={}).json()["sessionId"])


def test_delete_session_has_an_empty_body(http: httpx.Client) -> None:
    sid = new_session_raw(http)
    http.patch(f"/sessions/{sid}")
    r = http.delete(f"/sessions/{sid}/")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-length"] == "0"
    assert UUID.match(r.headers["x-amzn-RequestId"])


def test_tag_operations_answer_an_empty_object(http: httpx.Client) -> None:
    enc = _encoded(session_arn(new_session_raw(http)))
    assert http.post(f"/tags/{enc}", json={"tags": {"a": "b"}}).json() == {}
    assert http.delete(f"/tags/{enc}?tagKeys=a").json() == {}
    assert http.get(f"/tags/{enc}").json() == {"tags": {}}


@pytest.mark.parametrize("trailing", ["", "/"])
def test_both_slash_variants_answer_and_nothing_redirects(
    http: httpx.Client, trailing: str
) -> None:
    sid = new_session_raw(http)
    iid = http.put(f"/sessions/{sid}/invocations" + trailing, json={}).json()["invocationId"]
    assert http.get(f"/sessions/{sid}" + trailing).status_code == 200
    assert http.post("/sessions" + trailing).status_code == 200
    assert http.post(f"/sessions/{sid}/invocations" + trailing).status_code == 200
    assert http.post(f"/sessions/{sid}/invocationSteps" + trailing, json={}).status_code == 200
    step = str(uuid.uuid4())
    r = http.post(
        f"/sessions/{sid}/invocationSteps/{step}" + trailing, json={"invocationIdentifier": iid}
    )
    assert r.status_code == 404  # routed: the step does not exist
    assert http.get(f"/tags/{_encoded(session_arn(sid))}" + trailing).status_code == 200
    assert http.patch(f"/sessions/{sid}" + trailing).status_code == 200
    assert http.delete(f"/sessions/{sid}" + trailing).status_code == 200


def test_percent_encoded_arn_is_one_segment_and_plain_arn_also_works(http: httpx.Client) -> None:
    sid = new_session_raw(http)
    arn = session_arn(sid)
    assert "%2F" in _encoded(arn) and "%3A" in _encoded(arn)
    assert http.get(f"/sessions/{_encoded(arn)}/").json()["sessionId"] == sid
    assert http.get(f"/sessions/{_encoded(arn).lower()}/").json()["sessionId"] == sid
    assert http.get(f"/sessions/{arn}/").json()["sessionId"] == sid


def test_timestamps_are_iso8601_utc_with_z(http: httpx.Client) -> None:
    sid = new_session_raw(http)
    got = http.get(f"/sessions/{sid}/").json()
    assert SERVER_TIME.match(got["createdAt"]) and SERVER_TIME.match(got["lastUpdatedAt"])
    inv = http.put(f"/sessions/{sid}/invocations/", json={}).json()
    assert SERVER_TIME.match(inv["createdAt"])


def test_response_members_and_order(http: httpx.Client) -> None:
    created = http.put("/sessions/", json={"sessionMetadata": {"x": "y"}}).json()
    assert list(created) == ["sessionId", "sessionArn", "sessionStatus", "createdAt"]
    sid = created["sessionId"]
    got = http.get(f"/sessions/{sid}/").json()
    assert list(got) == [
        "sessionId",
        "sessionArn",
        "sessionStatus",
        "createdAt",
        "lastUpdatedAt",
        "sessionMetadata",
    ]
    ended = http.patch(f"/sessions/{sid}").json()
    assert list(ended) == ["sessionId", "sessionArn", "sessionStatus"]


def test_unknown_routes_answer_in_the_aws_error_shape(http: httpx.Client) -> None:
    sid = new_session_raw(http)
    for method, path in [
        ("GET", "/sessions/"),
        ("DELETE", "/sessions/"),
        ("POST", f"/sessions/{sid}/"),
        ("GET", f"/sessions/{sid}/nothing/"),
        ("PUT", f"/sessions/{sid}/invocationSteps/{uuid.uuid4()}"),
        ("GET", "/tags"),
        ("GET", "/tags/a/b/c"),
    ]:
        _aws_error(http.request(method, path), 404, "UnknownOperationException")


def test_paths_outside_the_surface_are_not_intercepted(http: httpx.Client) -> None:
    assert http.get("/sessionsx").status_code == 404
    assert "x-amzn-ErrorType" not in http.get("/sessionsx").headers
    assert http.get("/healthz").status_code == 200


def test_empty_path_label_is_a_validation_error(http: httpx.Client) -> None:
    message = _aws_error(http.get("/sessions//"), 400, "ValidationException")
    assert "sessionIdentifier" in message
    message = _aws_error(http.post("/sessions//invocations/"), 400, "ValidationException")
    assert "sessionIdentifier" in message
    message = _aws_error(http.get("/tags/"), 400, "ValidationException")
    assert "resourceArn" in message


def test_malformed_json_and_non_object_bodies(http: httpx.Client) -> None:
    sid = new_session_raw(http)
    headers = {"content-type": "application/json"}
    for body in (b"{not json", b"[1, 2]", b'"text"', b"null"):
        r = http.put(f"/sessions/{sid}/invocations/", content=body, headers=headers)
        assert "JSON" in _aws_error(r, 400, "ValidationException")
    r = http.put("/sessions/", content=b"{", headers=headers)
    _aws_error(r, 400, "ValidationException")


def test_errors_carry_the_message_and_request_id(http: httpx.Client) -> None:
    ghost = str(uuid.uuid4())
    message = _aws_error(http.get(f"/sessions/{ghost}/"), 404, "ResourceNotFoundException")
    assert ghost in message
    sid = new_session_raw(http)
    message = _aws_error(http.delete(f"/sessions/{sid}/"), 409, "ConflictException")
    assert "ACTIVE" in message
    r = http.get(f"/sessions/{sid.upper()}/")
    message = _aws_error(r, 400, "ValidationException")
    assert re.match(
        r"^1 validation error detected: Value '[A-F0-9-]+' at 'sessionIdentifier' failed to "
        r"satisfy constraint: Member must satisfy regular expression pattern: \^",
        message,
    )


def test_no_compression_even_when_asked(http: httpx.Client) -> None:
    sid = new_session_raw(http)
    iid = new_invocation_raw(http, sid)
    for _ in range(3):
        http.put(
            f"/sessions/{sid}/invocationSteps/",
            json={
                "invocationIdentifier": iid,
                "invocationStepTime": "2025-03-01T12:00:00Z",
                "payload": {"contentBlocks": [{"text": "x" * 5000}]},
            },
        )
    r = http.post(f"/sessions/{sid}/invocationSteps/", json={}, headers={"accept-encoding": "gzip"})
    assert r.status_code == 200
    assert "content-encoding" not in r.headers


def new_invocation_raw(http: httpx.Client, sid: str) -> str:
    return str(http.put(f"/sessions/{sid}/invocations/", json={}).json()["invocationId"])


def test_boto3_sees_request_ids_and_statuses(client: Any) -> None:
    created = client.create_session()
    assert (
        created["ResponseMetadata"]["RequestId"]
        == created["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    )
    sid = created["sessionId"]
    assert (
        client.create_invocation(sessionIdentifier=sid)["ResponseMetadata"]["HTTPStatusCode"] == 201
    )
    assert new_invocation(client, new_session(client))
