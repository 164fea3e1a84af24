"""Keys: POST /v3/keys mints keys scoped by name (admin only; 405 when authentication is off)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from starlette.responses import Response

from mindkeeper.core.services import keys
from mindkeeper.http.deps import RuntimeDep
from mindkeeper.http.honcho_v3 import responses
from mindkeeper.http.honcho_v3.auth import AUTH
from mindkeeper.http.honcho_v3.common import ok
from mindkeeper.http.honcho_v3.errors import V3Route
from mindkeeper.http.responses import JSONBytes

router = APIRouter(
    prefix="/v3",
    tags=["keys"],
    dependencies=[AUTH],
    route_class=V3Route,
    strict_content_type=False,
)


@router.post("/keys", response_model=responses.Key)
async def create_key(
    runtime: RuntimeDep,
    workspace_id: str | None = Query(default=None),
    peer_id: str | None = Query(default=None),
    session_id: str | None = Query(default=None),
    expires_at: datetime | None = Query(default=None),
) -> Response:
    """Mint a key for a workspace, or a peer and/or session of it (names are not looked up);
    with `expires_at` the key works until then."""
    security = runtime.security
    if not security.enabled or security.codec is None:
        return JSONBytes({"detail": "Feature is disabled"}, status_code=405)
    minted = keys.mint_by_name(
        security.codec,
        runtime.now(),
        workspace=workspace_id or None,
        peer=peer_id or None,
        session=session_id or None,
        expires_at=expires_at,
    )
    return ok({"key": minted.token})
