"""Messages: …/sessions/{session_id}/messages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from mindkeeper.core.ports import NewMessage
from mindkeeper.core.services import messages
from mindkeeper.http.deps import ReadUow, WriteUow, tokens_of
from mindkeeper.http.honcho_v1 import mapping
from mindkeeper.http.honcho_v1.auth import AUTH
from mindkeeper.http.honcho_v1.responses import Message, Page
from mindkeeper.http.honcho_v1.routes.common import Paging, ok
from mindkeeper.http.honcho_v1.schemas import ListBody, MessageBatch, MessageCreate, MessageUpdate

router = APIRouter(
    prefix="/v1/apps/{app_id}/users/{user_id}/sessions/{session_id}/messages",
    tags=["messages"],
    strict_content_type=False,
    dependencies=[AUTH],
)


def _new(m: MessageCreate) -> NewMessage:
    return NewMessage(m.content, m.is_user, m.metadata)


@router.post("", response_model=Message)
async def create_message(
    app_id: str,
    user_id: str,
    session_id: str,
    body: MessageCreate,
    uow: WriteUow,
    request: Request,
) -> Response:
    """Append one message."""
    created = await messages.create_many(
        uow, app_id, user_id, session_id, [_new(body)], count_tokens=tokens_of(request).count
    )
    return ok(mapping.message(created[0]))


@router.post("/batch", response_model=list[Message])
async def create_batch(
    app_id: str,
    user_id: str,
    session_id: str,
    body: MessageBatch,
    uow: WriteUow,
    request: Request,
) -> Response:
    """Append up to 100 messages in order, all or nothing."""
    created = await messages.create_many(
        uow,
        app_id,
        user_id,
        session_id,
        [_new(m) for m in body.messages],
        count_tokens=tokens_of(request).count,
    )
    return ok([mapping.message(m) for m in created])


@router.post("/list", response_model=Page[Message])
async def list_messages(
    app_id: str,
    user_id: str,
    session_id: str,
    uow: ReadUow,
    paging: Paging,
    body: ListBody | None = None,
) -> Response:
    """List a session's messages in insertion order."""
    result = await messages.list(
        uow, app_id, user_id, session_id, body.filter if body else None, paging
    )
    return ok(mapping.page(result, mapping.message))


@router.get("/{message_id}", response_model=Message)
async def get_message(
    app_id: str, user_id: str, session_id: str, message_id: str, uow: ReadUow
) -> Response:
    """Get one message."""
    return ok(
        mapping.message(await messages.get_or_raise(uow, app_id, user_id, session_id, message_id))
    )


@router.put("/{message_id}", response_model=Message)
async def update_message(
    app_id: str,
    user_id: str,
    session_id: str,
    message_id: str,
    body: MessageUpdate,
    uow: WriteUow,
) -> Response:
    """Replace a message's metadata."""
    updated = await messages.update(uow, app_id, user_id, session_id, message_id, body.metadata)
    return ok(mapping.message(updated))
