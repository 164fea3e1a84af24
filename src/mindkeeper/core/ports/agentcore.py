"""Memory resources (AgentCore memories) over the core model, and the port that stores them.

A memory resource belongs to an account and owns one workspace: its actors are the
workspace's peers, its sessions are core sessions (the actor a member), its events are
messages (sender = the actor, time = the event's timestamp, the items kept as JSON bytes,
sealed when the memory names a key), and its long-term records are documents of one collection
per namespace, kept by the memory's own observer peer. Extraction jobs are rows of the durable
job queue. What is new lives in the memory row: status, strategies with namespace templates,
indexed and namespace keys, expiry settings, tags; and idempotency tokens.

The repository works inside the unit of work's transaction, never commits, and scopes every
lookup by account or workspace: a resource of another tenant reads as missing.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

import numpy as np

from mindkeeper.core.entities import JSONObject
from mindkeeper.errors import Invalid

#: Job kind: extract long-term records from one event (or ingested content).
EXTRACT = "agentcore_extract"
#: Strategy id given to records written without one.
NO_STRATEGY = "custom"


class TokenMismatch(Invalid):
    """An idempotency token reused with different parameters."""


class OtherSession(Invalid):
    """A branch root event that belongs to another session."""


class MemoryStatus(StrEnum):
    """Lifecycle of a memory resource."""

    CREATING = "CREATING"
    ACTIVE = "ACTIVE"
    FAILED = "FAILED"
    UPDATING = "UPDATING"
    DELETING = "DELETING"


class StrategyType(StrEnum):
    """What a strategy derives from events."""

    SEMANTIC = "SEMANTIC"
    SUMMARIZATION = "SUMMARIZATION"
    USER_PREFERENCE = "USER_PREFERENCE"
    CUSTOM = "CUSTOM"
    EPISODIC = "EPISODIC"


@dataclass(frozen=True, slots=True)
class PromptOverride:
    """Text appended to a built-in step's prompt, and the model the caller asked for."""

    append: str
    model_id: str
    #: Namespace template of a reflection step (episodic only).
    template: str | None = None


@dataclass(frozen=True, slots=True)
class Strategy:
    """A rule deriving records from events into namespaces made from a template."""

    id: str
    name: str
    type: StrategyType
    template: str
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    #: For CUSTOM: the built-in behaviour overridden (`semantic`, `summary`,
    #: `user_preference`, `episodic`) or `self_managed` (no extraction here).
    base: str | None = None
    extraction: PromptOverride | None = None
    consolidation: PromptOverride | None = None
    reflection: PromptOverride | None = None
    #: Namespace template of episodic reflections (built-in episodic strategies).
    reflection_template: str | None = None
    self_managed: JSONObject | None = None
    record_schema: JSONObject | None = None
    record_expiry_days: int | None = None
    status: str = "ACTIVE"

    @property
    def behaviour(self) -> str:
        """What extraction does: semantic, summary, user_preference, episodic or none."""
        if self.type is StrategyType.CUSTOM:
            return "none" if self.base in (None, "self_managed") else str(self.base)
        return {
            StrategyType.SEMANTIC: "semantic",
            StrategyType.SUMMARIZATION: "summary",
            StrategyType.USER_PREFERENCE: "user_preference",
            StrategyType.EPISODIC: "episodic",
        }[self.type]


@dataclass(frozen=True, slots=True)
class IndexedKey:
    """A record metadata key usable in filters, with its value type."""

    key: str
    type: str


@dataclass(frozen=True, slots=True)
class NamespaceKey:
    """A custom namespace variable and the rules its values must follow."""

    key: str
    allowed: tuple[str, ...] | None = None
    regex: str | None = None


