"""Metamessages: /v1/apps/{app_id}/users/{user_id}/metamessages."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from mindkeeper.core.ports import NoteQuery
from mindkeeper.core.services import notes
from mindkeeper.http.deps import ReadUow, WriteUow
from mindkeeper.http.honcho_v1 import mapping
from mindkeeper.http.honcho_v1.auth import AUTH
from mindkeeper.http.honcho_v1.responses import Metamessage, Page
from mindkeeper.http.honcho_v1.routes.common import Paging, ok
from mindkeeper.http.honcho_v1.schemas import (
    MetamessageCreate,
    MetamessageListBody,
    MetamessageUpdate,
)

router = APIRouter(
    prefix="/v1/apps/{app_id}/users/{user_id}/metamessages",
    tags=["metamessages"],
    strict_content_type=False,
    dependencies=[AUTH],
)


@router.post("", response_model=Metamessage)
async def create_metamessage(
    app_id: str, user_id: str, body: MetamessageCreate, uow: WriteUow
) -> Response:
    """Create a metamessage on the user, optionally tied to a session and message."""
    note = await notes.create(
        uow,
        app_id,
        user_id,
        body.label,
        body.content,
        body.session_id or None,
        body.message_id or None,
        body.metadata,
    )
    return ok(mapping.metamessage(note))


@router.post("/list", response_model=Page[Metamessage])
async def list_metamessages(
    app_id: str, user_id: str, uow: ReadUow, paging: Paging, body: MetamessageListBody | None = None
) -> Response:
    """List the user's metamessages, optionally by session, message and label."""
    body = body or MetamessageListBody()
    query = NoteQuery(
        session_id=body.session_id or None,
        message_id=body.message_id or None,
        label=body.label or None,
        filter=body.filter,
    )
    result = await notes.list(uow, app_id, user_id, query, paging)
    return ok(mapping.page(result, mapping.metamessage))


@router.get("/{metamessage_id}", response_model=Metamessage)
async def get_metamessage(app_id: str, user_id: str, metamessage_id: str, uow: ReadUow) -> Response:
    """Get one metamessage."""
    return ok(mapping.metamessage(await notes.get_or_raise(uow, app_id, user_id, metamessage_id)))


@router.put("/{metamessage_id}", response_model=Metamessage)
async def update_metamessage(
    app_id: str, user_id: str, metamessage_id: str, body: MetamessageUpdate, uow: WriteUow
) -> Response:
    """Change a metamessage's links, label or metadata."""
    note = await notes.update(
        uow,
        app_id,
        user_id,
        metamessage_id,
        body.session_id or None,
        body.message_id or None,
        body.label,
        body.metadata,
    )
    return ok(mapping.metamessage(note))
