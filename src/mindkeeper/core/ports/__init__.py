"""Ports: the contracts the core needs from storage and providers.

Repositories add, get and query inside the unit of work's transaction; they never commit and
never call the network. Lookups are always scoped by the owning workspace and peer, so a
mismatched parent reads as "missing" rather than leaking another tenant's row.
Mutations that would break a unique key raise `AlreadyExists`; a missing parent row referenced
by a foreign key raises `NotFound`.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

import numpy as np

from mindkeeper.core.agents import AgentPolicy
from mindkeeper.core.entities import (
    Collection,
    Document,
    JSONObject,
    Member,
    Message,
    Note,
    Peer,
    Session,
    Workspace,
)
from mindkeeper.core.filters import Node
from mindkeeper.core.ports.agentcore import AgentCoreRepository
from mindkeeper.core.ports.agents import AgentRepository, Keyring
from mindkeeper.core.ports.auth import AuthRepository, Security
from mindkeeper.core.ports.derived import (
    ConclusionRepository,
    MessageIndexRepository,
    PeerCardRepository,
)
from mindkeeper.core.ports.jobs import DeriverPolicy, JobRepository
from mindkeeper.core.ports.models import DialecticPolicy, ModelRoles, UsageMeter
from mindkeeper.core.ports.operations import OperationsRepository
from mindkeeper.core.ports.scopes import ScopeRepository
from mindkeeper.core.ports.webhooks import WebhookRepository, WebhookTransport
from mindkeeper.core.values import MetadataFilter, Page, PageRequest


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed model and dimension."""

    model_id: str
    dim: int

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, dim) float32 array, one unit-length row per text."""
        ...


class TokenCounter(Protocol):
    """Counts the tokens of a text (o200k_base, as Honcho's `token_count`)."""

    def count(self, text: str) -> int:
        """Return the number of tokens of `text`."""
        ...

    def warm(self) -> None:
        """Start loading what counting needs, without waiting for it."""
        ...


class WorkspaceRepository(Protocol):
    """Workspaces (Honcho apps); names are globally unique."""

    async def get(self, workspace_id: str) -> Workspace | None:
        """Return the workspace with that public id."""
        ...

    async def get_by_name(self, name: str) -> Workspace | None:
        """Return the workspace with that exact name."""
        ...

    async def create(
        self,
        name: str,
        metadata: JSONObject,
        now: datetime,
        configuration: JSONObject | None = None,
    ) -> Workspace:
        """Insert a workspace; AlreadyExists when the name is taken."""
        ...

    async def list(self, filter: MetadataFilter, page: PageRequest) -> Page[Workspace]:
        """Return a page in insertion order."""
        ...

    async def update(
        self,
        workspace_id: str,
        name: str | None,
        metadata: JSONObject | None,
        configuration: JSONObject | None = None,
    ) -> Workspace | None:
        """Change the given fields; None when missing; AlreadyExists on a taken name."""
        ...

    async def list_by_creation(
        self, page: PageRequest, where: Node | None = None
    ) -> Page[Workspace]:
        """Return a page ordered by `created_at` (then insertion), filtered by `where`."""
        ...

    async def purge(self, workspace_id: str) -> None:
        """Remove the workspace and every row that carries its id, in every table."""
        ...


class PeerRepository(Protocol):
    """Peers (Honcho users); names are unique per workspace."""

    async def get(self, workspace_id: str, peer_id: str) -> Peer | None:
        """Return the peer of that workspace."""
        ...

    async def get_by_name(self, workspace_id: str, name: str) -> Peer | None:
        """Return the peer with that exact name in the workspace."""
        ...

    async def create(
        self,
        workspace_id: str,
        name: str,
        metadata: JSONObject,
        now: datetime,
        synthetic: bool = False,
        configuration: JSONObject | None = None,
    ) -> Peer:
        """Insert a peer; AlreadyExists on a taken name; NotFound for a missing workspace."""
        ...

    async def get_many(
        self, workspace_id: str, peer_ids: Sequence[str] = (), names: Sequence[str] = ()
    ) -> builtins.list[Peer]:
        """Return the workspace's peers with those public ids or names (any order)."""
        ...

    async def list_by_creation(
        self, workspace_id: str, page: PageRequest, where: Node | None = None
    ) -> Page[Peer]:
        """Return a page of every peer of the workspace ordered by `created_at`."""
        ...

    async def list(
        self,
        workspace_id: str,
        filter: MetadataFilter,
        page: PageRequest,
        include_synthetic: bool = False,
    ) -> Page[Peer]:
        """Return a page of the workspace's peers in insertion order."""
        ...

    async def update(
        self,
        workspace_id: str,
        peer_id: str,
        name: str | None,
        metadata: JSONObject | None,
        synthetic: bool | None = None,
        configuration: JSONObject | None = None,
    ) -> Peer | None:
        """Change the given fields; None when missing; AlreadyExists on a taken name."""
        ...


class SessionRepository(Protocol):
    """Sessions of a peer."""

    async def get(self, workspace_id: str, peer_id: str, session_id: str) -> Session | None:
        """Return the session of that peer."""
        ...

    async def create(
        self, workspace_id: str, peer_id: str, metadata: JSONObject, now: datetime
    ) -> Session:
        """Insert an active session."""
        ...

    async def list(
        self,
        workspace_id: str,
        peer_id: str,
        filter: MetadataFilter,
        active_only: bool,
        page: PageRequest,
    ) -> Page[Session]:
        """Return a page of the peer's sessions in insertion order."""
        ...

    async def update(
        self,
        workspace_id: str,
        peer_id: str,
        session_id: str,
        metadata: JSONObject | None = None,
        is_active: bool | None = None,
    ) -> Session | None:
        """Change the given fields; None when missing."""
        ...

    async def add_message_count(self, session_id: str, delta: int) -> int:
        """Keep the session's message counter in step with inserts; return the new count."""
        ...

    async def message_count(self, workspace_id: str, peer_id: str, session_id: str) -> int | None:
        """Return the message count of the peer's session; None when there is no such session."""
        ...

    async def get_by_name(self, workspace_id: str, name: str) -> Session | None:
        """Return a session of the workspace by name (any owner)."""
        ...

    async def name_of(self, workspace_id: str, session_id: str) -> str | None:
        """Return the name of the workspace's session with that public id."""
        ...

    async def count_messages(self, session_id: str) -> int:
        """Return the session's message counter (0 for a missing session)."""
        ...

    async def create_named(
        self,
        workspace_id: str,
        name: str,
        metadata: JSONObject,
        configuration: JSONObject,
        now: datetime,
    ) -> Session:
        """Insert an active session without an owner; AlreadyExists on a taken name."""
        ...

    async def change(
        self,
        workspace_id: str,
        session_id: str,
        metadata: JSONObject | None = None,
        configuration: JSONObject | None = None,
        is_active: bool | None = None,
    ) -> Session | None:
        """Change the given fields of a session of the workspace; None when missing."""
        ...

    async def list_in_workspace(
        self, workspace_id: str, page: PageRequest, active_only: bool, where: Node | None = None
    ) -> Page[Session]:
        """Return a page of the workspace's sessions ordered by `created_at`."""
        ...

    async def list_of_member(
        self, workspace_id: str, peer_id: str, page: PageRequest, where: Node | None = None
    ) -> Page[Session]:
        """Return a page of the sessions the peer ever joined (active or not), by `created_at`."""
        ...

    async def has_active(self, workspace_id: str) -> bool:
        """True when the workspace has at least one active session."""
        ...

    async def purge(self, workspace_id: str, session_id: str) -> None:
        """Remove the session with its messages, members, notes, conclusions and jobs."""
        ...


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to insert; the sender defaults to the session's owner."""

    content: str
    is_user: bool
    metadata: JSONObject
    sender_id: str | None = None
    token_count: int = 0
    #: A client-chosen creation time (None: the transaction's time).
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MemberSettings:
    """A peer's observation settings in one session (None: inherit)."""

    observe_me: bool | None = None
    observe_others: bool | None = None


class MemberRepository(Protocol):
    """Who takes part in a session, with per-session observation settings."""

    async def list(self, session_id: str, active_only: bool = True) -> builtins.list[Member]:
        """Return the session's members in the order they first joined."""
        ...

    async def get(self, workspace_id: str, session_id: str, peer_id: str) -> Member | None:
        """Return the peer's membership row (active or left)."""
        ...

    async def join(
        self,
        workspace_id: str,
        session_id: str,
        settings: Sequence[tuple[str, MemberSettings | None]],
        now: datetime,
    ) -> None:
        """Make the peers active members. A new or returning member takes the given settings
        (None: defaults for a new one, its stored ones for a returning one); an active member
        keeps its settings and its join time."""
        ...

    async def replace_settings(
        self, workspace_id: str, session_id: str, peer_id: str, settings: MemberSettings
    ) -> None:
        """Overwrite the settings of an existing membership row."""
        ...

    async def leave(
        self, workspace_id: str, session_id: str, peer_ids: Sequence[str] | None, now: datetime
    ) -> None:
        """Mark the given active members (every one when None) as left."""
        ...

    async def peers(self, workspace_id: str, session_id: str, page: PageRequest) -> Page[Peer]:
        """Return a page of the session's active members as peers, in joining order."""
        ...

    async def copy(self, workspace_id: str, source_id: str, target_id: str, now: datetime) -> None:
        """Give the target session the source's membership rows and settings."""
        ...


class MessageRepository(Protocol):
    """Messages of a session, ordered by insertion."""

    async def add_many(
        self,
        session: Session,
        messages: Sequence[NewMessage],
        now: datetime,
        first_seq: int = 1,
    ) -> builtins.list[Message]:
        """Insert messages in order (positions from `first_seq`) and return them."""
        ...

    async def get(
        self, workspace_id: str, peer_id: str, session_id: str, message_id: str
    ) -> Message | None:
        """Return one message of that session."""
        ...

    async def get_in_session(self, session_id: str, message_id: str) -> Message | None:
        """Return the message if it belongs to the session."""
        ...

    async def list(
        self,
        workspace_id: str,
        peer_id: str,
        session_id: str,
        filter: MetadataFilter,
        page: PageRequest,
        known_total: int | None = None,
    ) -> Page[Message]:
        """Return a page; `known_total` skips the count when no filter applies."""
        ...

    async def list_all(
        self, session_id: str, up_to_key: int | None = None
    ) -> builtins.list[Message]:
        """Return every message of the session in order, up to an internal key (inclusive)."""
        ...

    async def update_metadata(
        self,
        workspace_id: str,
        peer_id: str,
        session_id: str,
        message_id: str,
        metadata: JSONObject,
    ) -> Message | None:
        """Replace a message's metadata; None when missing."""
        ...

    async def find(self, workspace_id: str, session_id: str, message_id: str) -> Message | None:
        """Return one message of a session of the workspace (any owner)."""
        ...

    async def set_metadata(
        self, workspace_id: str, session_id: str, message_id: str, metadata: JSONObject
    ) -> Message | None:
        """Replace the metadata of a message of a session of the workspace; None when missing."""
        ...

    async def list_in_session(
        self,
        workspace_id: str,
        session_id: str,
        page: PageRequest,
        known_total: int | None = None,
        where: Node | None = None,
    ) -> Page[Message]:
        """Return a page of the session's messages in insertion order (any owner)."""
        ...


@dataclass(frozen=True, slots=True)
class NoteQuery:
    """Exact-match filters of a note listing; None means any."""

    session_id: str | None = None
    message_id: str | None = None
    label: str | None = None
    filter: MetadataFilter = None


class NoteRepository(Protocol):
    """Notes (Honcho metamessages) owned by a peer."""

    async def create(
        self,
        workspace_id: str,
        peer_id: str,
        label: str,
        content: str,
        session_id: str | None,
        message_id: str | None,
        metadata: JSONObject,
        now: datetime,
    ) -> Note:
        """Insert a note."""
        ...

    async def add_copies(self, notes: Sequence[Note], now: datetime) -> None:
        """Insert copies of notes (new ids) in the given order."""
        ...

    async def get(self, workspace_id: str, peer_id: str, note_id: str) -> Note | None:
        """Return one note of the peer."""
        ...

    async def list(
        self, workspace_id: str, peer_id: str, query: NoteQuery, page: PageRequest
    ) -> Page[Note]:
        """Return a page of the peer's notes in insertion order."""
        ...

    async def list_for_session(self, session_id: str) -> builtins.list[Note]:
        """Return every note tied to the session, in insertion order."""
        ...

    async def update(
        self,
        workspace_id: str,
        peer_id: str,
        note_id: str,
        session_id: str | None,
        message_id: str | None,
        label: str | None,
        metadata: JSONObject | None,
    ) -> Note | None:
        """Change the given fields; None when missing."""
        ...


class CollectionRepository(Protocol):
    """Collections of a peer; names are unique per peer."""

    async def get(self, workspace_id: str, peer_id: str, collection_id: str) -> Collection | None:
        """Return the collection of that peer."""
        ...

    async def get_by_name(self, workspace_id: str, peer_id: str, name: str) -> Collection | None:
        """Return the peer's collection with that exact name."""
        ...

    async def create(
        self, workspace_id: str, peer_id: str, name: str, metadata: JSONObject, now: datetime
    ) -> Collection:
        """Insert a collection; AlreadyExists on a taken name."""
        ...

    async def list(
        self, workspace_id: str, peer_id: str, filter: MetadataFilter, page: PageRequest
    ) -> Page[Collection]:
        """Return a page of the peer's collections in insertion order."""
        ...

    async def update(
        self,
        workspace_id: str,
        peer_id: str,
        collection_id: str,
        name: str | None,
        metadata: JSONObject | None,
    ) -> Collection | None:
        """Change the given fields; None when missing; AlreadyExists on a taken name."""
        ...

    async def delete(self, collection_id: str) -> None:
        """Remove the collection and all its documents."""
        ...


@dataclass(frozen=True, slots=True)
class StoredVector:
    """An embedding with the model that produced it."""

    vector: np.ndarray
    model: str


class DocumentRepository(Protocol):
    """Documents of a collection, with embeddings for search."""

    async def create(
        self,
        collection: Collection,
        content: str,
        metadata: JSONObject,
        embedding: StoredVector | None,
        now: datetime,
    ) -> Document:
        """Insert a document."""
        ...

    async def get(
        self, workspace_id: str, peer_id: str, collection_id: str, document_id: str
    ) -> Document | None:
        """Return one document of the collection."""
        ...

    async def list(
        self,
        workspace_id: str,
        peer_id: str,
        collection_id: str,
        filter: MetadataFilter,
        page: PageRequest,
    ) -> Page[Document]:
        """Return a page of the collection's documents in insertion order."""
        ...

    async def update(
        self,
        workspace_id: str,
        peer_id: str,
        collection_id: str,
        document_id: str,
        content: str | None,
        metadata: JSONObject | None,
        embedding: StoredVector | None,
        now: datetime,
    ) -> Document | None:
        """Change the given fields (new content resets `created_at`); None when missing."""
        ...

    async def delete(self, document_id: str) -> None:
        """Remove the document."""
        ...

    async def nearest(
        self,
        workspace_id: str,
        peer_id: str,
        collection_id: str,
        query: StoredVector,
        filter: MetadataFilter,
        top_k: int,
        max_distance: float | None = None,
    ) -> builtins.list[Document]:
        """Return up to top_k documents embedded by the same model, by cosine distance."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository; the use case commits once."""

    @property
    def workspaces(self) -> WorkspaceRepository:
        """The workspaces of this transaction."""
        ...

    @property
    def peers(self) -> PeerRepository:
        """The peers of this transaction."""
        ...

    @property
    def sessions(self) -> SessionRepository:
        """The sessions of this transaction."""
        ...

    @property
    def members(self) -> MemberRepository:
        """The session members of this transaction."""
        ...

    @property
    def messages(self) -> MessageRepository:
        """The messages of this transaction."""
        ...

    @property
    def notes(self) -> NoteRepository:
        """The notes of this transaction."""
        ...

    @property
    def collections(self) -> CollectionRepository:
        """The collections of this transaction."""
        ...

    @property
    def documents(self) -> DocumentRepository:
        """The documents of this transaction."""
        ...

    @property
    def conclusions(self) -> ConclusionRepository:
        """The conclusions of this transaction."""
        ...

    @property
    def peer_cards(self) -> PeerCardRepository:
        """The peer cards of this transaction."""
        ...

    @property
    def message_index(self) -> MessageIndexRepository:
        """Message vectors, message search and context reads of this transaction."""
        ...

    @property
    def agents(self) -> AgentRepository:
        """The agents of this transaction."""
        ...

    @property
    def agentcore(self) -> AgentCoreRepository:
        """Memory resources (AgentCore), their events, records and tokens."""
        ...

    @property
    def jobs(self) -> JobRepository:
        """The job queue (and the deriver's reads) of this transaction."""
        ...

    @property
    def auth(self) -> AuthRepository:
        """Revocations, access keys and owner lookups of this transaction."""
        ...

    @property
    def webhooks(self) -> WebhookRepository:
        """The webhook endpoints of this transaction."""
        ...

    @property
    def scopes(self) -> ScopeRepository:
        """The scopes of this transaction."""
        ...

    @property
    def operations(self) -> OperationsRepository:
        """Operators' reads and actions (keyset pages, gauges, dead letters) of this transaction."""
        ...

    async def __aenter__(self) -> Self:
        """Begin the transaction."""
        ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back anything not committed and release the connection."""
        ...

    async def commit(self) -> None:
        """Make the transaction's writes durable."""
        ...


class Runtime(Protocol):
    """What a wire surface needs from the composition root."""

    embedder: Embedder | None
    tokens: TokenCounter
    keyring: Keyring
    agent_policy: AgentPolicy
    models: ModelRoles
    usage: UsageMeter
    deriver_policy: DeriverPolicy
    dialectic_policy: DialecticPolicy
    #: True when this process runs the deriver worker (`MINDKEEPER_WORKER_ENABLED`).
    worker_enabled: bool
    security: Security
    #: Delivers webhook events (and holds their signing secret).
    webhooks: WebhookTransport

    def uow(self, write: bool = True) -> UnitOfWork:
        """Return a fresh unit of work (read-only ones take no writer lock)."""
        ...

    def now(self) -> datetime:
        """Return the current time from the injected clock."""
        ...

    async def readiness(self) -> dict[str, object]:
        """Report whether the database is reachable and migrated (key `ready`: bool)."""
        ...

    async def close(self) -> None:
        """Release connections and background tasks."""
        ...
