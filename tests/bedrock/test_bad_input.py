"""Bad input on the Bedrock surface: nesting, impossible step times, lone surrogates and
requests the HTTP parser refuses, each answered in the AWS error shape with nothing stored."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from mindkeeper.http.json_input import MAX_DEPTH
from tests.bedrock.support import UUID, new_invocation, new_session
from tests.conftest import LiveServer

VALIDATION = "ValidationException"
UNKNOWN_OPERATION = "UnknownOperationException"
TOO_DEEP = (
    "1 validation error detected: The request body must not be nested more than "
    f"{MAX_DEPTH} levels deep"
)
JSON_HEADERS = {"content-type": "application/json"}


def aws_error(status: int, headers: Any, body: bytes, code: str) -> str:
    """Assert an AWS-shaped error (status, x-amzn-ErrorType, JSON body); return its message."""
    assert status == STATUS[code], (status, body)
    assert headers["x-amzn-errortype"] == code
    assert headers["content-type"] == "application/json"
    assert UUID.match(headers["x-amzn-requestid"])
    payload = orjson.loads(body)
    assert payload["__type"] == code
    assert isinstance(payload["message"], str) and payload["message"]
    return str(payload["message"])


STATUS = {VALIDATION: 400, UNKNOWN_OPERATION: 404}


def refused(response: httpx.Response, code: str = VALIDATION) -> str:
    """Assert an AWS-shaped error reply over httpx; return its message."""
    return aws_error(response.status_code, response.headers, response.content, code)


def session_ids(http: httpx.Client) -> list[str]:
    """Every session of the account, newest first."""
    listed = http.post("/sessions/?maxResults=1000").json()
    return [s["sessionId"] for s in listed["sessionSummaries"]]


def nested(levels: int) -> bytes:
    """A JSON array `levels` deep."""
    return b"[" * levels + b"]" * levels


# -- nesting depth -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "levels",
    [MAX_DEPTH, 400, 2000],  # one past the limit; within orjson's reach; beyond it
)
def test_bodies_nested_beyond_the_limit_are_refused(server: LiveServer, levels: int) -> None:
    with server.client() as http:
        sid = str(http.put("/sessions/", json={}).json()["sessionId"])
        iid = str(http.put(f"/sessions/{sid}/invocations/", json={}).json()["invocationId"])
        deep = b'{"x": ' + nested(levels) + b"}"  # the body object is level 1
        step = b'{"invocationIdentifier": "' + iid.encode() + b'", "extra": ' + nested(levels)
        step += b', "invocationStepTime": "2025-03-01T12:00:00Z", '
        step += b'"payload": {"contentBlocks": [{"text": "t"}]}}'
        for method, path, raw in (
            ("PUT", "/sessions/", deep),
            ("PUT", f"/sessions/{sid}/invocations/", deep),
            ("PUT", f"/sessions/{sid}/invocationSteps/", step),
            ("PUT", f"/sessions/{sid}", deep),
        ):
            message = refused(http.request(method, path, content=raw, headers=JSON_HEADERS))
            assert message == TOO_DEEP
        assert session_ids(http) == [sid]
        invocations = http.post(f"/sessions/{sid}/invocations/").json()
        assert [i["invocationId"] for i in invocations["invocationSummaries"]] == [iid]
        steps = http.post(f"/sessions/{sid}/invocationSteps/", json={}).json()
        assert steps["invocationStepSummaries"] == []


def test_bodies_at_the_depth_limit_are_accepted(http: httpx.Client) -> None:
    raw = b'{"x": ' + nested(MAX_DEPTH - 1) + b"}"
    created = http.put("/sessions/", content=raw, headers=JSON_HEADERS)
    assert created.status_code == 201, created.text
    sid = created.json()["sessionId"]
    assert http.get(f"/sessions/{sid}/").status_code == 200


# -- invocationStepTime ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "time",
    [
        "2025-03-01T12:00:00+25:00",
        "2025-03-01T12:00:00+99:99",
        "2025-03-01T12:00:00-24:00",
        "2025-03-01T12:00:00+23:60",
        "2025-03-01T12:00:00+0960",
        "\u0662\u0660\u0662\u0665-03-01T12:00:00Z",  # Arabic-Indic digits
        "2025-03-01T12:00:00.\uff15Z",  # a fullwidth digit
        "2025-03-01T12:00:00+0\u0661:00",  # an Arabic-Indic digit
    ],
)
def test_impossible_step_times_are_refused(client: Any, http: httpx.Client, time: str) -> None:
    sid = new_session(client)
    iid = new_invocation(client, sid)
    body = {
        "invocationIdentifier": iid,
        "invocationStepTime": time,
        "payload": {"contentBlocks": [{"text": "t"}]},
    }
    message = refused(http.put(f"/sessions/{sid}/invocationSteps/", json=body))
    assert "at 'invocationStepTime'" in message
    assert client.list_invocation_steps(sessionIdentifier=sid)["invocationStepSummaries"] == []


@pytest.mark.parametrize(
    ("time", "echoed"),
    [
        ("2025-03-01T23:59:00+23:59", "2025-03-01T00:00:00Z"),
        ("2025-03-01T00:00:00-23:59", "2025-03-01T23:59:00Z"),
        ("2025-03-01T12:00:00+0000", "2025-03-01T12:00:00Z"),
    ],
)
def test_the_extreme_utc_offsets_are_accepted(
    client: Any, http: httpx.Client, time: str, echoed: str
) -> None:
    sid = new_session(client)
    iid = new_invocation(client, sid)
    body = {
        "invocationIdentifier": iid,
        "invocationStepTime": time,
        "payload": {"contentBlocks": [{"text": "t"}]},
    }
    r = http.put(f"/sessions/{sid}/invocationSteps/", json=body)
    assert r.status_code == 201, r.text
    listed = http.post(f"/sessions/{sid}/invocationSteps/", json={}).json()
    assert [s["invocationStepTime"] for s in listed["invocationStepSummaries"]] == [echoed]


# -- lone surrogates ---------------------------------------------------------------------------


def test_lone_surrogates_are_refused(server: LiveServer) -> None:
    with server.client() as http:
        for raw in (
            b'{"sessionMetadata": {"k": "\\ud800"}}',
            b'{"tags": {"\\udfff": "v"}}',
        ):
            message = refused(http.put("/sessions/", content=raw, headers=JSON_HEADERS))
            assert "not valid JSON" in message
        assert session_ids(http) == []


# -- requests the HTTP parser refuses ----------------------------------------------------------


def raw_exchange(url: str, *requests: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Send each request on one connection, each after the previous answer; read until the
    server closes. Returns status, headers and body of every answer."""
    parts = urlsplit(url)
    answers = []
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        buffer = b""
        for request in requests:
            sock.sendall(request)
            while b"\r\n\r\n" not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            status_line, *lines = head.decode("latin-1").split("\r\n")
            headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines)}
            length = int(headers.get("content-length", "0"))
            while len(buffer) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
            body, buffer = buffer[:length], buffer[length:]
            answers.append((int(status_line.split()[1]), headers, body))
    return answers


