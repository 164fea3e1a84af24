"""A peer's derived memory: /v3/workspaces/{workspace_id}/peers/{peer_id}/card (read,
replace), /representation and /context."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from mindkeeper.core.services.memory import cards, context
from mindkeeper.core.services.memory.representation import Options
from mindkeeper.http.deps import ReadUow, RuntimeDep, WriteUow
from mindkeeper.http.honcho_v3 import responses
from mindkeeper.http.honcho_v3.auth import AUTH
from mindkeeper.http.honcho_v3.common import NewName, ok
from mindkeeper.http.honcho_v3.errors import V3Route
from mindkeeper.http.honcho_v3.schemas import (
    LIMIT_MAX,
    NAME_MAX,
    NAME_PATTERN,
    PeerCardSet,
    RepresentationRequest,
)

router = APIRouter(
    prefix="/v3/workspaces/{workspace_id}/peers/{peer_id}",
    tags=["peers"],
    dependencies=[AUTH],
    route_class=V3Route,
    strict_content_type=False,
)

#: The target of a card write, created when missing, so checked like a name in a body.
NewTarget = Annotated[str | None, Query(min_length=1, max_length=NAME_MAX, pattern=NAME_PATTERN)]
TopK = Annotated[int | None, Query(ge=1, le=LIMIT_MAX)]
MaxDistance = Annotated[float | None, Query(ge=0.0, le=1.0)]


@router.get("/card", response_model=responses.PeerCardResponse)
async def get_card(
    workspace_id: str, peer_id: str, uow: ReadUow, target: str | None = None
) -> Response:
    """The peer's card about `target` (itself by default); null until one is written."""
    return ok({"peer_card": await cards.get(uow, workspace_id, peer_id, target)})


@router.put("/card", response_model=responses.PeerCardResponse)
async def set_card(
    workspace_id: NewName,
    peer_id: NewName,
    body: PeerCardSet,
    uow: WriteUow,
    target: NewTarget = None,
) -> Response:
    """Replace the peer's card about `target` (creates the workspace and both peers)."""
    card = await cards.set(uow, workspace_id, peer_id, target, body.peer_card)
    return ok({"peer_card": card})


@router.post("/representation", response_model=responses.RepresentationResponse)
async def get_representation(
    workspace_id: str, peer_id: str, body: RepresentationRequest, runtime: RuntimeDep
) -> Response:
    """The peer's representation of `target` (itself by default), as markdown; `scope`
    keeps conclusions of the named scopes' sessions (404 for an unknown scope)."""
    options = Options(
        max_conclusions=body.max_conclusions or 25,
        search_query=body.search_query,
        search_top_k=body.search_top_k,
        search_max_distance=body.search_max_distance,
        include_most_frequent=bool(body.include_most_frequent),
    )
    text = await context.peer_representation(
        runtime,
        workspace_id,
        peer_id,
        body.target,
        body.session_id,
        body.filters,
        options,
        scope=body.scope,
    )
    return ok({"representation": text})


@router.get("/context", response_model=responses.PeerContext)
async def get_peer_context(
    workspace_id: str,
    peer_id: str,
    runtime: RuntimeDep,
    target: str | None = None,
    search_query: str | None = None,
    search_top_k: TopK = None,
    search_max_distance: MaxDistance = None,
    include_most_frequent: bool = True,
    max_conclusions: TopK = None,
) -> Response:
    """The peer's representation of and card about `target` (itself by default)."""
    options = Options(
        max_conclusions=max_conclusions or 100,
        search_query=search_query,
        search_top_k=search_top_k,
        search_max_distance=search_max_distance,
        include_most_frequent=include_most_frequent,
    )
    found = await context.peer_context(runtime, workspace_id, peer_id, target, options)
    body: dict[str, Any] = {
        "peer_id": found.peer,
        "target_id": found.target,
        "representation": found.representation,
        "peer_card": found.card,
    }
    return ok(body)
