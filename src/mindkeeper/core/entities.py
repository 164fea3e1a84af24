"""Entities of the memory model, as plain immutable records.

Neutral names: a workspace (Honcho v1 app) holds peers (v1 user, v3 peer); sessions have
members (peers) and messages, each sent by a peer; notes (v1 metamessage) annotate a peer's
sessions; collections of documents hold what is known, and a conclusion is a document of the
collection of an observer peer about an observed peer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    configuration: JSONObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Peer:
    """A participant: a person or an agent (Honcho v1: user)."""

    key: int
    id: str
    name: str
    workspace_id: str
    metadata: JSONObject
    created_at: datetime
    configuration: JSONObject = field(default_factory=dict)
    #: The workspace's application side of v1 messages, hidden from v1 user lists.
    synthetic: bool = False


@dataclass(frozen=True, slots=True)
class Session:
    """A conversation among peers; `peer_id` is its v1 owner (None for sessions made on v3)."""

    key: int
    id: str
    is_active: bool
    peer_id: str | None
    workspace_id: str
    metadata: JSONObject
    created_at: datetime
    name: str = ""
    configuration: JSONObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of a session, sent by `sender_id`; `peer_id` is the session's v1 owner."""

    key: int
    id: str
    content: str
    is_user: bool
    session_id: str
    workspace_id: str
    peer_id: str | None
    metadata: JSONObject
    created_at: datetime
    sender_id: str = ""
    #: Position in the session, from 1.
    seq: int = 0
    token_count: int = 0


@dataclass(frozen=True, slots=True)
class Member:
    """A peer's place in a session, with its per-session observation settings."""

    session_id: str
    peer_id: str
    workspace_id: str
    observe_me: bool | None
    observe_others: bool | None
    joined_at: datetime
    left_at: datetime | None


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
    """A named set of documents owned by a peer (about `observed_id`, for conclusions)."""

    key: int
    id: str
    name: str
    peer_id: str
    workspace_id: str
    metadata: JSONObject
    created_at: datetime
    observed_id: str | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """A text with an embedding, searchable by meaning; a conclusion when it has a level.

    For a conclusion, `peer_id` is the observer and `observed_id` the observed peer.
    """

    key: int
    id: str
    content: str
    collection_id: str
    workspace_id: str
    peer_id: str
    metadata: JSONObject
    created_at: datetime
    observed_id: str | None = None
    session_id: str | None = None
    level: str | None = None
    source_ids: list[str] | None = None
    times_derived: int = 1
