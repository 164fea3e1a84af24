"""Entities to wire JSON: members in the model's names, timestamps as ISO 8601 UTC with `Z`.

Server times (createdAt, lastUpdatedAt) carry microseconds: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
A step's invocationStepTime is echoed with as many fraction digits as the client sent (0-6).
Optional members without a value are left out, never sent as null.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from mindkeeper.core.agents import (
    AgentSession,
    Invocation,
    InvocationStep,
    SessionSummary,
    StepSummary,
    StepTime,
)
from mindkeeper.http.bedrock.arn import Home

JSON = dict[str, Any]


def timestamp(value: datetime) -> str:
    """Format a server time with microseconds and `Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def step_time(value: StepTime) -> str:
    """Format a client-supplied step time at the precision it was received with."""
    at = value.at.astimezone(UTC)
    text = at.strftime("%Y-%m-%dT%H:%M:%S")
    if value.digits:
        text += "." + f"{at.microsecond:06d}"[: value.digits]
    return text + "Z"


def _identity(home: Home, session: AgentSession | SessionSummary) -> JSON:
    return {
        "sessionId": session.id,
        "sessionArn": home.session_arn(session.id, session.account_id),
        "sessionStatus": session.status.value,
    }


def created_session(home: Home, session: AgentSession) -> JSON:
    """CreateSession output."""
    return {**_identity(home, session), "createdAt": timestamp(session.created_at)}


def session(home: Home, item: AgentSession) -> JSON:
    """GetSession output; metadata and key ARN only when set."""
    out = {
        **_identity(home, item),
        "createdAt": timestamp(item.created_at),
        "lastUpdatedAt": timestamp(item.last_updated_at),
    }
    if item.metadata:
        out["sessionMetadata"] = item.metadata
    if item.key_ref is not None:
        out["encryptionKeyArn"] = item.key_ref
    return out


def updated_session(home: Home, item: AgentSession) -> JSON:
    """UpdateSession output."""
    return {
        **_identity(home, item),
        "createdAt": timestamp(item.created_at),
        "lastUpdatedAt": timestamp(item.last_updated_at),
    }


def ended_session(home: Home, item: AgentSession) -> JSON:
    """EndSession output."""
    return _identity(home, item)


def session_summary(home: Home, item: SessionSummary) -> JSON:
    """One ListSessions entry."""
    return {
        **_identity(home, item),
        "createdAt": timestamp(item.created_at),
        "lastUpdatedAt": timestamp(item.last_updated_at),
    }


def invocation(item: Invocation) -> JSON:
    """CreateInvocation output and one ListInvocations entry."""
    return {
        "invocationId": item.id,
        "sessionId": item.session_id,
        "createdAt": timestamp(item.created_at),
    }


def step_summary(item: StepSummary) -> JSON:
    """One ListInvocationSteps entry."""
    return {
        "invocationId": item.invocation_id,
        "invocationStepId": item.id,
        "invocationStepTime": step_time(item.time),
        "sessionId": item.session_id,
    }


def step(item: InvocationStep) -> JSON:
    """GetInvocationStep output; the stored payload JSON is embedded as is."""
    return {
        "invocationStep": {
            "invocationId": item.invocation_id,
            "invocationStepId": item.id,
            "invocationStepTime": step_time(item.time),
            "payload": orjson.Fragment(item.payload),
            "sessionId": item.session_id,
        }
    }


def page(key: str, items: list[JSON], next_token: str | None) -> JSON:
    """A list output; `nextToken` only when there is a next page."""
    out: JSON = {key: items}
    if next_token is not None:
        out["nextToken"] = next_token
    return out
