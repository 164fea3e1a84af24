"""A session's derived memory: /v3/workspaces/{workspace_id}/sessions/{session_id}/context
and /summaries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from mindkeeper.core.services.memory import context, summaries
from mindkeeper.core.services.memory.representation import Options
from mindkeeper.http.deps import ReadUow, RuntimeDep, TokensDep
from mindkeeper.http.honcho_v3 import mapping, responses
from mindkeeper.http.honcho_v3.auth import AUTH
from mindkeeper.http.honcho_v3.common import ok
from mindkeeper.http.honcho_v3.errors import V3Route
from mindkeeper.http.honcho_v3.schemas import LIMIT_MAX

router = APIRouter(
    prefix="/v3/workspaces/{workspace_id}/sessions/{session_id}",
    tags=["sessions"],
    dependencies=[AUTH],
    route_class=V3Route,
    strict_content_type=False,
)

TopK = Annotated[int | None, Query(ge=1, le=LIMIT_MAX)]
#: Repeated query parameters: scope names and a session allowlist.
Names = Annotated[list[str] | None, Query()]
MaxDistance = Annotated[float | None, Query(ge=0.0, le=1.0)]
Tokens = Annotated[int | None, Query(le=context.MAX_TOKENS)]


@router.get("/context", response_model=responses.SessionContext)
async def get_session_context(
    workspace_id: str,
    session_id: str,
    runtime: RuntimeDep,
    tokens: Tokens = None,
    summary: bool = True,
    peer_target: str | None = None,
    peer_perspective: str | None = None,
    search_query: str | None = None,
    limit_to_session: bool = False,
    search_top_k: TopK = None,
    search_max_distance: MaxDistance = None,
    include_most_frequent: bool = False,
    max_conclusions: TopK = None,
    scope: Names = None,
    sessions: Names = None,
) -> Response:
    """Recent messages within the token budget, the summary before them and, with a
    `peer_target`, a peer's representation and card (`scope` and `sessions` keep its
    conclusions of those sessions; 404 for an unknown scope)."""
    request = context.SessionContextRequest(
        tokens=context.MAX_TOKENS if tokens is None else tokens,
        summary=summary,
        peer_target=peer_target,
        peer_perspective=peer_perspective,
        limit_to_session=limit_to_session,
        options=Options(
            max_conclusions=max_conclusions or 100,
            search_query=search_query,
            search_top_k=search_top_k,
            search_max_distance=search_max_distance,
            include_most_frequent=include_most_frequent,
        ),
        scope=scope,
        sessions=sessions,
    )
    found = await context.session_context(runtime, workspace_id, session_id, request)
    return ok(
        {
            "id": session_id,
            "messages": [mapping.named_message(m, workspace_id) for m in found.messages],
            "summary": mapping.summary(found.summary),
            "peer_representation": found.representation,
            "peer_card": found.card,
        }
    )


@router.get("/summaries", response_model=responses.SessionSummaries)
async def get_summaries(
    workspace_id: str, session_id: str, uow: ReadUow, tokens: TokensDep
) -> Response:
    """The session's newest short and long summaries (null until written)."""
    short, long = await summaries.for_session(uow, workspace_id, session_id, tokens.count)
    return ok(
        {
            "id": session_id,
            "short_summary": mapping.summary(short),
            "long_summary": mapping.summary(long),
        }
    )
