"""Request bodies of the v3 surface, with upstream's limits and error messages (reference §1.3,
§1.5). Unknown fields are ignored, as upstream."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from mindkeeper.core.ports.scopes import SCOPE_PEER_PREFIX
from mindkeeper.core.ports.webhooks import public_address

NAME_PATTERN = r"^[a-zA-Z0-9_-]+$"
NAME_MAX = 512
METADATA_KEYS_MAX = 100
METADATA_DEPTH_MAX = 5
MESSAGE_CONTENT_MAX = 25_000
BATCH_MAX = 100

Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX, pattern=NAME_PATTERN)]
#: A scope's name: a name that leaves room for the prefix of its hidden peer's name.
SCOPE_NAME_MAX = NAME_MAX - len(SCOPE_PEER_PREFIX)
ScopeName = Annotated[str, Field(min_length=1, max_length=SCOPE_NAME_MAX, pattern=NAME_PATTERN)]
#: Scopes one request may name.
SCOPES_MAX = 100
#: The `scope` option of the recall routes: one scope name, or a list of them (their sessions'
#: union; an empty list recalls nothing).
RecallScope = (
    Annotated[str, Field(min_length=1)]
    | Annotated[list[Annotated[str, Field(min_length=1)]], Field(max_length=SCOPES_MAX)]
    | None
)


def _strip_nul(value: Any) -> Any:
    """Remove NUL characters from every string key and value (iteratively, no recursion)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    root: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        parent, key = stack.pop()
        item = parent[key]
        if isinstance(item, str):
            parent[key] = item.replace("\x00", "")
        elif isinstance(item, dict):
            if any("\x00" in k for k in item):
                cleaned = {k.replace("\x00", ""): v for k, v in item.items()}
                parent[key] = item = cleaned
            stack.extend((item, k) for k in item)
        elif isinstance(item, list):
            stack.extend((item, i) for i in range(len(item)))
    return root[0]


def _depth(value: Any) -> int:
    """Nesting depth of JSON objects and arrays (an object counts as 1)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level) for v in item)
    return deepest


def check_metadata(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """At most 100 top-level keys, nesting depth at most 5; NUL characters removed."""
    if value is None:
        return None
    if len(value) > METADATA_KEYS_MAX:
        raise ValueError(f"Metadata exceeds maximum of {METADATA_KEYS_MAX} top-level keys")
    if _depth(value) > METADATA_DEPTH_MAX:
        raise ValueError(f"Metadata nesting exceeds maximum depth of {METADATA_DEPTH_MAX}")
    cleaned: dict[str, Any] = _strip_nul(value)
    return cleaned


Metadata = Annotated[dict[str, Any], AfterValidator(check_metadata)]
OptionalMetadata = Annotated[dict[str, Any] | None, AfterValidator(check_metadata)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _NamedBody(_Body):
    """A get-or-create body: `name` stands for `id` when `id` is absent."""

    @model_validator(mode="before")
    @classmethod
    def _name_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "id" not in data and "name" in data:
            return {**data, "id": data["name"]}
        return data


class ReasoningConfig(_Body):
    """`reasoning` of a workspace, session or message configuration."""

    enabled: bool | None = None
    custom_instructions: str | None = None


class PeerCardConfig(_Body):
    """`peer_card` of a workspace or session configuration."""

    use: bool | None = None
    create: bool | None = None


class SummaryConfig(_Body):
    """`summary` of a workspace or session configuration."""

    enabled: bool | None = None
    messages_per_short_summary: Annotated[int, Field(ge=10)] | None = None
    messages_per_long_summary: Annotated[int, Field(ge=20)] | None = None

    @model_validator(mode="after")
    def _order(self) -> SummaryConfig:
        short, long = self.messages_per_short_summary, self.messages_per_long_summary
        if short is not None and long is not None and short >= long:
            raise ValueError(
                "messages_per_short_summary must be less than messages_per_long_summary"
            )
        return self


class DreamConfig(_Body):
    """`dream` of a workspace or session configuration."""

    enabled: bool | None = None


class Configuration(BaseModel):
    """Workspace or session configuration; extra keys are kept verbatim."""

    model_config = ConfigDict(extra="allow")

    reasoning: ReasoningConfig | None = None
    peer_card: PeerCardConfig | None = None
    summary: SummaryConfig | None = None
    dream: DreamConfig | None = None

    def stored(self) -> dict[str, Any]:
        """The object to store: `null` leaves removed."""
        return _drop_nulls(self.model_dump(exclude_none=True))


def _drop_nulls(value: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (_drop_nulls(v) if isinstance(v, dict) else v) for k, v in value.items() if v is not None
    }


class WorkspaceCreate(_NamedBody):
    """POST /v3/workspaces."""

    id: Name
    metadata: Metadata = Field(default_factory=dict)
    configuration: Configuration = Field(default_factory=Configuration)


class WorkspaceUpdate(_Body):
    """PUT /v3/workspaces/{W}."""

    metadata: OptionalMetadata = None
    configuration: Configuration | None = None


class ListBody(_Body):
    """Body of the `POST .../list` routes (optional; `filters` may be null)."""

    filters: dict[str, Any] | None = None


class PeerCreate(_NamedBody):
    """POST .../peers (get or create)."""

    id: Name
    metadata: OptionalMetadata = None
    configuration: dict[str, Any] | None = None


class PeerUpdate(_Body):
    """PUT .../peers/{P}."""

    metadata: OptionalMetadata = None
    configuration: dict[str, Any] | None = None


class SessionPeerConfig(_Body):
    """A peer's settings in one session."""

    observe_me: bool | None = None
    observe_others: bool | None = None


