"""Fast JSON responses (orjson; keys keep insertion order), the timestamps and page envelopes
both Honcho surfaces write, and the response models they document alike (for the OpenAPI
document only)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel
from starlette.responses import Response

from mindkeeper.core.values import Page

T = TypeVar("T")


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


def page(result: Page[T], item: Callable[[T], Any]) -> dict[str, Any]:
    """A Page envelope, each item mapped by `item`."""
    return {
        "items": [item(x) for x in result.items],
        "total": result.total,
        "page": result.page,
        "size": result.size,
        "pages": result.pages,
    }


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
