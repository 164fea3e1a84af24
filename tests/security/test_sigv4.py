"""SigV4 on the Bedrock surface with the real boto3 client and hand-made requests."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import boto3
import httpx
import orjson
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.conftest import LiveServer
from tests.security.conftest import (
    ACCOUNT_A,
    AUTH_SETTINGS,
    REGION,
    ManualClock,
    boto_client,
    create_access_key,
    on_own_loop,
)


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    error = exc.value.response
    return (
        error["Error"]["Code"],
        error["ResponseMetadata"]["HTTPStatusCode"],
        error["Error"].get("Message", ""),
    )


@pytest.fixture
def clock() -> ManualClock:
    """The server's clock, starting at the real time (boto3 signs with the real time)."""
    return ManualClock()


@pytest.fixture
def signed(server_factory: Callable[..., LiveServer], clock: ManualClock) -> LiveServer:
    """A server with authentication on and a settable clock."""
    return server_factory(clock=clock, **AUTH_SETTINGS)


def _sign(
    server: LiveServer,
    key_id: str,
    secret: str,
    method: str,
    path: str,
    body: bytes = b"",
    service: str = "bedrock",
    region: str = REGION,
    headers: dict[str, str] | None = None,
) -> tuple[str, dict[str, str], bytes]:
    """Sign a request as botocore would; returns (url, headers, body)."""
    url = server.url + path
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    if body:
        request.headers["Content-Type"] = "application/json"
    SigV4Auth(Credentials(key_id, secret), service, region).add_auth(request)
    return url, dict(request.headers.items()), body


def test_right_secret_works_and_wrong_ones_do_not(signed: LiveServer) -> None:
    key = create_access_key(signed, ACCOUNT_A)
    client = boto_client(signed, key.access_key_id, key.secret_access_key)
    created = client.create_session(sessionMetadata={"a": "b"})
    assert (
        client.get_session(sessionIdentifier=created["sessionId"])["sessionId"]
        == created["sessionId"]
    )
    arn = created["sessionArn"]
    assert client.get_session(sessionIdentifier=arn)["sessionArn"] == arn  # double-encoded path
    client.tag_resource(resourceArn=arn, tags={"team": "a b/c"})
    client.untag_resource(resourceArn=arn, tagKeys=["team", "other key"])
    assert client.list_sessions(maxResults=5)["sessionSummaries"]

    wrong = boto_client(signed, key.access_key_id, key.secret_access_key[:-1] + "x")
    with pytest.raises(ClientError) as exc:
        wrong.list_sessions()
    assert _code(exc)[:2] == ("InvalidSignatureException", 403)

    unknown = boto_client(signed, "MKIAUNKNOWNUNKNOWN00", key.secret_access_key)
    with pytest.raises(ClientError) as exc:
        unknown.list_sessions()
    assert _code(exc) == (
        "UnrecognizedClientException",
        403,
        "The security token included in the request is invalid.",
    )


def test_unsigned_requests_are_refused(signed: LiveServer) -> None:
    response = httpx.put(signed.url + "/sessions/", json={})
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert response.json()["message"] == "Missing Authentication Token"
    client = boto3.client(
        "bedrock-agent-runtime",
        endpoint_url=signed.url,
        region_name=REGION,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 0}),
    )
    with pytest.raises(ClientError) as exc:
        client.list_sessions()
    assert _code(exc)[:2] == ("MissingAuthenticationTokenException", 403)


def test_replay_outside_the_skew_window_is_refused(signed: LiveServer, clock: ManualClock) -> None:
    key = create_access_key(signed, ACCOUNT_A)
    url, headers, body = _sign(
        signed, key.access_key_id, key.secret_access_key, "PUT", "/sessions/", b"{}"
    )
    assert httpx.put(url, headers=headers, content=body).status_code == 201
    assert httpx.put(url, headers=headers, content=body).status_code == 201  # within the window
    clock.advance(minutes=6)
    late = httpx.put(url, headers=headers, content=body)
    assert late.status_code == 403
    assert late.headers["x-amzn-errortype"] == "InvalidSignatureException"
    assert late.json()["message"].startswith("Signature expired: ")
    clock.advance(minutes=-12)
    early = httpx.put(url, headers=headers, content=body)
    assert early.status_code == 403
    assert early.json()["message"].startswith("Signature not yet current: ")


def test_skew_limit_is_configurable(server_factory: Callable[..., LiveServer]) -> None:
    clock = ManualClock()
    server = server_factory(clock=clock, **{**AUTH_SETTINGS, "auth_clock_skew_seconds": 30})
    key = create_access_key(server, ACCOUNT_A)
    url, headers, _ = _sign(server, key.access_key_id, key.secret_access_key, "POST", "/sessions/")
    clock.advance(seconds=45)
    assert httpx.post(url, headers=headers).status_code == 403
    clock.advance(seconds=-30)
    assert httpx.post(url, headers=headers).status_code == 200


