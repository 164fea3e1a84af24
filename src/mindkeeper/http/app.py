"""`create_app`: the ASGI application with every wire surface on one port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from mindkeeper import __version__
from mindkeeper.config import Settings
from mindkeeper.core.ports import Runtime
from mindkeeper.http import health
from mindkeeper.http.honcho_v1 import errors as honcho_errors
from mindkeeper.http.honcho_v1 import router as honcho_router
from mindkeeper.http.limits import BodySizeLimit, TooLargeResponder


def create_app(settings: Settings, runtime: Runtime) -> Any:
    """Build the application over a runtime (database, embedder, clock) made by bootstrap."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await runtime.close()

    app = FastAPI(
        title="Mindkeeper",
        version=__version__,
        description="Session and memory server for AI agents: Honcho v1 and Bedrock sessions.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.settings = settings
    honcho_errors.install(app)
    app.router.routes.extend(health.router.routes)
    app.router.routes.extend(honcho_router.routes())
    responders: list[tuple[str, TooLargeResponder]] = []
    asgi: Any = app
    return BodySizeLimit(asgi, settings.max_body_bytes, responders)
