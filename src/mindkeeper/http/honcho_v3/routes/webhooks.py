"""Webhooks: /v3/workspaces/{workspace_id}/webhooks (register, list, delete, test event)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from mindkeeper.config import Settings
from mindkeeper.core.services import webhooks
from mindkeeper.http.deps import ReadUow, RuntimeDep, WriteUow
from mindkeeper.http.honcho_v3 import mapping, responses
from mindkeeper.http.honcho_v3.auth import AUTH
from mindkeeper.http.honcho_v3.common import PlainPaging, no_content, ok, ok_or_created
from mindkeeper.http.honcho_v3.errors import V3Route
from mindkeeper.http.honcho_v3.schemas import WebhookEndpointCreate, private_url

router = APIRouter(
    prefix="/v3/workspaces/{workspace_id}/webhooks",
    tags=["webhooks"],
    dependencies=[AUTH],
    route_class=V3Route,
    strict_content_type=False,
)

PRIVATE = "Private/internal IP addresses are not allowed"


def _refuse_private(url: str) -> RequestValidationError:
    """The 422 of a private IP literal, shaped as the body validator's own errors."""
    error = {
        "type": "value_error",
        "loc": ("body", "url"),
        "msg": f"Value error, {PRIVATE}",
        "input": url,
        "ctx": {"error": ValueError(PRIVATE)},
    }
    return RequestValidationError([error])


@router.post(
    "",
    response_model=responses.WebhookEndpoint,
    responses=responses.created(responses.WebhookEndpoint),
)
async def get_or_create_webhook_endpoint(
    workspace_id: str,
    body: WebhookEndpointCreate,
    request: Request,
    uow: WriteUow,
    runtime: RuntimeDep,
) -> Response:
    """Register a URL for the workspace's events (201), or return it when registered (200)."""
    settings: Settings = request.app.state.settings
    if not settings.webhook_allow_private and private_url(body.url):
        raise _refuse_private(body.url)
    endpoint, created = await webhooks.get_or_create(uow, runtime.webhooks, workspace_id, body.url)
    return ok_or_created(mapping.webhook_endpoint(endpoint, workspace_id), created)


@router.get("", response_model=responses.Page[responses.WebhookEndpoint])
async def list_webhook_endpoints(workspace_id: str, uow: ReadUow, paging: PlainPaging) -> Response:
    """A page of the workspace's endpoints, oldest first (empty for an unknown workspace)."""
    result = await webhooks.list(uow, workspace_id, paging)
    return ok(mapping.page(result, lambda e: mapping.webhook_endpoint(e, workspace_id)))


@router.get("/test", response_model=None, responses=responses.NULL_RESPONSE)
async def test_emit(workspace_id: str, uow: WriteUow) -> Response:
    """Queue a `test.event` to every endpoint of the workspace; the body is `null`."""
    await webhooks.publish_test(uow, workspace_id)
    return ok(None)


@router.delete("/{endpoint_id}", status_code=204, response_class=Response)
async def delete_webhook_endpoint(workspace_id: str, endpoint_id: str, uow: WriteUow) -> Response:
    """Remove an endpoint (204); its pending deliveries end without a request."""
    await webhooks.delete(uow, workspace_id, endpoint_id)
    return no_content()
