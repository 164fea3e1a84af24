"""Request models of the Honcho v1 surface, with upstream's field names, aliases and limits."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic import BaseModel as PydanticModel

from mindkeeper.http import json_input

Metadata = dict[str, Any]


class BaseModel(PydanticModel):
    """A request body, checked as a whole before its fields (`mindkeeper.http.json_input`):
    at most `MAX_DEPTH` levels deep, no NUL characters (PostgreSQL cannot store them) or
    unpaired surrogates in any string, no NaN, Infinity or out-of-range numbers."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        reason = json_input.problem(data)
        if reason is not None:
            raise ValueError(reason)
        return data


def _not_reserved(name: str | None) -> str | None:
    if name is not None and name.lower() == "honcho":
        raise ValueError("Collection name cannot be 'honcho'")
    return name


class AppCreate(BaseModel):
    """Body of POST /v1/apps."""

    name: str = Field(min_length=1, max_length=100)
    metadata: Metadata = Field(default_factory=dict)


class AppUpdate(BaseModel):
    """Body of PUT /v1/apps/{app_id}."""

    name: str | None = Field(default=None, max_length=512)
    metadata: Metadata | None = None


UserCreate = AppCreate
UserUpdate = AppUpdate


class ListBody(BaseModel):
    """Optional body of the list endpoints."""

    filter: Metadata | None = None


class SessionCreate(BaseModel):
    """Body of POST …/sessions."""

    metadata: Metadata = Field(default_factory=dict)


class SessionUpdate(BaseModel):
    """Body of PUT …/sessions/{session_id}; metadata is required."""

    metadata: Metadata


class SessionListBody(ListBody):
    """Body of POST …/sessions/list; `is_active: false` means no filter."""

    is_active: bool = False


class MessageCreate(BaseModel):
    """One message to append."""

    content: str = Field(max_length=50_000)
    is_user: bool
    metadata: Metadata = Field(default_factory=dict)


class MessageBatch(BaseModel):
    """Body of POST …/messages/batch."""

    messages: list[MessageCreate] = Field(min_length=1, max_length=100)


class MessageUpdate(BaseModel):
    """Body of PUT …/messages/{message_id}."""

    metadata: Metadata


_LABEL = AliasChoices("metamessage_type", "label")


class MetamessageCreate(BaseModel):
    """Body of POST …/metamessages (`metamessage_type` wins over `label`)."""

    label: str = Field(min_length=1, max_length=50, validation_alias=_LABEL)
    content: str = Field(max_length=50_000)
    session_id: str | None = None
    message_id: str | None = None
    metadata: Metadata = Field(default_factory=dict)


class MetamessageUpdate(BaseModel):
    """Body of PUT …/metamessages/{metamessage_id}."""

    session_id: str | None = None
    message_id: str | None = None
    label: str | None = Field(default=None, max_length=512, validation_alias=_LABEL)
    metadata: Metadata | None = None


class MetamessageListBody(ListBody):
    """Body of POST …/metamessages/list."""

    session_id: str | None = None
    message_id: str | None = None
    label: str | None = Field(default=None, validation_alias=_LABEL)


class CollectionCreate(BaseModel):
    """Body of POST …/collections."""

    name: str = Field(min_length=1, max_length=100)
    metadata: Metadata = Field(default_factory=dict)

    _reserved = field_validator("name")(_not_reserved)


class CollectionUpdate(BaseModel):
    """Body of PUT …/collections/{collection_id}."""

    name: str | None = Field(default=None, max_length=512)
    metadata: Metadata | None = None

    _reserved = field_validator("name")(_not_reserved)


class DocumentCreate(BaseModel):
    """Body of POST …/documents."""

    content: str = Field(min_length=1, max_length=100_000)
    metadata: Metadata = Field(default_factory=dict)


class DocumentUpdate(BaseModel):
    """Body of PUT …/documents/{document_id}."""

    content: str | None = Field(default=None, min_length=1, max_length=100_000)
    metadata: dict[str, Any] | None = Field(default=None, max_length=10_000)


class DocumentQuery(BaseModel):
    """Body of POST …/documents/query."""

    query: str = Field(min_length=1, max_length=1000)
    filter: Metadata | None = None
    top_k: int = Field(default=5, ge=1, le=50)
