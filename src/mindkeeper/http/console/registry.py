"""The console's sections: each surface registers its pages here with one `Section`.

A section is a title in the navigation, the path it starts at, whether only admins see it,
and a function returning its routes. The memory model (workspaces, peers, sessions,
messages, collections), Bedrock sessions, the queue, keys and credentials, and the
configuration are sections; a surface added later adds its own the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Section:
    """One entry of the console's navigation and the routes behind it."""

    key: str
    title: str
    path: str
    admin_only: bool
    routes: Callable[[], list[Any]]


SECTIONS: list[Section] = []


def register(section: Section) -> None:
    """Add a section (once per key)."""
    if all(s.key != section.key for s in SECTIONS):
        SECTIONS.append(section)
