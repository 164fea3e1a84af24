"""What a `filters` object may name on each list of this package (reference §4.1): the public
key, the logical column it reads (mapped to SQL by the repositories) and how it compares."""

from __future__ import annotations

from mindkeeper.core.filters import Field, Kind, ResourceSpec

_CREATED = Field("created_at", Kind.TIMESTAMP)
_METADATA = Field("metadata", Kind.JSON)

WORKSPACES = ResourceSpec(
    "Workspace",
    {"id": Field("name", Kind.TEXT), "created_at": _CREATED, "metadata": _METADATA},
    absent=frozenset({"is_active", "workspace_id", "session_id", "peer_id"}),
)
PEERS = ResourceSpec(
    "Peer",
    {
        "id": Field("name", Kind.TEXT),
        "created_at": _CREATED,
        "workspace_id": Field("workspace", Kind.TEXT),
        "metadata": _METADATA,
    },
    absent=frozenset({"is_active", "session_id", "peer_id"}),
)
SESSIONS = ResourceSpec(
    "Session",
    {
        "id": Field("name", Kind.TEXT),
        "created_at": _CREATED,
        "is_active": Field("is_active", Kind.BOOL),
        "workspace_id": Field("workspace", Kind.TEXT),
        "metadata": _METADATA,
    },
    absent=frozenset({"session_id", "peer_id"}),
)
#: Logical columns: `workspace`, `session`, `peer` (names), `token_count`, `created_at`,
#: `metadata`.
MESSAGES = ResourceSpec(
    "Message",
    {
        "workspace_id": Field("workspace", Kind.TEXT),
        "session_id": Field("session", Kind.TEXT),
        "peer_id": Field("peer", Kind.TEXT),
        "token_count": Field("token_count", Kind.NUMBER),
        "created_at": _CREATED,
        "metadata": _METADATA,
    },
)
