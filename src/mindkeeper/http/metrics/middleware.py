"""`Observed`: the outermost ASGI layer (inside CORS) that gives every request an id and,
when metrics are on, counts and times it.

The id is the request's `X-Request-Id` when that is a short token (letters, digits, `-`,
`_`, `.`, up to 128 characters), else a fresh one; it is set for the logs while the request
is served and returned in the `X-Request-Id` response header. The lifespan starts this
process's pool sampler and, at shutdown, retires the process's live gauges.
"""

from __future__ import annotations

import asyncio
import re
import time
from random import getrandbits
from typing import Any

from mindkeeper.core.ports import Runtime
from mindkeeper.http.metrics import collect
from mindkeeper.http.metrics.surfaces import classify
from mindkeeper.logs import REQUEST_ID

HEADER = b"x-request-id"
_TOKEN = re.compile(rb"^[A-Za-z0-9._-]{1,128}$")


def _incoming(scope: dict[str, Any]) -> bytes | None:
    for name, value in scope.get("headers") or ():
        if name == HEADER:
            return value if _TOKEN.match(value) else None
    return None


class Observed:
    """Request ids and request metrics around an ASGI app."""

    def __init__(self, app: Any, runtime: Runtime, metrics_enabled: bool) -> None:
        self.app = app
        self.runtime = runtime
        self.metrics = collect.metrics() if metrics_enabled else None
        if metrics_enabled:
            collect.instrument(runtime)
        self._stop = asyncio.Event()
        self._sampler: asyncio.Task[None] | None = None
        self._routes: dict[int, tuple[str, str]] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self.app(scope, self._lifespan(receive), send)
            return
        if kind != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming(scope)
        if rid is None:
            # 64 random bits as 16 hex digits: an id, not a secret, so no system call.
            text = f"{getrandbits(64):016x}"
            rid = text.encode()
        else:
            text = rid.decode()
        token = REQUEST_ID.set(text)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (HEADER, rid)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.metrics is not None:
                surface, route = self._classify(scope)
                self.metrics.observe_request(
                    surface, scope["method"], route, status, time.perf_counter() - started
                )
            REQUEST_ID.reset(token)

    def _classify(self, scope: dict[str, Any]) -> tuple[str, str]:
        """Surface and template; routes that name their template are classified once."""
        route = scope.get("route")
        if route is None:
            return classify(scope)
        found = self._routes.get(id(route))
        if found is None:
            found = self._routes[id(route)] = classify(scope)
        return found

    def _lifespan(self, receive: Any) -> Any:
        async def wrapped() -> dict[str, Any]:
            message: dict[str, Any] = await receive()
            if self.metrics is None:
                return message
            if message["type"] == "lifespan.startup" and self._sampler is None:
                self._sampler = asyncio.create_task(
                    collect.sample_forever(self.runtime, self._stop)
                )
            elif message["type"] == "lifespan.shutdown":
                self._stop.set()
                if self._sampler is not None:
                    await self._sampler
                collect.retire_process()
            return message

        return wrapped
