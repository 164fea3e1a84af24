"""Peers: /v3/workspaces/{workspace_id}/peers (get or create, list, update, their sessions)."""

from __future__ import annotations

from fastapi import APIRouter, Body
from starlette.responses import Response

from mindkeeper.core.services.conversations import peers
from mindkeeper.http.deps import ReadUow, WriteUow
from mindkeeper.http.honcho_v3 import mapping, responses
from mindkeeper.http.honcho_v3.auth import AUTH
from mindkeeper.http.honcho_v3.common import NewName, Paging, ok, ok_or_created
from mindkeeper.http.honcho_v3.errors import V3Route
from mindkeeper.http.honcho_v3.schemas import ListBody, PeerCreate, PeerUpdate

router = APIRouter(
    prefix="/v3/workspaces/{workspace_id}/peers",
    tags=["peers"],
    dependencies=[AUTH],
    route_class=V3Route,
    strict_content_type=False,
)


@router.post("/list", response_model=responses.Page[responses.Peer])
async def list_peers(
    workspace_id: str, uow: ReadUow, paging: Paging, body: ListBody | None = Body(default=None)
) -> Response:
    """A page of the workspace's peers, oldest first (empty for an unknown workspace)."""
    result = await peers.list(uow, workspace_id, paging, body.filters if body else None)
    return ok(mapping.page(result, lambda p: mapping.peer(p, workspace_id)))


@router.post("", response_model=responses.Peer, responses=responses.created(responses.Peer))
async def get_or_create_peer(workspace_id: NewName, body: PeerCreate, uow: WriteUow) -> Response:
    """Get or create a peer (and its workspace); given metadata and configuration replace an
    existing peer's (201 when created)."""
    peer, created = await peers.get_or_create(
        uow, workspace_id, body.id, body.metadata, body.configuration
    )
    return ok_or_created(mapping.peer(peer, workspace_id), created)


@router.put("/{peer_id}", response_model=responses.Peer)
async def update_peer(
    workspace_id: NewName, peer_id: NewName, body: PeerUpdate, uow: WriteUow
) -> Response:
    """Replace metadata and configuration (creates the peer and workspace when missing)."""
    peer = await peers.update(uow, workspace_id, peer_id, body.metadata, body.configuration)
    return ok(mapping.peer(peer, workspace_id))


@router.post("/{peer_id}/sessions", response_model=responses.Page[responses.V3Session])
async def list_peer_sessions(
    workspace_id: str,
    peer_id: str,
    uow: ReadUow,
    paging: Paging,
    body: ListBody | None = Body(default=None),
) -> Response:
    """A page of the sessions the peer ever joined, inactive ones included."""
    result = await peers.sessions(
        uow, workspace_id, peer_id, paging, body.filters if body else None
    )
    return ok(mapping.page(result, lambda s: mapping.session(s, workspace_id)))
