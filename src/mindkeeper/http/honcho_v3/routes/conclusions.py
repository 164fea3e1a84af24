"""Conclusions: /v3/workspaces/{workspace_id}/conclusions (create a batch, list, query by
meaning, read one, delete)."""

from __future__ import annotations

from fastapi import APIRouter, Body
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from mindkeeper.core.services.memory import conclusions
from mindkeeper.core.services.memory.conclusions import ConclusionInput
from mindkeeper.http.deps import EmbedderDep, ReadUow, RuntimeDep, TokensDep, WriteUow
from mindkeeper.http.honcho_v3 import mapping, responses
from mindkeeper.http.honcho_v3.auth import AUTH
from mindkeeper.http.honcho_v3.common import Paging, created, no_content, ok
from mindkeeper.http.honcho_v3.errors import V3Route
from mindkeeper.http.honcho_v3.schemas import ConclusionBatch, ConclusionQuery, ListBody

router = APIRouter(
    prefix="/v3/workspaces/{workspace_id}/conclusions",
    tags=["conclusions"],
    dependencies=[AUTH],
    route_class=V3Route,
    strict_content_type=False,
)


def _check_tokens(body: ConclusionBatch, tokens: TokensDep) -> None:
    """422 (a validation error, as upstream) for content over the embedding token cap."""
    contents = [c.content for c in body.conclusions]
    over = conclusions.over_token_cap(contents, tokens.count)
    if over:
        cap = conclusions.MAX_TOKENS
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("body", "conclusions", index, "content"),
                    "msg": f"Value error, Content exceeds maximum embedding token limit of "
                    f"{cap} (got {count} tokens)",
                    "input": contents[index],
                    "ctx": {"error": {}},
                }
                for index, count in over
            ]
        )


@router.post("", status_code=201, response_model=list[responses.Conclusion])
async def create_conclusions(
    workspace_id: str, body: ConclusionBatch, runtime: RuntimeDep, tokens: TokensDep
) -> Response:
    """Store 1-100 explicit conclusions between existing peers (201, in request order)."""
    _check_tokens(body, tokens)
    items = [
        ConclusionInput(c.content, c.observer_id, c.observed_id, c.session_id)
        for c in body.conclusions
    ]
    stored = await conclusions.create(runtime, workspace_id, items)
    return created([mapping.conclusion(c) for c in stored])


@router.post("/list", response_model=responses.Page[responses.Conclusion])
async def list_conclusions(
    workspace_id: str, uow: ReadUow, paging: Paging, body: ListBody | None = Body(default=None)
) -> Response:
    """A page of the workspace's conclusions, newest first."""
    filters = None if body is None else body.filters
    result = await conclusions.list(uow, workspace_id, filters, paging)
    return ok(mapping.page(result, mapping.conclusion))


@router.post("/query", response_model=list[responses.Conclusion])
async def query_conclusions(
    workspace_id: str,
    body: ConclusionQuery,
    uow: ReadUow,
    embedder: EmbedderDep,
    tokens: TokensDep,
) -> Response:
    """The conclusions of one observer/observed pair closest in meaning to the query."""
    found = await conclusions.query(
        uow,
        embedder,
        tokens.count,
        workspace_id,
        body.query,
        body.top_k,
        body.distance,
        body.filters,
    )
    return ok([mapping.conclusion(c) for c in found])


@router.get("/{conclusion_id}", response_model=responses.Conclusion)
async def get_conclusion(workspace_id: str, conclusion_id: str, uow: ReadUow) -> Response:
    """One conclusion (the current SDK's `conclusions.get`)."""
    return ok(mapping.conclusion(await conclusions.get(uow, workspace_id, conclusion_id)))


@router.delete("/{conclusion_id}", status_code=204)
async def delete_conclusion(workspace_id: str, conclusion_id: str, uow: WriteUow) -> Response:
    """Soft-delete a conclusion (204)."""
    await conclusions.delete(uow, workspace_id, conclusion_id)
    return no_content()
