"""Response models of the Honcho v3 routes, for the OpenAPI document only.

Names, fields, required keys and nullability follow upstream's v3 document (`WebhookEndpoint`,
`Page_WebhookEndpoint_`, ...). Handlers return orjson responses built by `mapping`, and
FastAPI passes a returned `Response` through untouched, so these models describe the wire
without validating or serialising anything per request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """The pagination envelope; `Page[X]` is named `Page_X_` in the document."""

    items: list[T]
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    size: int = Field(ge=1)
    pages: int = Field(ge=0)


class WebhookEndpoint(BaseModel):
    """A webhook endpoint of a workspace."""

    id: str
    workspace_id: str | None
    url: str
    created_at: datetime
