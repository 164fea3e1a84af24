"""The web console at /console: server-rendered pages over the core services.

Jinja2 templates (autoescaped) and a vendored htmx (`static/htmx.min.js`, licence beside
it); no build step. `security` signs people in and asks the surfaces' own guards what a key
may see; `registry` holds the sections; `memory`, `agents` and `admin` are the sections of
today. A surface added later writes a module with its `SECTIONS` and lists it in `MODULES`.
See docs/console.md.
"""

from __future__ import annotations

from typing import Any

from mindkeeper.http.console import admin, agents, memory, signin
from mindkeeper.http.console.registry import SECTIONS, register

#: Modules whose `SECTIONS` make the console, in navigation order.
MODULES: tuple[Any, ...] = (memory, agents, admin)


def routes() -> list[Any]:
    """Every console route: sign-in and static files, then each section's."""
    for module in MODULES:
        for section in module.SECTIONS:
            register(section)
    found = signin.routes()
    for section in SECTIONS:
        found.extend(section.routes())
    return found