def test_tampered_requests_are_refused(signed: LiveServer) -> None:
    key = create_access_key(signed, ACCOUNT_A)
    client = boto_client(signed, key.access_key_id, key.secret_access_key)
    session = client.create_session()["sessionId"]
    path = f"/sessions/{session}/invocations/"
    url, headers, body = _sign(
        signed, key.access_key_id, key.secret_access_key, "PUT", path, b'{"description": "a"}'
    )
    tampered = httpx.put(url, headers=headers, content=b'{"description": "b"}')
    assert tampered.status_code == 403
    assert tampered.headers["x-amzn-errortype"] == "InvalidSignatureException"
    other_path = httpx.put(
        url.replace("/invocations/", "/invocationSteps/"), headers=headers, content=body
    )
    assert other_path.status_code == 403
    query = httpx.put(url + "?maxResults=1", headers=headers, content=body)
    assert query.status_code == 403
    assert httpx.put(url, headers=headers, content=body).status_code == 201

    digest = hashlib.sha256(body).hexdigest()
    url, headers, body = _sign(
        signed,
        key.access_key_id,
        key.secret_access_key,
        "PUT",
        path,
        body,
        headers={"X-Amz-Content-SHA256": digest},
    )
    assert httpx.put(url, headers=headers, content=body).status_code == 201
    mismatch = httpx.put(url, headers=headers, content=body + b" ")
    assert mismatch.status_code == 403
    assert "x-amz-content-sha256" in mismatch.json()["message"]
    listed = client.list_invocations(sessionIdentifier=session)["invocationSummaries"]
    assert len(listed) == 2


def test_wrong_region_or_service_is_refused(signed: LiveServer) -> None:
    key = create_access_key(signed, ACCOUNT_A)
    elsewhere = boto_client(signed, key.access_key_id, key.secret_access_key, region="eu-west-1")
    with pytest.raises(ClientError) as exc:
        elsewhere.list_sessions()
    assert _code(exc) == (
        "InvalidSignatureException",
        403,
        "Credential should be scoped to a valid region.",
    )
    url, headers, _ = _sign(
        signed, key.access_key_id, key.secret_access_key, "POST", "/sessions/", service="s3"
    )
    response = httpx.post(url, headers=headers)
    assert response.status_code == 403
    assert (
        response.json()["message"] == "Credential should be scoped to correct service: 'bedrock'."
    )
    url, headers, _ = _sign(signed, key.access_key_id, key.secret_access_key, "POST", "/sessions/")
    headers["X-Amz-Security-Token"] = "session-token"
    assert (
        httpx.post(url, headers=headers).headers["x-amzn-errortype"]
        == "UnrecognizedClientException"
    )
    headers.pop("X-Amz-Security-Token")
    headers["Authorization"] = headers["Authorization"].replace(
        "SignedHeaders=", "SignedHeaders=x;"
    )
    assert httpx.post(url, headers=headers).status_code == 403


def test_revoked_access_key_stops_working(signed: LiveServer) -> None:
    from mindkeeper.core.services import credentials

    key = create_access_key(signed, ACCOUNT_A)
    client = boto_client(signed, key.access_key_id, key.secret_access_key)
    client.list_sessions()
    on_own_loop(signed, lambda open_uow: credentials.revoke(open_uow(), key.access_key_id))
    with pytest.raises(ClientError) as exc:
        client.list_sessions()
    assert _code(exc)[0] == "UnrecognizedClientException"


def test_throttling(server_factory: Callable[..., LiveServer]) -> None:
    server = server_factory(**AUTH_SETTINGS, rate_limit_per_second=0.5, rate_limit_burst=2)
    first, second = create_access_key(server, ACCOUNT_A), create_access_key(server, ACCOUNT_A)
    client = boto_client(server, first.access_key_id, first.secret_access_key)
    client.list_sessions()
    client.list_sessions()
    with pytest.raises(ClientError) as exc:
        client.list_sessions()
    assert _code(exc)[:2] == ("ThrottlingException", 429)
    assert exc.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] in {"1", "2"}
    boto_client(server, second.access_key_id, second.secret_access_key).list_sessions()


def test_throttling_without_auth_is_per_address(server_factory: Callable[..., LiveServer]) -> None:
    server = server_factory(rate_limit_per_second=0.5, rate_limit_burst=1, worker_enabled=False)
    assert httpx.post(server.url + "/sessions/").status_code == 200
    limited = httpx.post(server.url + "/sessions/")
    assert limited.status_code == 429
    assert limited.headers["x-amzn-errortype"] == "ThrottlingException"


def test_errors_have_the_aws_shape(signed: LiveServer) -> None:
    response = httpx.get(signed.url + "/sessions/x/")
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-amzn-requestid"]
    body: dict[str, Any] = orjson.loads(response.content)
    assert body == {
        "__type": "MissingAuthenticationTokenException",
        "message": "Missing Authentication Token",
    }
