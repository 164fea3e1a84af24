"""`create_app`: the ASGI application with every wire surface on one port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from mindkeeper import __version__
from mindkeeper.config import Settings
from mindkeeper.core.ports import Runtime
from mindkeeper.http import console, health, queue_status
from mindkeeper.http.agentcore import AgentCoreSurface
from mindkeeper.http.bedrock import BedrockSurface
from mindkeeper.http.bedrock import too_large as bedrock_too_large
from mindkeeper.http.bedrock.sigv4 import SigV4Guard
from mindkeeper.http.honcho_v1 import errors as honcho_errors
from mindkeeper.http.honcho_v1 import router as honcho_router
from mindkeeper.http.honcho_v1.auth import HonchoGuard
from mindkeeper.http.honcho_v3 import router as honcho_v3_router
from mindkeeper.http.honcho_v3.auth import V3Guard
from mindkeeper.http.limits import BodySizeLimit, TooLargeResponder
from mindkeeper.http.metrics import route as metrics_route
from mindkeeper.http.metrics.middleware import Observed
from mindkeeper.http.ratelimit import TokenBuckets

#: Response headers a browser page may read: AWS error type and request id, SDK retry hints.
EXPOSED_HEADERS = ["x-amzn-RequestId", "x-amzn-ErrorType", "x-should-retry", "Retry-After"]

#: Path prefixes of the Honcho surfaces. The AWS surfaces own none of them (Bedrock
#: /sessions and /tags, AgentCore /memories and /tags), so their layers only pass these on.
HONCHO_PREFIXES = ("/v1/", "/v3/")


class HonchoFirst:
    """Sends Honcho requests to `honcho` (the body limit over the app) and every other
    request or event to `app` (the AWS surfaces' layers over the same app), so that a
    Honcho request does not walk layers that would only hand it on."""

    def __init__(self, honcho: Any, app: Any) -> None:
        self.honcho = honcho
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(HONCHO_PREFIXES):
            await self.honcho(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def create_app(settings: Settings, runtime: Runtime) -> Any:
    """Build the application over a runtime (database, embedder, clock) made by bootstrap."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        background: list[asyncio.Task[None]] = []
        runtime.tokens.warm()
        if settings.worker_enabled:
            from mindkeeper.worker.maintenance import maintenance_loop
            from mindkeeper.worker.runner import run_worker

            interval = settings.bedrock_maintenance_interval_seconds
            background.append(asyncio.create_task(maintenance_loop(runtime, interval, stop)))
            background.append(asyncio.create_task(run_worker(runtime, stop)))
        try:
            yield
        finally:
            stop.set()
            for task in background:
                await task
            await runtime.close()

    app = FastAPI(
        title="Mindkeeper",
        version=__version__,
        description=(
            "Session and memory server for AI agents: Honcho v1 and v3, Bedrock sessions and "
            "Bedrock AgentCore Memory."
        ),
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.settings = settings
    limiter = TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst)
    app.state.honcho_guard = HonchoGuard(runtime, settings, limiter)
    # One bucket per key across both Honcho surfaces.
    app.state.honcho_v3_guard = V3Guard(runtime, settings, limiter)
    honcho_errors.install(app)
    # The hot API routes first: a request walks the route list until its path matches.
    app.router.routes.extend(honcho_router.routes())
    app.router.routes.extend(honcho_v3_router.routes())
    app.router.routes.extend(health.router.routes)
    app.router.routes.extend(queue_status.router.routes)
    if settings.metrics_enabled:
        app.router.routes.extend(metrics_route.router.routes)
    app.router.routes.extend(console.routes())
    responders: list[tuple[str, TooLargeResponder]] = [
        ("/sessions", bedrock_too_large),
        ("/tags", bedrock_too_large),
    ]
    bedrock_limiter = TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst)
    asgi: Any = SigV4Guard(
        BedrockSurface(cast(Any, app), runtime, settings), runtime, settings, bedrock_limiter
    )
    limited: Any = BodySizeLimit(asgi, settings.max_body_bytes, responders)
    # AgentCore enforces its own (larger) body limit, so it sits outside the general one.
    limited = AgentCoreSurface(limited, runtime, settings)
    honcho = BodySizeLimit(cast(Any, app), settings.max_body_bytes, responders)
    limited = HonchoFirst(honcho, limited)
    # Request ids and metrics around every surface (inside CORS: preflights are not counted).
    limited = Observed(limited, runtime, settings.metrics_enabled)
    if not settings.cors_origins:
        return limited
    # Outermost, so that preflights and the headers of every response (Bedrock's, the 413s and
    # the SigV4 refusals included) are handled before any surface sees the request.
    return CORSMiddleware(
        limited,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
