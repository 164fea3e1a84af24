"""Collects the /v3 routes. Literal segments are registered before parameters."""

from __future__ import annotations

from starlette.routing import BaseRoute

from mindkeeper.http.honcho_v3.routes import (
    background,
    conclusions,
    dialectic,
    keys,
    messages,
    peer_memory,
    peers,
    scopes,
    search,
    session_memory,
    sessions,
    webhooks,
    workspaces,
)


def routes() -> list[BaseRoute]:
    """Return every /v3 route in matching order."""
    modules = (
        messages,
        sessions,
        peers,
        workspaces,
        keys,
        conclusions,
        search,
        peer_memory,
        session_memory,
        webhooks,
        dialectic,
        background,
        scopes,
    )
    return [route for module in modules for route in module.router.routes]
