"""Bearer keys on the v3 surface. With authentication off every request is admin."""

from __future__ import annotations

from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from mindkeeper.config import Settings

NO_TOKEN = "No access token provided"


async def guard(request: Request) -> None:
    """Refuse every request while authentication is on (scoped keys are not checked yet)."""
    settings: Settings = request.app.state.settings
    if settings.auth_enabled:
        raise HTTPException(status_code=401, detail=NO_TOKEN)


AUTH = Depends(guard)
