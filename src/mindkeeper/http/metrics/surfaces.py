"""Which surface a request belongs to, and its route template (the label of its metrics).

A surface is registered by its path prefixes. Routes served by FastAPI name their template
themselves (`scope["route"].path`); surfaces that route raw paths list the literal words of
their paths, and every other segment becomes `{id}`, so no client-chosen value ever becomes a
label. A surface added later adds one `Surface` to `SURFACES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

UNMATCHED = "unmatched"
OTHER = "other"


@dataclass(frozen=True, slots=True)
class Surface:
    """A wire surface: its metric name, path prefixes and (for raw routers) literal words."""

    name: str
    prefixes: tuple[str, ...]
    literals: frozenset[str] = frozenset()

    def owns(self, path: str) -> bool:
        """True when the path is under one of the prefixes."""
        return any(path == p or path.startswith(p + "/") for p in self.prefixes)

    def template(self, path: str) -> str:
        """The route template of a raw path: literal words kept, other segments `{id}`."""
        if not self.literals:
            return UNMATCHED
        parts = path.rstrip("/").split("/")[1:]  # both slash variants are one route
        return "/" + "/".join(p if p in self.literals else "{id}" for p in parts)


SURFACES: tuple[Surface, ...] = (
    Surface("honcho_v1", ("/v1",)),
    Surface("honcho_v3", ("/v3",)),
    Surface(
        "bedrock",
        ("/sessions", "/tags"),
        frozenset({"sessions", "invocations", "invocationSteps", "tags"}),
    ),
    Surface(
        "agentcore",
        ("/memories",),
        frozenset(
            {
                "memories",
                "create",
                "list",
                "actor",
                "actors",
                "sessions",
                "events",
                "memoryRecords",
                "memoryrecords",
                "retrieve",
                "delete",
                "batchCreate",
                "batchUpdate",
                "batchDelete",
                "extractionJobs",
            }
        ),
    ),
    Surface("console", ("/console",)),
    Surface("operations", ("/metrics", "/healthz", "/readyz", "/queue", "/openapi.json", "/docs")),
)


def classify(scope: dict[str, Any]) -> tuple[str, str]:
    """(surface, route template) of a served request."""
    path = str(scope.get("path", ""))
    route = scope.get("route")
    template = getattr(route, "path", None)
    for surface in SURFACES:
        if surface.owns(path):
            if isinstance(template, str):
                return surface.name, template
            raw = scope.get("raw_path")
            # The raw path keeps an encoded ARN as one segment.
            text = bytes(raw).decode("latin-1").split("?", 1)[0] if raw else path
            return surface.name, surface.template(text)
    if isinstance(template, str):
        return OTHER, template
    return OTHER, UNMATCHED
