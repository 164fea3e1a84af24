"""Keys: POST /v1/keys (scoped keys need authentication to be on)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from mindkeeper.http.responses import JSONBytes

router = APIRouter(
    prefix="/v1", tags=["keys"], strict_content_type=False
)


@router.post("/keys")
async def create_key() -> Response:
    """With authentication off there are no keys to mint, as upstream."""
    return JSONBytes({"detail": "Feature is disabled"}, status_code=405)