#: Peers and their settings in a session, keyed by peer name (checked like any name).
SessionPeers = dict[Name, SessionPeerConfig]


class SessionCreate(_NamedBody):
    """POST .../sessions (get or create)."""

    id: Name
    metadata: OptionalMetadata = None
    peers: SessionPeers | None = None
    configuration: Configuration | None = None
    #: Scopes the session joins (each created when missing).
    scopes: Annotated[list[ScopeName], Field(max_length=SCOPES_MAX)] | None = None


class SessionUpdate(_Body):
    """PUT .../sessions/{S}."""

    metadata: OptionalMetadata = None
    configuration: Configuration | None = None


class MessageConfiguration(_Body):
    """Per-message configuration: only `reasoning` is recognised."""

    reasoning: ReasoningConfig | None = None


class MessageCreate(_Body):
    """One message of a batch."""

    peer_id: Name
    content: Annotated[str, Field(max_length=MESSAGE_CONTENT_MAX)]
    metadata: OptionalMetadata = None
    configuration: MessageConfiguration | None = None
    created_at: datetime | None = None

    @field_validator("content")
    @classmethod
    def _content(cls, value: str) -> str:
        return value.replace("\x00", "")

    @field_validator("created_at")
    @classmethod
    def _created_at(cls, value: datetime | None) -> datetime | None:
        return None if value is None else utc_datetime(value)


def utc_datetime(value: datetime) -> datetime:
    """The instant in UTC (a value without an offset is UTC); refuses instants outside the
    years 1-9999 once in UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("created_at is out of range") from None


class MessageBatch(_Body):
    """POST .../sessions/{S}/messages."""

    messages: Annotated[list[MessageCreate], Field(min_length=1, max_length=BATCH_MAX)]


class MessageUpdate(_Body):
    """PUT .../messages/{M}."""

    metadata: OptionalMetadata = None


CONCLUSION_CONTENT_MAX = 65_535
LIMIT_MAX = 100


class ConclusionCreate(_Body):
    """One conclusion of a batch."""

    content: Annotated[str, Field(min_length=1, max_length=CONCLUSION_CONTENT_MAX)]
    observer_id: str
    observed_id: str
    session_id: str | None = None

    @field_validator("content", "observer_id", "observed_id", "session_id")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else value.replace("\x00", "")


class ConclusionBatch(_Body):
    """POST .../conclusions (`observations` is an alias of `conclusions`)."""

    conclusions: Annotated[list[ConclusionCreate], Field(min_length=1, max_length=BATCH_MAX)]

    @model_validator(mode="before")
    @classmethod
    def _alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "conclusions" not in data and "observations" in data:
            return {**data, "conclusions": data["observations"]}
        return data


class ConclusionQuery(_Body):
    """POST .../conclusions/query."""

    query: str
    top_k: Annotated[int, Field(ge=1, le=LIMIT_MAX)] = 10
    distance: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    filters: dict[str, Any] | None = None


class MessageSearch(_Body):
    """POST .../search (workspace, peer, session)."""

    query: str
    filters: dict[str, Any] | None = None
    limit: Annotated[int, Field(ge=1, le=LIMIT_MAX)] = 10
    scope: RecallScope = None


class RepresentationRequest(_Body):
    """POST .../peers/{P}/representation."""

    session_id: str | None = None
    filters: dict[str, Any] | None = None
    target: str | None = None
    search_query: str | None = None
    search_top_k: Annotated[int, Field(ge=1, le=LIMIT_MAX)] | None = None
    search_max_distance: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    include_most_frequent: bool | None = None
    max_conclusions: Annotated[int, Field(ge=1, le=LIMIT_MAX)] | None = 25
    scope: RecallScope = None


class PeerCardSet(_Body):
    """PUT .../peers/{P}/card."""

    peer_card: list[str]


#: Longest webhook URL stored.
WEBHOOK_URL_MAX = 2048


def check_webhook_url(url: str) -> str:
    """Scheme and host present, and the scheme http or https, with upstream's messages; a URL
    with control characters, no host name or a bad port is an invalid format too."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ValueError("Invalid URL format") from None
    if not parts.scheme or not parts.netloc or any(c < " " or c == "\x7f" for c in url):
        raise ValueError("Invalid URL format")
    if parts.scheme not in ("http", "https"):
        raise ValueError("Only HTTP and HTTPS URLs are allowed")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        raise ValueError("Invalid URL format") from None
    if not parts.hostname:
        raise ValueError("Invalid URL format")
    return url


def private_url(url: str) -> bool:
    """True when the URL's host is an IP literal that is not public (upstream's rule)."""
    host = urlsplit(url).hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a host name: judged when a delivery resolves it
    return not public_address(address)


class WebhookEndpointCreate(_Body):
    """POST .../webhooks."""

    url: Annotated[str, Field(max_length=WEBHOOK_URL_MAX), AfterValidator(check_webhook_url)]
