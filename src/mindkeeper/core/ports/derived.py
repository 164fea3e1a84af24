"""Ports of derived memory: conclusions, peer cards, and the index of messages (vectors,
text search, token-budget windows).

A conclusion is a document of the collection that an observer peer keeps about an observed
peer (the pair); the observer may be the observed peer itself (its own "self" collection is
the one named `honcho`). Conclusions are soft-deleted: a deleted one is invisible to every
read here. Records carry the names their peers and session go by, since the surfaces that
show them address peers and sessions by name.

Filters arrive as parsed trees (`mindkeeper.core.filters`); each repository documents the
logical columns its trees may name. Lookups are always scoped by workspace.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

import numpy as np

from mindkeeper.core.entities import Collection, JSONObject, Message
from mindkeeper.core.filters import Node
from mindkeeper.core.values import Page, PageRequest

#: Logical columns a conclusion filter may name: `id`, `content`, `level`, `observer`,
#: `observed`, `session` (names), `workspace` (name), `created_at`, `deleted_at`,
#: `times_derived`, `source_ids` (JSON), `metadata` (JSON).
CONCLUSION_COLUMNS = frozenset(
    {
        "id",
        "content",
        "level",
        "observer",
        "observed",
        "session",
        "workspace",
        "created_at",
        "deleted_at",
        "times_derived",
        "source_ids",
        "metadata",
    }
)
#: Logical columns a message filter may name: `workspace`, `session`, `peer` (names),
#: `token_count`, `created_at`, `metadata` (JSON).
MESSAGE_COLUMNS = frozenset(
    {"workspace", "session", "peer", "token_count", "created_at", "metadata"}
)


@dataclass(frozen=True, slots=True)
class Conclusion:
    """A conclusion with the names of its observer, observed peer and provenance session."""

    key: int
    id: str
    content: str
    workspace_id: str
    observer_id: str
    observed_id: str
    observer: str
    observed: str
    session_id: str | None
    session: str | None
    level: str
    source_ids: builtins.list[str] | None
    times_derived: int
    metadata: JSONObject
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewConclusion:
    """A conclusion to store in a pair's collection."""

    content: str
    vector: np.ndarray
    model: str
    session_id: str | None = None
    level: str = "explicit"
    source_ids: builtins.list[str] | None = None
    metadata: JSONObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Pair:
    """An observer's view of an observed peer, optionally narrowed to provenance sessions.

    `session_ids` None means every conclusion of the pair; a tuple (possibly empty) keeps
    only conclusions whose provenance is one of those sessions.
    """

    workspace_id: str
    observer_id: str
    observed_id: str
    session_ids: tuple[str, ...] | None = None


class Order(StrEnum):
    """Orders of a pair's conclusions."""

    RECENT = "recent"
    FREQUENT = "frequent"


class ConclusionRepository(Protocol):
    """Conclusions of a workspace (documents with a level), by observer/observed pair."""

    async def pair_collection(
        self, workspace_id: str, observer_id: str, observed_id: str, now: datetime
    ) -> Collection:
        """Return the pair's collection, created when missing (safe under concurrency)."""
        ...

    async def add_many(
        self, collection: Collection, items: Sequence[NewConclusion], now: datetime
    ) -> builtins.list[Conclusion]:
        """Insert conclusions into the collection, in order, and return them in that order."""
        ...

    async def get(self, workspace_id: str, conclusion_id: str) -> Conclusion | None:
        """Return one conclusion of the workspace (None when missing or deleted)."""
        ...

    async def get_many(
        self, workspace_id: str, conclusion_ids: Sequence[str]
    ) -> builtins.list[Conclusion]:
        """Return the workspace's conclusions with those ids (any order; deleted ones left out)."""
        ...

    async def list(
        self,
        workspace_id: str,
        observer_id: str | None,
        observed_id: str | None,
        where: Node | None,
        page: PageRequest,
    ) -> Page[Conclusion]:
        """A page, newest first (`page.reverse`: oldest first), narrowed to an observer and/or
        observed peer when given; `where` names `CONCLUSION_COLUMNS`."""
        ...

    async def nearest(
        self,
        pair: Pair,
        vector: np.ndarray,
        model: str,
        where: Node | None,
        top_k: int,
        max_distance: float | None = None,
    ) -> builtins.list[Conclusion]:
        """Up to `top_k` conclusions of the pair embedded by `model`, by cosine distance
        (ties by insertion); `max_distance` keeps only distances below it."""
        ...

    async def ranked(
        self, pair: Pair, order: Order, limit: int, exclude: Sequence[int] = ()
    ) -> builtins.list[Conclusion]:
        """Up to `limit` conclusions of the pair, newest first or most often derived first,
        leaving out the internal keys in `exclude`."""
        ...

    async def soft_delete(self, workspace_id: str, conclusion_id: str, now: datetime) -> bool:
        """Mark a conclusion deleted; False when it is missing or already deleted."""
        ...

    async def session_ids(self, workspace_id: str, names: Sequence[str]) -> dict[str, str]:
        """Public ids of the named sessions of the workspace (name -> id; unknown ones left
        out), to narrow conclusions to provenance sessions."""
        ...