@dataclass(frozen=True, slots=True)
class MemorySettings:
    """Everything a memory is configured with (stored as one JSON document)."""

    event_expiry_days: int
    description: str | None = None
    execution_role: str | None = None
    strategies: tuple[Strategy, ...] = ()
    indexed_keys: tuple[IndexedKey, ...] = ()
    namespace_keys: tuple[NamespaceKey, ...] = ()
    stream_delivery: JSONObject | None = None
    failure_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Memory:
    """A memory resource of an account, over its workspace."""

    key: int
    id: str
    account_id: str
    workspace_id: str
    observer_id: str
    name: str
    status: MemoryStatus
    settings: MemorySettings
    key_ref: str | None
    tags: dict[str, str]
    created_at: datetime
    updated_at: datetime

    def strategy(self, strategy_id: str) -> Strategy | None:
        """The strategy with that id, if the memory has it."""
        return next((s for s in self.settings.strategies if s.id == strategy_id), None)


@dataclass(frozen=True, slots=True)
class NewMemory:
    """A memory row to insert (its workspace and observer peer already exist)."""

    id: str
    account_id: str
    workspace_id: str
    observer_id: str
    name: str
    status: MemoryStatus
    settings: MemorySettings
    key_ref: str | None
    tags: dict[str, str]
    now: datetime


@dataclass(frozen=True, slots=True)
class Branch:
    """A named alternative continuation of a session, forked at a root event."""

    name: str
    root_event_id: str | None = None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as stored: a message with its items as (possibly sealed) JSON bytes."""

    key: int
    id: str
    session_id: str
    sender_id: str
    timestamp: datetime
    payload_blob: bytes | None
    branch: Branch | None
    metadata: dict[str, str]
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Event:
    """An event with its items opened (None when the listing left them out)."""

    id: str
    actor: str
    session: str
    timestamp: datetime
    payload: builtins.list[Any] | None
    branch: Branch | None
    metadata: dict[str, str]


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A message to insert as an event."""

    id: str
    workspace_id: str
    session_id: str
    sender_id: str
    timestamp: datetime
    content: str
    is_user: bool
    token_count: int
    payload_blob: bytes
    branch: Branch | None
    metadata: dict[str, str]
    client_token: str | None
    expires_at: datetime
    now: datetime


@dataclass(frozen=True, slots=True)
class MetadataCondition:
    """One event-metadata filter: EQUALS_TO (with a value), EXISTS or NOT_EXISTS."""

    key: str
    operator: str
    value: str | None = None


@dataclass(frozen=True, slots=True)
class BranchScope:
    """Which branch lines a listing covers: `(branch name or None for the main line, cut-off
    position or None)`, any of which an event may be on."""

    lines: tuple[tuple[str | None, tuple[datetime, int] | None], ...]


@dataclass(frozen=True, slots=True)
class EventQuery:
    """A page of one actor's events in one session, newest first."""

    session_id: str
    sender_id: str
    now: datetime
    limit: int
    after: tuple[datetime, int] | None = None
    with_payload: bool = True
    branches: BranchScope | None = None
    metadata: tuple[MetadataCondition, ...] = ()


@dataclass(frozen=True, slots=True)
class SessionEntry:
    """A session an actor takes part in."""

    key: int
    session: str
    actor: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Record:
    """A long-term memory record: a document in the collection of its namespace."""

    key: int
    id: str
    content: str
    strategy_id: str
    namespace: str | None
    created_at: datetime
    timestamp: datetime | None
    expires_at: datetime | None
    metadata: JSONObject
    score: float | None = None
    session_id: str | None = None
    observed_id: str | None = None
    #: The duration `expires_at` was set from (kept to re-base it on updates).
    expiry_days: int | None = None


@dataclass(frozen=True, slots=True)
class NewRecord:
    """A record to store (its content already sealed when the memory has a key)."""

    id: str
    workspace_id: str
    observer_id: str
    namespace: str | None
    content: str
    strategy_id: str
    timestamp: datetime | None
    expires_at: datetime | None
    metadata: JSONObject
    embedding: np.ndarray | None
    embedding_model: str | None
    now: datetime
    observed_id: str | None = None
    session_id: str | None = None
    level: str | None = None
    source_ids: builtins.list[str] | None = None
    expiry_days: int | None = None


