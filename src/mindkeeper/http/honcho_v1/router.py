"""Collects the /v1 routes. Literal segments are registered before parameters.

Routes are handed to the application flat (not as nested routers): matching a request then
walks one list instead of descending through included routers.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from mindkeeper.http.honcho_v1.routes import (
    apps,
    chat,
    collections,
    documents,
    keys,
    messages,
    metamessages,
    sessions,
    users,
)


def routes() -> list[BaseRoute]:
    """Return every /v1 route in matching order."""
    modules = (
        messages,
        chat,
        sessions,
        apps,
        users,
        metamessages,
        collections,
        documents,
        keys,
    )
    return [route for module in modules for route in module.router.routes]
