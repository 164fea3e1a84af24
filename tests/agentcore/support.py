"""Helpers of the AgentCore suite: boto3 clients of both planes, memories, events, errors."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT = "000000000000"
KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
EVENT_ID = re.compile(r"^[0-9]+#[a-fA-F0-9]+$")
RECORD_ID = re.compile(r"^mem-[a-zA-Z0-9-_]{36}$")


def _config(**extra: Any) -> Config:
    return Config(retries={"max_attempts": 0, "mode": "standard"}, **extra)


def data_client(url: str, region: str = REGION, key_id: str = KEY_ID, secret: str = SECRET) -> Any:
    """A real boto3 `bedrock-agentcore` client for a server, without retries."""
    return boto3.client(
        "bedrock-agentcore",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=_config(),
    )


def control_client(
    url: str, region: str = REGION, key_id: str = KEY_ID, secret: str = SECRET
) -> Any:
    """A real boto3 `bedrock-agentcore-control` client for a server, without retries."""
    return boto3.client(
        "bedrock-agentcore-control",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=_config(),
    )


def uid(prefix: str = "t") -> str:
    """A unique name made of letters, digits and underscores."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def new_memory(control: Any, **kwargs: Any) -> str:
    """Create a memory (30-day event expiry unless given) and return its id."""
    kwargs.setdefault("name", uid("mem"))
    kwargs.setdefault("eventExpiryDuration", 30)
    return str(control.create_memory(**kwargs)["memory"]["id"])


def text_item(text: str, role: str = "USER") -> dict[str, Any]:
    """A conversational payload item."""
    return {"conversational": {"content": {"text": text}, "role": role}}


def put_event(
    data: Any,
    memory_id: str,
    actor: str = "actor-1",
    session: str = "session-1",
    at: datetime = T0,
    payload: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """CreateEvent; return the event."""
    response = data.create_event(
        memoryId=memory_id,
        actorId=actor,
        sessionId=session,
        eventTimestamp=at,
        payload=payload if payload is not None else [{"blob": "{}"}],
        **kwargs,
    )
    return dict(response["event"])


def walk(call: Any, key: str, **kwargs: Any) -> list[list[Any]]:
    """Follow nextToken from the first page to the last; return the pages."""
    pages: list[list[Any]] = []
    token: str | None = None
    seen: set[str] = set()
    while True:
        args = dict(kwargs)
        if token is not None:
            args["nextToken"] = token
        response = call(**args)
        pages.append(list(response[key]))
        token = response.get("nextToken")
        if not token:
            return pages
        assert token not in seen, "a token repeated"
        seen.add(token)


@contextmanager
def raises_aws(code: str, status: int, match: str | None = None) -> Iterator[dict[str, Any]]:
    """Expect a ClientError with that code and HTTP status; yields the error response."""
    holder: dict[str, Any] = {}
    with pytest.raises(ClientError) as info:
        yield holder
    response = info.value.response
    holder.update(response)
    assert response["Error"]["Code"] == code, response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status, response
    assert response["ResponseMetadata"]["RequestId"], response
    if match is not None:
        assert re.search(match, response["Error"]["Message"]), response["Error"]["Message"]


class ManualClock:
    """A clock that moves only when told to; safe to read from the server thread."""

    def __init__(self, start: datetime = T0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        """Move forward by a timedelta's keyword arguments; return the new time."""
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


def raw_call(http: Any, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
    """An unsigned request as a hand-written client sends it (for what botocore refuses)."""
    content = None if body is None else json.dumps(body)
    headers = {"content-type": "application/json"} if body is not None else {}
    return http.request(method, path, content=content, headers=headers, **kwargs)


def assert_error(response: Any, code: str, status: int, match: str | None = None) -> None:
    """An AWS error answer: status, `x-amzn-ErrorType`, and a message matching `match`."""
    assert response.status_code == status, response.text
    assert response.headers["x-amzn-errortype"] == code, response.text
    assert response.headers["x-amzn-requestid"]
    if match is not None:
        assert re.search(match, response.json()["message"]), response.text