class PeerCardRepository(Protocol):
    """Peer cards: one list of strings per (observer, observed) pair."""

    async def get(
        self, workspace_id: str, observer_id: str, observed_id: str
    ) -> builtins.list[str] | None:
        """Return the observer's card about the observed peer (None when never set)."""
        ...

    async def put(
        self,
        workspace_id: str,
        observer_id: str,
        observed_id: str,
        card: Sequence[str],
        now: datetime,
    ) -> None:
        """Replace the card (safe under concurrency)."""
        ...


@dataclass(frozen=True, slots=True)
class MessageText:
    """A message to embed."""

    key: int
    id: str
    workspace_id: str
    content: str


@dataclass(frozen=True, slots=True)
class MessageVector:
    """A message's embedding."""

    message_id: str
    workspace_id: str
    vector: np.ndarray


@dataclass(frozen=True, slots=True)
class NamedMessage:
    """A message with the names its sender and session go by."""

    message: Message
    sender: str
    session: str


@dataclass(frozen=True, slots=True)
class SearchScope:
    """Which messages a search sees: the workspace's, optionally one session's or one
    sender's, optionally those a peer could see as a member when they were written, and a
    filter naming `MESSAGE_COLUMNS`."""

    workspace_id: str
    session_id: str | None = None
    sender_id: str | None = None
    perspective_id: str | None = None
    where: Node | None = None


class MessageIndexRepository(Protocol):
    """Vectors of messages, search over messages, and the reads of session context."""

    async def unembedded(
        self, message_ids: Sequence[str], model: str
    ) -> builtins.list[MessageText]:
        """The messages among those ids without a vector of `model`, in insertion order."""
        ...

    async def queued_message_ids(self, kind: str, limit: int) -> builtins.list[str]:
        """Message ids named by the payloads of pending jobs of `kind`, oldest job first."""
        ...

    async def put_vectors(
        self, vectors: Sequence[MessageVector], model: str, now: datetime
    ) -> None:
        """Store (or replace) the vectors of messages."""
        ...

    async def count_stale(self, model: str) -> int:
        """Count messages without a vector of `model`."""
        ...

    async def stale(self, model: str, after_key: int, limit: int) -> builtins.list[MessageText]:
        """The next messages (by key, after `after_key`) without a vector of `model`."""
        ...

    async def nearest(
        self, scope: SearchScope, vector: np.ndarray, model: str, limit: int
    ) -> builtins.list[int]:
        """Keys of up to `limit` messages of the scope by cosine distance (ties by key)."""
        ...

    async def text_matches(self, scope: SearchScope, query: str, limit: int) -> builtins.list[int]:
        """Keys of up to `limit` messages of the scope that match `query` as text."""
        ...

    async def by_keys(self, keys: Sequence[int]) -> builtins.list[NamedMessage]:
        """The messages with those internal keys, in the order of `keys`."""
        ...

    async def tail(
        self, session_id: str, after_key: int, budget: int
    ) -> builtins.list[NamedMessage]:
        """The newest messages of the session after `after_key` whose token counts, summed
        from the newest back, stay within `budget` (stopping at the first that would not),
        oldest first."""
        ...

    async def created_at(
        self, workspace_id: str, message_ids: Sequence[str]
    ) -> dict[str, datetime]:
        """Creation times of those messages of the workspace."""
        ...
