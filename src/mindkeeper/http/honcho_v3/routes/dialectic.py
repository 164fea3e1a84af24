"""Dialectic chat: POST /v3/workspaces/{workspace_id}/peers/{peer_id}/chat and the
workspace's POST /v3/workspaces/{workspace_id}/chat, whole (`{"content": ...}`) or streamed.

Streams are v3's server-sent events: one `data: {"delta": {"content": "<chunk>"}, "done":
false}` event per chunk, then `data: {"done": true}` (with `"evidence"` when asked for).
Everything that can fail is checked before the headers are sent, unlike upstream: the
allowlist and the response format (422), an unknown target, session or scope (404), a missing model
and a provider that fails before its first chunk (503, `x-should-retry: false` when retrying
cannot help). Only a provider failure after the first chunk truncates a stream.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response, StreamingResponse

from mindkeeper.core.ports.derived import Conclusion, NamedMessage
from mindkeeper.core.ports.models import ModelError, ModelNotConfigured
from mindkeeper.core.services.memory import chat
from mindkeeper.errors import Unavailable
from mindkeeper.http.deps import RuntimeDep
from mindkeeper.http.honcho_v3 import responses
from mindkeeper.http.honcho_v3.auth import AUTH
from mindkeeper.http.honcho_v3.common import ok
from mindkeeper.http.honcho_v3.errors import V3Route
from mindkeeper.http.honcho_v3.mapping import timestamp
from mindkeeper.http.honcho_v3.schemas import RecallScope
from mindkeeper.http.responses import JSONBytes

log = logging.getLogger("mindkeeper.http")

STREAM_MEDIA_TYPE = "text/event-stream; charset=utf-8"
QUERY_MAX = 10_000

router = APIRouter(
    prefix="/v3/workspaces/{workspace_id}",
    tags=["chat"],
    dependencies=[AUTH],
    route_class=V3Route,
    strict_content_type=False,
)

Query = Annotated[str, Field(min_length=1, max_length=QUERY_MAX)]
ReasoningLevel = Literal["minimal", "low", "medium", "high", "max"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WorkspaceChatOptions(_Body):
    """Body of POST .../chat."""

    query: Query
    stream: bool = False
    session_id: str | None = None
    reasoning_level: ReasoningLevel = "low"
    response_format: Any = None
    include_evidence: bool = False
    scope: RecallScope = None


class DialecticOptions(WorkspaceChatOptions):
    """Body of POST .../peers/{peer_id}/chat."""

    target: str | None = None
    filters: dict[str, Any] | None = None


def _conclusion(c: Conclusion) -> dict[str, Any]:
    return {
        "id": c.id,
        "level": c.level,
        "content": c.content,
        "created_at": timestamp(c.created_at),
        "session_id": c.session,
        "observer_id": c.observer,
        "observed_id": c.observed,
        "source_ids": c.source_ids or [],
    }


def _message(m: NamedMessage) -> dict[str, Any]:
    return {
        "id": m.message.id,
        "session_id": m.session,
        "peer_id": m.sender,
        "created_at": timestamp(m.message.created_at),
    }


def evidence(e: chat.Evidence) -> dict[str, Any]:
    """The `evidence` object the current SDK reads."""
    return {
        "conclusions": [_conclusion(c) for c in e.conclusions],
        "messages": [_message(m) for m in e.messages],
        "tool_calls": [
            {"tool_name": t.tool_name, "tool_input": t.tool_input} for t in e.tool_calls
        ],
    }


def _event(value: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(value)}\n\n".encode()


def _unavailable(exc: Unavailable) -> Response:
    retry = isinstance(exc, ModelError) and exc.retryable
    headers = {"x-should-retry": "true" if retry else "false"}
    return JSONBytes({"detail": exc.message}, status_code=503, headers=headers)


async def _events(
    first: str | None, rest: AsyncIterator[str], call: chat.ChatCall, with_evidence: bool
) -> AsyncIterator[bytes]:
    if first:
        yield _event({"delta": {"content": first}, "done": False})
    if first is not None:
        try:
            async for chunk in rest:
                if chunk:
                    yield _event({"delta": {"content": chunk}, "done": False})
        except Unavailable as exc:  # headers are gone: log and end the stream early
            log.warning("dialectic stream broke off: %s", exc.message)
            raise
    done: dict[str, Any] = {"done": True}
    if with_evidence:
        done["evidence"] = evidence(call.evidence)
    yield _event(done)


async def _reply(
    runtime: Any, question: chat.Question, body: WorkspaceChatOptions, peer: bool
) -> Response:
    try:
        if peer:
            call = await chat.prepare_peer(runtime, question)
        else:
            call = await chat.prepare_workspace(runtime, question)
        if not body.stream:
            content: dict[str, Any] = {"content": await chat.answer(call)}
            if body.include_evidence:
                content["evidence"] = evidence(call.evidence)
            return ok(content)
        rest = chat.stream(call)
        try:
            first: str | None = await anext(rest)
        except StopAsyncIteration:
            first = None
    except (ModelNotConfigured, ModelError) as exc:
        return _unavailable(exc)
    return StreamingResponse(
        _events(first, rest, call, body.include_evidence), media_type=STREAM_MEDIA_TYPE
    )


@router.post(
    "/peers/{peer_id}/chat",
    response_model=responses.V3DialecticResponse,
    responses=responses.CHAT_RESPONSES,
)
async def peer_chat(
    workspace_id: str, peer_id: str, body: DialecticOptions, runtime: RuntimeDep
) -> Response:
    """Answer a question about `target` (default: the peer) from what the peer knows."""
    question = chat.Question(
        workspace=workspace_id,
        query=body.query,
        observer=peer_id,
        target=body.target,
        session=body.session_id,
        filters=body.filters,
        reasoning_level=body.reasoning_level,
        response_format=body.response_format,
        scope=body.scope,
    )
    return await _reply(runtime, question, body, peer=True)


@router.post(
    "/chat", response_model=responses.V3DialecticResponse, responses=responses.CHAT_RESPONSES
)
async def workspace_chat(
    workspace_id: str, body: WorkspaceChatOptions, runtime: RuntimeDep
) -> Response:
    """Answer a question from what the whole workspace knows."""
    question = chat.Question(
        workspace=workspace_id,
        query=body.query,
        session=body.session_id,
        reasoning_level=body.reasoning_level,
        response_format=body.response_format,
        scope=body.scope,
    )
    return await _reply(runtime, question, body, peer=False)
