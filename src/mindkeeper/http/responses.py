"""Fast JSON responses (orjson; keys keep insertion order), and the response models that both
Honcho surfaces document alike (for the OpenAPI document only)."""

from __future__ import annotations

import json
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
