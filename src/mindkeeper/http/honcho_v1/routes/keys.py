"""Keys: POST /v1/keys mints scoped keys (admin only; 405 when authentication is off)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from starlette.responses import Response

from mindkeeper.core.services import keys
from mindkeeper.http.deps import ReadUow, RuntimeDep
from mindkeeper.http.honcho_v1.auth import AUTH
from mindkeeper.http.honcho_v1.responses import Key
from mindkeeper.http.honcho_v1.routes.common import ok
from mindkeeper.http.responses import JSONBytes

router = APIRouter(prefix="/v1", tags=["keys"], strict_content_type=False, dependencies=[AUTH])


@router.post("/keys", response_model=Key)
async def create_key(
    runtime: RuntimeDep,
    uow: ReadUow,
    app_id: str | None = Query(default=None),
    user_id: str | None = Query(default=None),
    session_id: str | None = Query(default=None),
    collection_id: str | None = Query(default=None),
    expires_at: datetime | None = Query(default=None),
) -> Response:
    """Mint a key for an app, user, session and/or collection (the parent chain is resolved)."""
    security = runtime.security
    if not security.enabled or security.codec is None:
        return JSONBytes({"detail": "Feature is disabled"}, status_code=405)
    minted = await keys.mint(
        uow,
        security.codec,
        runtime.now(),
        workspace_id=app_id or None,
        peer_id=user_id or None,
        session_id=session_id or None,
        collection_id=collection_id or None,
        expires_at=expires_at,
    )
    return ok({"key": minted.token})
