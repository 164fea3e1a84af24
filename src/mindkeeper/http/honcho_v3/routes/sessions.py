"""Sessions: /v3/workspaces/{workspace_id}/sessions (get or create, list, update, delete,
clone) and their members (add, replace, remove, list, per-member settings)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from starlette.responses import Response

from mindkeeper.core.ports import MemberSettings
from mindkeeper.core.services.conversations import members, sessions
from mindkeeper.http.deps import ReadUow, WriteUow
from mindkeeper.http.honcho_v3 import mapping, responses
from mindkeeper.http.honcho_v3.auth import AUTH
from mindkeeper.http.honcho_v3.common import (
    NewName,
    Paging,
    PlainPaging,
    accepted,
    created,
    no_content,
    ok,
    ok_or_created,
)
from mindkeeper.http.honcho_v3.errors import V3Route
from mindkeeper.http.honcho_v3.schemas import (
    ListBody,
    SessionCreate,
    SessionPeerConfig,
    SessionPeers,
    SessionUpdate,
)

router = APIRouter(
    prefix="/v3/workspaces/{workspace_id}/sessions",
    tags=["sessions"],
    dependencies=[AUTH],
    route_class=V3Route,
    strict_content_type=False,
)


def _settings(peers: SessionPeers) -> dict[str, MemberSettings]:
    return {name: MemberSettings(c.observe_me, c.observe_others) for name, c in peers.items()}


@router.post("/list", response_model=responses.Page[responses.V3Session])
async def list_sessions(
    workspace_id: str, uow: ReadUow, paging: Paging, body: ListBody | None = Body(default=None)
) -> Response:
    """A page of the workspace's active sessions, oldest first."""
    result = await sessions.list(uow, workspace_id, paging, body.filters if body else None)
    return ok(mapping.page(result, lambda s: mapping.session(s, workspace_id)))


@router.post(
    "", response_model=responses.V3Session, responses=responses.created(responses.V3Session)
)
async def get_or_create_session(
    workspace_id: NewName, body: SessionCreate, uow: WriteUow
) -> Response:
    """Get or create a session with its peers (201 when created)."""
    configuration = None if body.configuration is None else body.configuration.stored()
    session, was_created = await sessions.get_or_create(
        uow,
        workspace_id,
        body.id,
        body.metadata,
        configuration,
        None if body.peers is None else _settings(body.peers),
        scope_names=body.scopes or (),
    )
    return ok_or_created(mapping.session(session, workspace_id), was_created)


@router.put("/{session_id}", response_model=responses.V3Session)
async def update_session(
    workspace_id: NewName, session_id: NewName, body: SessionUpdate, uow: WriteUow
) -> Response:
    """Replace metadata and merge configuration (creates the session when missing)."""
    configuration = None if body.configuration is None else body.configuration.stored()
    session = await sessions.update(uow, workspace_id, session_id, body.metadata, configuration)
    return ok(mapping.session(session, workspace_id))


@router.delete("/{session_id}", status_code=202, response_model=responses.Deleted)
async def delete_session(workspace_id: str, session_id: str, uow: WriteUow) -> Response:
    """Deactivate the session now and remove it in the background (202)."""
    await sessions.delete(uow, workspace_id, session_id)
    return accepted("Session deleted successfully")


@router.post("/{session_id}/clone", status_code=201, response_model=responses.V3Session)
async def clone_session(
    workspace_id: str, session_id: str, uow: WriteUow, message_id: str | None = None
) -> Response:
    """Copy the session (messages up to `message_id` when given) under a fresh name."""
    session = await sessions.clone(uow, workspace_id, session_id, message_id)
    return created(mapping.session(session, workspace_id))


@router.post("/{session_id}/peers", response_model=responses.V3Session)
async def add_peers(
    workspace_id: NewName,
    session_id: NewName,
    body: Annotated[SessionPeers, Body()],
    uow: WriteUow,
) -> Response:
    """Add peers (creating them, and the session when missing); active members keep their
    settings."""
    session, _ = await sessions.get_or_create(
        uow, workspace_id, session_id, None, None, _settings(body)
    )
    return ok(mapping.session(session, workspace_id))


@router.put("/{session_id}/peers", response_model=responses.V3Session)
async def set_peers(
    workspace_id: str,
    session_id: str,
    body: Annotated[SessionPeers, Body()],
    uow: WriteUow,
) -> Response:
    """Make exactly these peers the session's active members, with these settings."""
    session = await members.replace(uow, workspace_id, session_id, _settings(body))
    return ok(mapping.session(session, workspace_id))


@router.delete("/{session_id}/peers", response_model=responses.V3Session)
async def remove_peers(
    workspace_id: str,
    session_id: str,
    body: Annotated[list[str], Body()],
    uow: WriteUow,
) -> Response:
    """Mark peers as having left the session."""
    session = await members.remove(uow, workspace_id, session_id, body)
    return ok(mapping.session(session, workspace_id))


@router.get("/{session_id}/peers", response_model=responses.Page[responses.Peer])
async def list_session_peers(
    workspace_id: str, session_id: str, uow: ReadUow, paging: PlainPaging
) -> Response:
    """A page of the session's active members."""
    result = await members.list(uow, workspace_id, session_id, paging)
    return ok(mapping.page(result, lambda p: mapping.peer(p, workspace_id)))


@router.get("/{session_id}/peers/{peer_id}/config", response_model=responses.SessionPeerConfig)
async def get_peer_config(
    workspace_id: str, session_id: str, peer_id: str, uow: ReadUow
) -> Response:
    """A member's observation settings in the session (also after it left)."""
    member = await members.get_settings(uow, workspace_id, session_id, peer_id)
    return ok(mapping.peer_config(member))


@router.put("/{session_id}/peers/{peer_id}/config", status_code=204)
async def set_peer_config(
    workspace_id: str,
    session_id: str,
    peer_id: str,
    body: SessionPeerConfig,
    uow: WriteUow,
) -> Response:
    """Change a member's settings (the given fields only); a non-member joins (204)."""
    settings = MemberSettings(body.observe_me, body.observe_others)
    await members.configure(uow, workspace_id, session_id, peer_id, settings)
    return no_content()
