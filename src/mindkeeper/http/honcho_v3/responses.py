"""Response models of the Honcho v3 routes, for the OpenAPI document only.

Names, fields, required keys and nullability follow upstream's v3.0.12 document (`Workspace`,
`Page_Peer_`, `SessionContext`, `PeerCardResponse`, `QueueStatus`, `WebhookEndpoint`, ...),
plus the fields honcho-ai 2.7.0 reads that v3.0.12 never sends (`uid`, a conclusion's
`source_ids` and `times_derived`, chat `evidence`) and the SDK-only scope shapes. Where the
Honcho v1 surface or the probes already document a schema of the same name, the v3 model is
named with a `V3` prefix (`V3Session`, `V3Message`, `V3DialecticResponse`, `V3QueueStatus`):
one document holds both surfaces, and a name can only mean one schema. `Key` and `Deleted`
are the shapes both surfaces share; `SessionPeerConfig` is the request body's model, which
upstream also answers with.

Handlers return orjson responses built by `mapping`, and FastAPI passes a returned `Response`
through untouched, so these models describe the wire without validating or serialising
anything per request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from mindkeeper.http.honcho_v3.schemas import SessionPeerConfig as SessionPeerConfig
from mindkeeper.http.responses import Deleted as Deleted
from mindkeeper.http.responses import Key as Key

T = TypeVar("T")

#: A conclusion's reasoning level.
Level = Literal["explicit", "deductive", "inductive", "contradiction"]
UID = "The server's immutable id (read by honcho-ai 2.7.0 as `uid`)"


class Page(BaseModel, Generic[T]):
    """The pagination envelope; `Page[X]` is named `Page_X_` in the document."""

    items: list[T]
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    size: int = Field(ge=1)
    pages: int = Field(ge=0)


class Workspace(BaseModel):
    """A workspace (`id` is its name)."""

    id: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    configuration: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    uid: str = Field(description=UID)


class Peer(BaseModel):
    """A peer of a workspace (`id` is its name)."""

    id: str
    workspace_id: str
    created_at: datetime
    metadata: dict[str, Any] = Field(default_factory=dict)
    configuration: dict[str, Any] = Field(default_factory=dict)
    uid: str = Field(description=UID)


class V3Session(BaseModel):
    """Upstream's `Session`: a session of a workspace (`id` is its name)."""

    id: str
    is_active: bool
    workspace_id: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    configuration: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    uid: str = Field(description=UID)


class V3Message(BaseModel):
    """Upstream's `Message`: a message of a session, sent by `peer_id`."""

    id: str
    content: str
    peer_id: str
    session_id: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    workspace_id: str
    token_count: int


class Conclusion(BaseModel):
    """A conclusion of an observer about an observed peer."""

    id: str
    content: str
    observer_id: str = Field(description="The peer who made the conclusion")
    observed_id: str = Field(description="The peer the conclusion is about")
    session_id: str | None = None
    level: Level = "explicit"
    created_at: datetime
    source_ids: list[str] = Field(
        default_factory=list, description="The conclusions or messages it was derived from"
    )
    times_derived: int = Field(default=1, description="How often it was derived")


class Summary(BaseModel):
    """A session summary."""

    content: str
    message_id: str = Field(description="The public id of the last message it covers")
    summary_type: str = Field(
        description="`honcho_chat_summary_short` or `honcho_chat_summary_long`"
    )
    created_at: str = Field(description="When it was written (ISO 8601, to the second)")
    token_count: int


class SessionSummaries(BaseModel):
    """A session's newest short and long summaries."""

    id: str
    short_summary: Summary | None = None
    long_summary: Summary | None = None


class SessionContext(BaseModel):
    """A session's recent messages within a token budget, the summary before them and a
    peer's view."""

    id: str
    messages: list[V3Message]
    summary: Summary | None = None
    peer_representation: str | None = None
    peer_card: list[str] | None = None


class PeerContext(BaseModel):
    """A peer's representation of and card about a target."""

    peer_id: str
    target_id: str
    representation: str | None = None
    peer_card: list[str] | None = None


class RepresentationResponse(BaseModel):
    """A peer's representation of a target, as markdown."""

    representation: str


class PeerCardResponse(BaseModel):
    """A peer card (null until one is written)."""

    peer_card: list[str] | None = None


class EvidenceObservation(BaseModel):
    """A conclusion the dialectic read while answering."""

    id: str
    level: Level
    content: str
    created_at: datetime
    session_id: str | None = None
    observer_id: str | None = None
    observed_id: str | None = None
    source_ids: list[str] = Field(default_factory=list)


class EvidenceMessageRef(BaseModel):
    """A message the dialectic read while answering (no content)."""

    id: str
    session_id: str
    peer_id: str
    created_at: datetime


class EvidenceToolCall(BaseModel):
    """A retrieval step of the dialectic."""

    tool_name: str
    tool_input: dict[str, Any] = Field(default_factory=dict)


class Evidence(BaseModel):
    """What the dialectic read and did while answering."""

    conclusions: list[EvidenceObservation] = Field(default_factory=list)
    messages: list[EvidenceMessageRef] = Field(default_factory=list)
    tool_calls: list[EvidenceToolCall] = Field(default_factory=list)


class V3DialecticResponse(BaseModel):
    """Upstream's `DialecticResponse`: the whole answer (null when the model said nothing);
    `evidence` when asked for with `include_evidence`."""

    content: str | None
    evidence: Evidence | None = None


class SessionQueueStatus(BaseModel):
    """Work counts of one session."""

    session_id: str | None = None
    total_work_units: int
    completed_work_units: int
    in_progress_work_units: int
    pending_work_units: int


class V3QueueStatus(BaseModel):
    """Upstream's `QueueStatus`: work counts of a workspace, and per session when not
    filtered by session."""

    total_work_units: int
    completed_work_units: int
    in_progress_work_units: int
    pending_work_units: int
    sessions: dict[str, SessionQueueStatus] | None = None


class WebhookEndpoint(BaseModel):
    """A webhook endpoint of a workspace."""

    id: str
    workspace_id: str | None
    url: str
    created_at: datetime


class Scope(BaseModel):
    """A scope of a workspace (honcho-ai 2.7.0)."""

    id: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime


class ScopeBackfillJob(BaseModel):
    """The state of bringing one session into a scope."""

    state: Literal["pending", "completed", "failed"]
    updated_at: datetime
    docs_copied: int | None = None


class ScopeStatus(BaseModel):
    """Per session of a scope, the state of bringing it in."""

    backfill_status: dict[str, ScopeBackfillJob] = Field(default_factory=dict)


def created(model: Any) -> dict[int | str, dict[str, Any]]:
    """The extra 201 of a get-or-create route (its 200 is the route's `response_model`)."""
    return {201: {"model": model, "description": "Created"}}


#: The 200 of the chat routes: JSON, or server-sent events when `stream` is true.
CHAT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            'The answer; with `stream`, server-sent events: `data: {"delta": {"content": '
            '"<chunk>"}, "done": false}` per chunk, then `data: {"done": true}` (with '
            '`"evidence"` when asked for)'
        ),
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}

#: The 200 of the test-event route: the body is `null`.
NULL_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"schema": {"type": "null"}}}}
}
