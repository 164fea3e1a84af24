"""Messages: /v3/workspaces/{workspace_id}/sessions/{session_id}/messages (create a batch,
upload a file, list, read, re-tag)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from mindkeeper.core.entities import Message
from mindkeeper.core.services.conversations import messages
from mindkeeper.core.services.conversations.messages import MessageInput, Written
from mindkeeper.errors import Invalid
from mindkeeper.http.deps import EmbedderDep, ReadUow, TokensDep, WriteUow
from mindkeeper.http.honcho_v3 import files, mapping, responses
from mindkeeper.http.honcho_v3.auth import AUTH
from mindkeeper.http.honcho_v3.common import NewName, Paging, created, ok
from mindkeeper.http.honcho_v3.errors import V3Route
from mindkeeper.http.honcho_v3.schemas import (
    NAME_MAX,
    NAME_PATTERN,
    ListBody,
    MessageBatch,
    MessageConfiguration,
    MessageUpdate,
    check_metadata,
    utc_datetime,
)

router = APIRouter(
    prefix="/v3/workspaces/{workspace_id}/sessions/{session_id}/messages",
    tags=["messages"],
    dependencies=[AUTH],
    route_class=V3Route,
    strict_content_type=False,
)

UploadPeer = Annotated[str, Form(min_length=1, max_length=NAME_MAX, pattern=NAME_PATTERN)]


def _out(written: Written, workspace: str, session: str) -> list[dict[str, Any]]:
    return [mapping.message(m, workspace, session, written.peer_names) for m in written.messages]


@router.post("", status_code=201, response_model=list[responses.V3Message])
async def create_messages(
    workspace_id: NewName,
    session_id: NewName,
    body: MessageBatch,
    uow: WriteUow,
    tokens: TokensDep,
    embedder: EmbedderDep,
) -> Response:
    """Append 1-100 messages in order (creating the session, senders and memberships)."""
    inputs = [
        MessageInput(
            m.peer_id,
            m.content,
            m.metadata or {},
            m.created_at,
            None if m.configuration is None else m.configuration.model_dump(exclude_none=True),
        )
        for m in body.messages
    ]
    written = await messages.create(
        uow, workspace_id, session_id, inputs, tokens.count, embed=embedder is not None
    )
    return created(_out(written, workspace_id, session_id))


# Upstream also serves the batch route with a trailing slash (not a redirect).
router.add_api_route(
    "/", create_messages, methods=["POST"], status_code=201, include_in_schema=False
)


def _json_object(text: str | None) -> dict[str, Any] | None:
    """A form field holding a JSON object; anything else reads as absent."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _timestamp(text: str | None) -> datetime | None:
    """A form field holding an ISO-8601 date or time; anything else reads as absent."""
    if not text:
        return None
    try:
        return utc_datetime(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        return None


def _metadata(text: str | None) -> dict[str, Any]:
    """The metadata form field: absent when it is not a JSON object, 422 past the limits."""
    try:
        return check_metadata(_json_object(text)) or {}
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def _configuration(text: str | None) -> dict[str, Any] | None:
    raw = _json_object(text)
    if raw is None:
        return None
    try:
        return MessageConfiguration.model_validate(raw).model_dump(exclude_none=True)
    except ValueError:
        return None


@router.post("/upload", status_code=201, response_model=list[responses.V3Message])
async def upload_file(
    workspace_id: NewName,
    session_id: NewName,
    uow: WriteUow,
    tokens: TokensDep,
    embedder: EmbedderDep,
    file: Annotated[UploadFile, File()],
    peer_id: UploadPeer,
    metadata: Annotated[str | None, Form()] = None,
    configuration: Annotated[str | None, Form()] = None,
    created_at: Annotated[str | None, Form()] = None,
) -> Response:
    """Append the text of a file (PDF, text, JSON; at most 5 MiB) as messages of one peer,
    one per piece of at most 25,000 characters."""
    data = await file.read()
    files.check_size(len(data))
    text = await run_in_threadpool(files.extract_text, file.content_type, data)
    written = await messages.create_from_text(
        uow,
        workspace_id,
        session_id,
        peer_id,
        text,
        _metadata(metadata),
        _timestamp(created_at),
        _configuration(configuration),
        tokens.count,
        embed=embedder is not None,
    )
    return created(_out(written, workspace_id, session_id))


@router.post("/list", response_model=responses.Page[responses.V3Message])
async def list_messages(
    workspace_id: str,
    session_id: str,
    uow: ReadUow,
    paging: Paging,
    body: ListBody | None = Body(default=None),
) -> Response:
    """A page of the session's messages in insertion order."""
    result = await messages.list(
        uow, workspace_id, session_id, paging, body.filters if body else None
    )

    def item(m: Message) -> dict[str, Any]:
        return mapping.message(m, workspace_id, session_id, result.peer_names)

    return ok(mapping.page(result.page, item))


@router.get("/{message_id}", response_model=responses.V3Message)
async def get_message(
    workspace_id: str, session_id: str, message_id: str, uow: ReadUow
) -> Response:
    """One message of the session."""
    written = await messages.get(uow, workspace_id, session_id, message_id)
    return ok(_out(written, workspace_id, session_id)[0])


@router.put("/{message_id}", response_model=responses.V3Message)
async def update_message(
    workspace_id: str, session_id: str, message_id: str, body: MessageUpdate, uow: WriteUow
) -> Response:
    """Replace a message's metadata (null keeps it)."""
    written = await messages.update(uow, workspace_id, session_id, message_id, body.metadata)
    return ok(_out(written, workspace_id, session_id)[0])
