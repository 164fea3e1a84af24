"""Statuses of the v3 surface where they differ from the shared Honcho error map.

Routes of this surface use `V3Route`: a domain error that v3 answers with another status
than v1 is turned into `{"detail": ...}` with v3's status here; every other error goes on to
the application's handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from mindkeeper.core.services.conversations.members import ObserverLimit
from mindkeeper.core.services.memory.dreams import DreamsDisabled
from mindkeeper.errors import MindkeeperError
from mindkeeper.http.responses import JSONBytes

#: Domain errors whose v3 status differs from the shared map.
STATUS: dict[type[MindkeeperError], int] = {ObserverLimit: 400, DreamsDisabled: 400}
_OWN = tuple(STATUS)


class V3Route(APIRoute):
    """A route that answers the errors of `STATUS` with v3's statuses."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler."""
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except _OWN as exc:
                return JSONBytes({"detail": exc.message}, status_code=STATUS[type(exc)])

        return run
