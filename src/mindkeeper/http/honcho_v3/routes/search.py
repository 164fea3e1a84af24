"""Message search: /v3/workspaces/{workspace_id}/search, .../peers/{peer_id}/search and
.../sessions/{session_id}/search (hybrid: meaning and text; `scope` keeps the messages of the
named scopes' sessions)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from mindkeeper.core.services.memory import search
from mindkeeper.http.deps import RuntimeDep
from mindkeeper.http.honcho_v3 import mapping, responses
from mindkeeper.http.honcho_v3.auth import AUTH
from mindkeeper.http.honcho_v3.common import ok
from mindkeeper.http.honcho_v3.errors import V3Route
from mindkeeper.http.honcho_v3.schemas import MessageSearch

router = APIRouter(
    prefix="/v3/workspaces/{workspace_id}",
    tags=["search"],
    dependencies=[AUTH],
    route_class=V3Route,
    strict_content_type=False,
)


@router.post("/search", response_model=list[responses.V3Message])
async def search_workspace(workspace_id: str, body: MessageSearch, runtime: RuntimeDep) -> Response:
    """Messages of the workspace matching the query (a bare array, best first)."""
    found = await search.search(
        runtime, workspace_id, body.query, body.filters, body.limit, scope=body.scope
    )
    return ok([mapping.named_message(m, workspace_id) for m in found])


@router.post("/peers/{peer_id}/search", response_model=list[responses.V3Message])
async def search_peer(
    workspace_id: str, peer_id: str, body: MessageSearch, runtime: RuntimeDep
) -> Response:
    """Messages sent by the peer matching the query."""
    found = await search.search(
        runtime, workspace_id, body.query, body.filters, body.limit, peer=peer_id, scope=body.scope
    )
    return ok([mapping.named_message(m, workspace_id) for m in found])


@router.post("/sessions/{session_id}/search", response_model=list[responses.V3Message])
async def search_session(
    workspace_id: str, session_id: str, body: MessageSearch, runtime: RuntimeDep
) -> Response:
    """Messages of the session matching the query."""
    found = await search.search(
        runtime,
        workspace_id,
        body.query,
        body.filters,
        body.limit,
        session=session_id,
        scope=body.scope,
    )
    return ok([mapping.named_message(m, workspace_id) for m in found])
