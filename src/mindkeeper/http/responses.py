"""Fast JSON responses (orjson; keys keep insertion order), the timestamps both Honcho surfaces
write, and the response models they document alike (for the OpenAPI document only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import Response


def dumps(content: Any) -> bytes:
    """Serialise with orjson; integers beyond 64 bits fall back to the standard library."""
    try:
        return orjson.dumps(content)
    except TypeError:
        return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()


def timestamp(value: datetime) -> str:
    """Render in UTC as Pydantic v2 does: `Z` suffix, microseconds only when non-zero."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds" if value.microsecond else "seconds") + "Z"


class JSONBytes(Response):
    """A JSON response serialised with orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialise the content."""
        return dumps(content)


class Deleted(BaseModel):
    """Confirmation of a delete (upstream documents no schema)."""

    message: str


class Key(BaseModel):
    """A minted key (upstream documents no schema)."""

    key: str
