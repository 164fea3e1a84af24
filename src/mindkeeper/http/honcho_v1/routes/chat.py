"""Dialectic chat: POST …/sessions/{session_id}/chat, whole (`{"content": …}`) or streamed.

Streaming sends raw text chunks as `text/event-stream; charset=utf-8` with no SSE framing, as
Honcho v1 does. Unlike upstream, nothing is sent before the answer has started: an unknown
user or session (404, checked first, as upstream checks resources before calling a model), a
missing model, or a provider that fails before its first token give a normal
`{"detail": …}` error with its status. Only a failure after the first chunk can truncate a
stream (the connection then closes early). Model errors are 503 with `x-should-retry: false`
when retrying cannot help (no model configured, bad key), so the SDK does not repeat them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter
from pydantic import field_validator
from starlette.responses import Response, StreamingResponse

from mindkeeper.core.ports.models import ModelError, ModelNotConfigured
from mindkeeper.core.services import dialectic
from mindkeeper.errors import Unavailable
from mindkeeper.http.deps import RuntimeDep
from mindkeeper.http.honcho_v1.auth import AUTH
from mindkeeper.http.honcho_v1.responses import CHAT_RESPONSES, DialecticResponse
from mindkeeper.http.honcho_v1.routes.common import ok
from mindkeeper.http.honcho_v1.schemas import BaseModel
from mindkeeper.http.responses import JSONBytes

log = logging.getLogger("mindkeeper.http")

MAX_QUERY_CHARS = 10_000
MAX_QUERIES = 25
STREAM_MEDIA_TYPE = "text/event-stream; charset=utf-8"

router = APIRouter(
    prefix="/v1/apps/{app_id}/users/{user_id}/sessions/{session_id}",
    tags=["chat"],
    strict_content_type=False,
    dependencies=[AUTH],
)


class DialecticOptions(BaseModel):
    """Body of POST …/chat: one query or up to 25, and whether to stream."""

    queries: str | list[str]
    stream: bool = False

    @field_validator("queries")
    @classmethod
    def _limits(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, str):
            if len(value) > MAX_QUERY_CHARS:
                raise ValueError("Query too long")
            return value
        if not value:
            raise ValueError("At least one query is required")
        if len(value) > MAX_QUERIES:
            raise ValueError("Too many queries")
        if any(len(q) > MAX_QUERY_CHARS for q in value):
            raise ValueError("One or more queries too long")
        return value


def _unavailable(exc: Unavailable) -> Response:
    retry = isinstance(exc, ModelError) and exc.retryable
    headers = {"x-should-retry": "true" if retry else "false"}
    return JSONBytes({"detail": exc.message}, status_code=503, headers=headers)


async def _rest(first: str, stream: AsyncIterator[str]) -> AsyncIterator[bytes]:
    yield first.encode()
    try:
        async for chunk in stream:
            yield chunk.encode()
    except Unavailable as exc:  # headers are gone: log and end the stream early
        log.warning("dialectic stream broke off: %s", exc.message)
        raise


@router.post("/chat", response_model=DialecticResponse, responses=CHAT_RESPONSES)
async def chat(
    app_id: str, user_id: str, session_id: str, body: DialecticOptions, runtime: RuntimeDep
) -> Response:
    """Answer questions about the user from what the deriver learnt."""
    queries = [body.queries] if isinstance(body.queries, str) else body.queries
    try:
        call = await dialectic.prepare(runtime, app_id, user_id, session_id, queries)
        if not body.stream:
            return ok({"content": await dialectic.answer(call)})
        stream = dialectic.stream(call)
        try:
            first = await anext(stream)
        except StopAsyncIteration:
            first = ""
    except (ModelNotConfigured, ModelError) as exc:
        return _unavailable(exc)
    return StreamingResponse(_rest(first, stream), media_type=STREAM_MEDIA_TYPE)
