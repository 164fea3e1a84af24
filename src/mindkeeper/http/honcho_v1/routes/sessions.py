"""Sessions: /v1/apps/{app_id}/users/{user_id}/sessions."""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.responses import Response

from mindkeeper.core.services import sessions
from mindkeeper.errors import Unauthorized
from mindkeeper.http.deps import ReadUow, WriteUow
from mindkeeper.http.honcho_v1 import mapping
from mindkeeper.http.honcho_v1.auth import AUTH
from mindkeeper.http.honcho_v1.responses import Deleted, Page, Session
from mindkeeper.http.honcho_v1.routes.common import Paging, ok
from mindkeeper.http.honcho_v1.schemas import SessionCreate, SessionListBody, SessionUpdate

router = APIRouter(
    prefix="/v1/apps/{app_id}/users/{user_id}/sessions",
    tags=["sessions"],
    strict_content_type=False,
    dependencies=[AUTH],
)


@router.get("", response_model=Session)
async def get_session(
    app_id: str, user_id: str, uow: ReadUow, session_id: str | None = Query(default=None)
) -> Response:
    """Get a session by id (from the query or, with auth, the key)."""
    if not session_id:
        raise Unauthorized("Session ID not found in query parameter or JWT")
    return ok(mapping.session(await sessions.get_or_raise(uow, app_id, user_id, session_id)))


@router.post("", response_model=Session)
async def create_session(app_id: str, user_id: str, body: SessionCreate, uow: WriteUow) -> Response:
    """Start a session."""
    return ok(mapping.session(await sessions.create(uow, app_id, user_id, body.metadata)))


@router.post("/list", response_model=Page[Session])
async def list_sessions(
    app_id: str, user_id: str, uow: ReadUow, paging: Paging, body: SessionListBody | None = None
) -> Response:
    """List a user's sessions; `is_active: true` keeps only active ones."""
    body = body or SessionListBody()
    result = await sessions.list(uow, app_id, user_id, body.filter, body.is_active, paging)
    return ok(mapping.page(result, mapping.session))


@router.put("/{session_id}", response_model=Session)
async def update_session(
    app_id: str, user_id: str, session_id: str, body: SessionUpdate, uow: WriteUow
) -> Response:
    """Replace a session's metadata."""
    return ok(
        mapping.session(await sessions.update(uow, app_id, user_id, session_id, body.metadata))
    )


@router.delete("/{session_id}", response_model=Deleted)
async def delete_session(app_id: str, user_id: str, session_id: str, uow: WriteUow) -> Response:
    """Deactivate a session (soft delete)."""
    await sessions.delete(uow, app_id, user_id, session_id)
    return ok({"message": "Session deleted successfully"})


@router.get("/{session_id}/clone", response_model=Session)
async def clone_session(
    app_id: str,
    user_id: str,
    session_id: str,
    uow: WriteUow,
    message_id: str | None = Query(default=None),
    deep_copy: bool = Query(default=False),
) -> Response:
    """Copy a session, its messages up to `message_id` and, with `deep_copy`, its metamessages."""
    clone = await sessions.clone(uow, app_id, user_id, session_id, message_id or None, deep_copy)
    return ok(mapping.session(clone))
