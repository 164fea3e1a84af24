"""Response models of the Honcho v1 routes, for the OpenAPI document only.

Names, fields, required keys and nullability follow upstream's v1.1.0 document (`App`,
`Page_App_`, `DialecticResponse`, ...). Handlers return orjson responses built by `mapping`,
and FastAPI passes a returned `Response` through untouched, so these models describe the
wire without validating or serialising anything per request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from pydantic.config import JsonDict

from mindkeeper.http.responses import Deleted as Deleted
from mindkeeper.http.responses import Key as Key

T = TypeVar("T")


def _no_default(schema: JsonDict) -> None:
    """Drop the `default` key: upstream lists the field as optional without one."""
    schema.pop("default", None)


class App(BaseModel):
    """An app."""

    id: str
    name: str
    metadata: dict[str, Any] = {}
    created_at: datetime


class User(BaseModel):
    """A user of an app."""

    id: str
    name: str
    app_id: str
    created_at: datetime
    metadata: dict[str, Any] = {}


class Session(BaseModel):
    """A session of a user."""

    id: str
    is_active: bool
    user_id: str
    app_id: str
    metadata: dict[str, Any] = {}
    created_at: datetime


class Message(BaseModel):
    """A message of a session."""

    id: str
    content: str
    is_user: bool
    session_id: str
    metadata: dict[str, Any] = {}
    created_at: datetime
    app_id: str
    user_id: str


class Metamessage(BaseModel):
    """A metamessage of a user; `metamessage_type` mirrors `label`."""

    id: str
    label: str
    content: str
    user_id: str
    app_id: str
    session_id: str | None
    message_id: str | None
    metadata: dict[str, Any] = {}
    created_at: datetime
    metamessage_type: str = Field(json_schema_extra={"readOnly": True})


class Collection(BaseModel):
    """A collection of a user."""

    id: str
    name: str
    user_id: str
    app_id: str
    metadata: dict[str, Any] = {}
    created_at: datetime


class Document(BaseModel):
    """A document of a collection (never with its embedding)."""

    id: str
    content: str
    metadata: dict[str, Any] = {}
    created_at: datetime
    collection_id: str
    app_id: str
    user_id: str


class Page(BaseModel, Generic[T]):
    """The pagination envelope; `Page[App]` is named `Page_App_` in the document."""

    items: list[T]
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    size: int = Field(ge=1)
    pages: int = Field(default=0, ge=0, json_schema_extra=_no_default)


class DialecticResponse(BaseModel):
    """The dialectic's whole answer."""

    content: str


#: Extra description of the chat route's 200: the answer may also stream as plain text.
CHAT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Response to a question informed by Honcho's User Representation",
        "content": {"text/event-stream": {}},
    }
}