@dataclass(frozen=True, slots=True)
class NamespaceScope:
    """Which namespaces a record query covers: exact (normalised) or under a path."""

    namespace: str | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """Records of a memory in a namespace scope, newest first."""

    workspace_id: str
    observer_id: str
    scope: NamespaceScope
    now: datetime
    strategy_id: str | None = None
    limit: int = 20
    before_key: int | None = None


@dataclass(frozen=True, slots=True)
class ExtractionJob:
    """An unfinished or failed extraction job of a memory."""

    key: int
    status: str
    session: str | None
    actor: str | None
    strategy_id: str | None
    events: builtins.list[tuple[str, int]] = field(default_factory=list)
    failure: str | None = None


class AgentCoreRepository(Protocol):
    """Memory resources, idempotency tokens, and the agentcore views over the core tables."""

    # -- memories -------------------------------------------------------------------------
    async def add_memory(self, new: NewMemory) -> Memory:
        """Insert a memory; AlreadyExists when the account already has that name."""
        ...

    async def get_memory(self, account_id: str, memory_id: str) -> Memory | None:
        """The account's memory with that id."""
        ...

    async def memory_of_workspace(self, workspace_id: str) -> Memory | None:
        """The memory over a workspace."""
        ...

    async def list_memories(
        self, account_id: str, after: tuple[datetime, int] | None, limit: int
    ) -> builtins.list[Memory]:
        """Up to `limit` memories of the account, newest first, after a position."""
        ...

    async def count_memories(self, account_id: str) -> int:
        """How many memories the account has."""
        ...

    async def update_memory(
        self,
        key: int,
        now: datetime,
        *,
        settings: MemorySettings | None = None,
        status: MemoryStatus | None = None,
        tags: dict[str, str] | None = None,
        touch: bool = True,
    ) -> Memory:
        """Change the given fields (and `updated_at` when `touch`); return the new row."""
        ...

    # -- idempotency ----------------------------------------------------------------------
    async def get_request(
        self, account_id: str, operation: str, token: str
    ) -> tuple[str, JSONObject] | None:
        """The fingerprint and result of an earlier request with that token."""
        ...

    async def add_request(
        self,
        account_id: str,
        workspace_id: str,
        operation: str,
        token: str,
        fingerprint: str,
        result: JSONObject,
        now: datetime,
    ) -> None:
        """Remember a request's token, fingerprint and result."""
        ...

    async def purge_requests(self, before: datetime) -> int:
        """Forget tokens older than `before`; return how many."""
        ...

    # -- actors, sessions, events ---------------------------------------------------------
    async def find_peer(self, workspace_id: str, name: str) -> str | None:
        """The public id of the workspace's peer with that name."""
        ...

    async def find_session(self, workspace_id: str, name: str) -> str | None:
        """The public id of the workspace's session with that name."""
        ...

    async def ensure_actor(self, workspace_id: str, name: str, now: datetime) -> str:
        """The id of the peer with that name, created if missing."""
        ...

    async def ensure_session(
        self, workspace_id: str, name: str, peer_id: str, now: datetime
    ) -> str:
        """The id of the session with that name, created if missing, with the peer a member."""
        ...

    async def add_event(self, new: NewEvent) -> bool:
        """Insert an event and count it in its session; False (nothing written) when the
        workspace already has an event with that client token."""
        ...

    async def get_event(self, workspace_id: str, event_id: str) -> StoredEvent | None:
        """One event of the workspace (any actor or session)."""
        ...

    async def event_by_token(self, workspace_id: str, token: str) -> StoredEvent | None:
        """The workspace's event written with that client token."""
        ...

    async def list_events(self, query: EventQuery) -> builtins.list[StoredEvent]:
        """Up to `limit` events, newest first (time, then insertion), after a position."""
        ...

    async def branch_root(self, session_id: str, sender_id: str, branch: str) -> str | None:
        """The root event id given by the first event of a branch of an actor's session."""
        ...

    async def delete_event(self, workspace_id: str, event: StoredEvent) -> None:
        """Remove an event and uncount it from its session."""
        ...

    async def list_sessions(
        self,
        workspace_id: str,
        peer_id: str,
        now: datetime,
        has_events: bool,
        after: tuple[datetime, int] | None,
        limit: int,
    ) -> builtins.list[SessionEntry]:
        """Up to `limit` sessions of the actor, newest first, after a position."""
        ...

    async def list_actors(
        self, workspace_id: str, now: datetime, after: int | None, limit: int
    ) -> builtins.list[tuple[int, str]]:
        """Up to `limit` (key, name) of peers with events, in creation order."""
        ...

    async def purge_expired_events(self, now: datetime, limit: int) -> int:
        """Remove up to `limit` expired events of every memory; return how many."""
        ...

    async def purge_empty_sessions(self, before: datetime, limit: int) -> int:
        """Drop memberships (and then sessions) of memories without events, joined before
        `before`; return how many memberships."""
        ...

    # -- records --------------------------------------------------------------------------
    async def add_record(self, new: NewRecord) -> Record:
        """Insert a record in the collection of its namespace (created if missing)."""
        ...

    async def get_record(self, workspace_id: str, record_id: str) -> Record | None:
        """One live record of the workspace."""
        ...

    async def replace_record(
        self,
        workspace_id: str,
        observer_id: str,
        record: Record,
        embedding: tuple[np.ndarray, str] | None,
        now: datetime,
    ) -> Record | None:
        """Write a live record's content, namespace, strategy, times and metadata as given
        (and its vector, when given); None when it no longer exists."""
        ...

    async def delete_records(self, workspace_id: str, record_ids: Sequence[str]) -> list[str]:
        """Remove live records; return the ids that existed."""
        ...

    async def list_records(self, query: RecordQuery) -> builtins.list[Record]:
        """Up to `limit` live records in the scope, newest first, before a key."""
        ...

    async def record_candidates(
        self, query: RecordQuery, model_id: str | None
    ) -> builtins.list[tuple[Record, np.ndarray | None]]:
        """Every live record in the scope with its vector of that model (None otherwise)."""
        ...

    async def nearest_records(
        self, query: RecordQuery, vector: np.ndarray, model_id: str, top_k: int
    ) -> builtins.list[Record]:
        """The `top_k` live records in the scope nearest to the vector, with scores."""
        ...

    async def records_in_namespace(
        self,
        workspace_id: str,
        observer_id: str,
        namespace: str,
        strategy_id: str,
        now: datetime,
    ) -> builtins.list[Record]:
        """Live records of one strategy in exactly that namespace, oldest first."""
        ...

    async def purge_expired_records(self, now: datetime, limit: int) -> int:
        """Remove up to `limit` expired records; return how many."""
        ...

    # -- extraction jobs ------------------------------------------------------------------
    async def enqueue_extraction(
        self,
        workspace_id: str,
        peer_id: str,
        session_id: str,
        payload: JSONObject,
        now: datetime,
    ) -> None:
        """Queue one extraction job in the session's line of jobs."""
        ...

    async def list_extraction_jobs(
        self,
        workspace_id: str,
        failed_only: bool,
        session_id: str | None,
        peer_id: str | None,
        strategy_id: str | None,
        after: int | None,
        limit: int,
    ) -> builtins.list[ExtractionJob]:
        """Up to `limit` unfinished or dead extraction jobs, in queue order, after a key."""
        ...

    async def restart_extraction_job(self, workspace_id: str, key: int, now: datetime) -> bool:
        """Put a job back to pending (dead ones get fresh attempts); False when the workspace
        has no such unfinished or dead extraction job."""
        ...
