"""Helpers of the AgentCore suite: boto3 clients of both planes, memories, events, errors
(the error assertion and the manual clock are the Bedrock suite's)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config

from tests.bedrock.support import ACCOUNT as ACCOUNT
from tests.bedrock.support import REGION as REGION
from tests.bedrock.support import T0 as T0
from tests.bedrock.support import ManualClock as ManualClock
from tests.bedrock.support import raises_aws as raises_aws

KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
EVENT_ID = re.compile(r"^[0-9]+#[a-fA-F0-9]+$")
RECORD_ID = re.compile(r"^mem-[a-zA-Z0-9-_]{36}$")


def _client(
    service: str, url: str, region: str = REGION, key_id: str = KEY_ID, secret: str = SECRET
) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 0, "mode": "standard"}),
    )


def data_client(url: str, region: str = REGION, key_id: str = KEY_ID, secret: str = SECRET) -> Any:
    """A real boto3 `bedrock-agentcore` client for a server, without retries."""
    return _client("bedrock-agentcore", url, region, key_id, secret)


def control_client(
    url: str, region: str = REGION, key_id: str = KEY_ID, secret: str = SECRET
) -> Any:
    """A real boto3 `bedrock-agentcore-control` client for a server, without retries."""
    return _client("bedrock-agentcore-control", url, region, key_id, secret)


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