CREATE = b'{"sessionMetadata": {"k": "v"}}'


def _create(headers: bytes = b"", method: bytes = b"PUT", path: bytes = b"/sessions/") -> bytes:
    """A raw CreateSession request, with extra header lines."""
    return (
        method
        + b" "
        + path
        + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + headers
        + b"Content-Length: "
        + str(len(CREATE)).encode()
        + b"\r\n\r\n"
        + CREATE
    )


LONG = b"a" * 70_000
PARSER_REFUSALS = [
    ("unknown method", _create(method=b"BREW"), UNKNOWN_OPERATION, "method"),
    ("lowercase method", _create(method=b"put"), UNKNOWN_OPERATION, "method"),
    ("URL beyond 64 KiB", _create(path=b"/sessions/?x=" + LONG), VALIDATION, "url is too long"),
    ("control character in a header", _create(b"X-A: a\x01b\r\n"), VALIDATION, "header"),
    ("control character in a header name", _create(b"X\x01A: ab\r\n"), VALIDATION, "header"),
    ("space in the URL", _create(path=b"/sessions/ x"), VALIDATION, "HTTP"),
    ("two content lengths", _create(b"Content-Length: 1\r\n"), VALIDATION, "Content-Length"),
    ("tags path", b"GET /tags/" + LONG + b" HTTP/1.1\r\nHost: x\r\n\r\n", VALIDATION, "url"),
    (
        "absolute form",
        b"GET http://x/sessions/ HTTP/1.1\r\nHost: x\r\nX-A: \x7f\r\n\r\n",
        VALIDATION,
        "header",
    ),
    (
        "malformed chunk",
        b"PUT /sessions/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        VALIDATION,
        "chunk",
    ),
]


@pytest.mark.parametrize(
    ("request_bytes", "code", "reason"),
    [case[1:] for case in PARSER_REFUSALS],
    ids=[case[0] for case in PARSER_REFUSALS],
)
def test_parser_refusals_answer_in_the_aws_shape(
    server: LiveServer, request_bytes: bytes, code: str, reason: str
) -> None:
    [(status, headers, body)] = raw_exchange(server.url, request_bytes)
    message = aws_error(status, headers, body, code)
    assert reason in message, message
    assert headers["connection"] == "close"
    with server.client() as http:
        assert session_ids(http) == []


def test_a_refusal_after_a_kept_alive_request_is_shaped_too(server: LiveServer) -> None:
    good = b"POST /sessions/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    first, second = raw_exchange(server.url, good, _create(b"X-A: \x01\r\n"))
    assert first[0] == 200 and orjson.loads(first[2]) == {"sessionSummaries": []}
    aws_error(*second, VALIDATION)
    with server.client() as http:
        assert session_ids(http) == []


def test_paths_outside_the_surface_keep_the_plain_refusal(server: LiveServer) -> None:
    for path in (b"/sessionsx", b"/healthz", b"/v1/apps"):
        [(status, headers, body)] = raw_exchange(server.url, _create(method=b"BREW", path=path))
        assert status == 400
        assert headers["content-type"] == "text/plain; charset=utf-8"
        assert "x-amzn-errortype" not in headers
        assert body == b"Invalid HTTP request received."
