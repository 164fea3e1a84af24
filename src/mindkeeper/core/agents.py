"""Agent sessions: entities and values of the agent-runtime session store.

An agent session (Bedrock: session) belongs to an account and holds invocations; an invocation
groups invocation steps, each an opaque payload stamped with a client-supplied time. Sessions
move ACTIVE -> ENDED (explicitly) and ACTIVE/ENDED -> EXPIRED (after an idle period).

Stored records carry the metadata and payloads as bytes, sealed when the session names an
encryption key; the services open them into the plain entities the adapters map to the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")

#: Session metadata: a flat string map.
StringMap = dict[str, str]


class SessionStatus(StrEnum):
    """Lifecycle state of an agent session."""

    ACTIVE = "ACTIVE"
    ENDED = "ENDED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True, slots=True)
class AgentPolicy:
    """Limits and timings of the agent-session store (from settings, via bootstrap)."""

    idle_expiry: timedelta
    expired_retention: timedelta
    max_tags_per_session: int
    max_step_payload_bytes: int
    default_page_size: int = 10
    purge_batch_size: int = 100


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A session row as stored: metadata is JSON bytes, sealed when `key_ref` is set."""

    key: int
    id: str
    account_id: str
    status: SessionStatus
    metadata_blob: bytes
    key_ref: str | None
    created_at: datetime
    last_updated_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class AgentSession:
    """A session with its metadata opened and its status as of the request."""

    key: int
    id: str
    account_id: str
    status: SessionStatus
    metadata: StringMap
    key_ref: str | None
    created_at: datetime
    last_updated_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """A session as listed (no metadata)."""

    key: int
    id: str
    account_id: str
    status: SessionStatus
    created_at: datetime
    last_updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session to insert; `metadata_blob` is already sealed when `key_ref` is set."""

    id: str
    account_id: str
    metadata_blob: bytes
    key_ref: str | None
    now: datetime


@dataclass(frozen=True, slots=True)
class Invocation:
    """A group of steps inside a session; its id is unique per session only."""

    key: int
    id: str
    session_key: int
    session_id: str
    description: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StepTime:
    """A client-supplied instant and the number of fractional digits it was given with (0-6)."""

    at: datetime
    digits: int


@dataclass(frozen=True, slots=True)
class NewStep:
    """A step to store; `payload` is the JSON document as received (validated by the adapter)."""

    invocation_id: str
    step_id: str | None
    time: StepTime
    payload: bytes


@dataclass(frozen=True, slots=True)
class StoredStep:
    """A step row as stored: the payload is sealed when its session has a key."""

    key: int
    id: str
    session_key: int
    invocation_key: int
    invocation_id: str
    time: StepTime
    payload_blob: bytes


@dataclass(frozen=True, slots=True)
class InvocationStep:
    """A step with its payload opened."""

    id: str
    session_id: str
    invocation_id: str
    time: StepTime
    payload: bytes


@dataclass(frozen=True, slots=True)
class StepSummary:
    """A step as listed (no payload)."""

    key: int
    id: str
    session_id: str
    invocation_id: str
    time: StepTime


@dataclass(frozen=True, slots=True)
class ListCursor:
    """Keyset position: continue after (time, key), never past the snapshot's `high_water` key."""

    time: datetime
    key: int
    high_water: int


@dataclass(frozen=True, slots=True)
class ListRequest:
    """One page of a newest-first listing: at most `limit` items after `cursor` (if any)."""

    limit: int
    cursor: ListCursor | None = None


@dataclass(frozen=True, slots=True)
class Listing(Generic[T]):
    """One page of a newest-first listing and the cursor of the next page (None on the last)."""

    items: list[T]
    next: ListCursor | None
