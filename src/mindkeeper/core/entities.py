"""Entities of the memory model, as plain immutable records.

Neutral names: a workspace (Honcho: app) holds peers (user); a peer has sessions of messages,
notes (metamessage) and collections of documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

JSONObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Workspace:
    """A tenant-level container (Honcho: app)."""

    key: int
    id: str
    name: str
    metadata: JSONObject
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Peer:
    """An end user of an agent (Honcho: user)."""

    key: int
    id: str
    name: str
    workspace_id: str
    metadata: JSONObject
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Session:
    """A conversation of one peer."""

    key: int
    id: str
    is_active: bool
    peer_id: str
    workspace_id: str
    metadata: JSONObject
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of a session."""

    key: int
    id: str
    content: str
    is_user: bool
    session_id: str
    workspace_id: str
    peer_id: str
    metadata: JSONObject
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Note:
    """Derived or annotated text about a peer, optionally tied to a session and message."""

    key: int
    id: str
    label: str
    content: str
    peer_id: str
    workspace_id: str
    session_id: str | None
    message_id: str | None
    metadata: JSONObject
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Collection:
    """A named set of documents owned by a peer."""

    key: int
    id: str
    name: str
    peer_id: str
    workspace_id: str
    metadata: JSONObject
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Document:
    """A text with an embedding, searchable by meaning."""

    key: int
    id: str
    content: str
    collection_id: str
    workspace_id: str
    peer_id: str
    metadata: JSONObject
    created_at: datetime
