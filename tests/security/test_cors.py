"""CORS on every surface: preflights are answered before any surface sees them, and every
response to an allowed origin (Bedrock's and errors included) carries the allow-origin header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import pytest
from botocore.exceptions import ClientError

from tests.bedrock.support import make_client, session_arn
from tests.conftest import LiveServer
from tests.security.conftest import AUTH_SETTINGS

ALLOWED = "https://app.example"
DENIED = "https://evil.example"
SIGV4_HEADERS = "authorization,content-type,x-amz-date,x-amz-content-sha256,amz-sdk-request"
EXPOSED = {"x-amzn-requestid", "x-amzn-errortype", "x-should-retry", "retry-after"}

#: (path, the method a browser page would ask to use) on each surface.
SURFACES = [
    ("/v1/apps/list", "POST"),
    ("/sessions/", "PUT"),
    (f"/sessions/{uuid4()}/invocationSteps/", "POST"),
    (f"/tags/{quote(session_arn(str(uuid4())), safe='')}", "GET"),
    ("/healthz", "GET"),
]


def _preflight(origin: str, method: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": SIGV4_HEADERS,
    }


def _exposed(headers: Any) -> set[str]:
    return {h.strip().lower() for h in headers["access-control-expose-headers"].split(",")}


def _from_origin(client: Any, origin: str) -> Any:
    """A boto3 client whose requests carry an Origin header, as a browser's would."""

    def add_origin(request: Any, **_: Any) -> None:
        request.headers["Origin"] = origin

    client.meta.events.register("before-sign.*.*", add_origin)
    return client


def _headers_of(call: Callable[[], Any]) -> tuple[int, dict[str, str]]:
    """Status and headers of a boto3 call, whether it succeeds or raises a ClientError."""
    try:
        meta = call()["ResponseMetadata"]
    except ClientError as error:
        meta = error.response["ResponseMetadata"]
    return meta["HTTPStatusCode"], meta["HTTPHeaders"]


@pytest.mark.parametrize("auth", [False, True], ids=["auth-off", "auth-on"])
def test_preflights_are_answered_on_every_surface(
    server_factory: Callable[..., LiveServer], auth: bool
) -> None:
    settings = AUTH_SETTINGS if auth else {}
    server = server_factory(cors_origins=[ALLOWED], **settings)
    with server.client() as http:
        for path, method in SURFACES:
            allowed = http.options(path, headers=_preflight(ALLOWED, method))
            assert allowed.status_code == 200, (path, allowed.text)
            assert allowed.headers["access-control-allow-origin"] == ALLOWED
            assert method in allowed.headers["access-control-allow-methods"]
            assert "x-amz-date" in allowed.headers["access-control-allow-headers"]
            assert "x-amzn-errortype" not in allowed.headers
            denied = http.options(path, headers=_preflight(DENIED, method))
            assert denied.status_code == 400, path
            assert "access-control-allow-origin" not in denied.headers


def test_bedrock_responses_carry_the_allow_origin_header(
    server_factory: Callable[..., LiveServer],
) -> None:
    server = server_factory(cors_origins=[ALLOWED])
    browser = _from_origin(make_client(server.url), ALLOWED)
    created = browser.create_session()
    assert created["ResponseMetadata"]["HTTPHeaders"]["access-control-allow-origin"] == ALLOWED
    calls: list[tuple[int, Callable[[], Any]]] = [
        (200, lambda: browser.list_sessions()),
        (200, lambda: browser.list_tags_for_resource(resourceArn=created["sessionArn"])),
        (404, lambda: browser.get_session(sessionIdentifier=str(uuid4()))),
        (404, lambda: browser.list_tags_for_resource(resourceArn=session_arn(str(uuid4())))),
        (400, lambda: browser.create_session(encryptionKeyArn="alias/not-a-key-arn")),
    ]
    for status, call in calls:
        got, headers = _headers_of(call)
        assert got == status
        assert headers["access-control-allow-origin"] == ALLOWED
        assert EXPOSED <= _exposed(headers)
    stranger = _from_origin(make_client(server.url), DENIED)
    got, headers = _headers_of(lambda: stranger.get_session(sessionIdentifier=str(uuid4())))
    assert got == 404 and "access-control-allow-origin" not in headers


@pytest.mark.parametrize("auth", [False, True], ids=["auth-off", "auth-on"])
def test_cross_origin_requests_on_every_surface(
    server_factory: Callable[..., LiveServer], auth: bool
) -> None:
    settings = AUTH_SETTINGS if auth else {}
    server = server_factory(cors_origins=[ALLOWED], **settings)
    requests = [
        ("POST", "/v1/apps/list", {}),
        ("PUT", "/sessions/", {}),  # unsigned: refused by SigV4 when auth is on
        ("GET", f"/sessions/{uuid4()}", None),
        ("GET", f"/tags/{quote(session_arn(str(uuid4())), safe='')}", None),
        ("GET", "/healthz", None),
    ]
    with server.client() as http:
        for method, path, body in requests:
            allowed = http.request(method, path, json=body, headers={"Origin": ALLOWED})
            assert allowed.headers["access-control-allow-origin"] == ALLOWED, (path, allowed)
            denied = http.request(method, path, json=body, headers={"Origin": DENIED})
            assert denied.status_code == allowed.status_code, path
            assert "access-control-allow-origin" not in denied.headers
        big = http.put(
            "/sessions/", content=b"{" + b" " * 9_000_000 + b"}", headers={"Origin": ALLOWED}
        )
        assert big.headers["x-amzn-errortype"] == "ValidationException"
        assert big.headers["access-control-allow-origin"] == ALLOWED


def test_cors_stays_off_on_bedrock_routes_by_default(
    server_factory: Callable[..., LiveServer],
) -> None:
    server = server_factory()
    with server.client() as http:
        for path, method in SURFACES:
            response = http.options(path, headers=_preflight(ALLOWED, method))
            assert "access-control-allow-origin" not in response.headers, path
            plain = http.get(path, headers={"Origin": ALLOWED})
            assert "access-control-allow-origin" not in plain.headers, path
