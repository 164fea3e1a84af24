"""Every table, one module per area, re-exported here so `metadata` is complete.

`memory` (workspaces, peers, sessions, members, messages, notes, collections, documents),
`agents` (Bedrock agent sessions, invocations, steps), `jobs` (the durable queue and vector
indexes), `auth` (revoked keys, SigV4 access keys).
"""

from __future__ import annotations

from mindkeeper.storage.schema import metadata
from mindkeeper.storage.tables import agents, auth, jobs
from mindkeeper.storage.tables.memory import (
    CONTENT_MAX,
    NAME_MAX,
    PUBLIC_ID_LENGTH,
    collections,
    documents,
    messages,
    notes,
    peers,
    sessions,
    workspaces,
)

__all__ = [
    "CONTENT_MAX",
    "NAME_MAX",
    "PUBLIC_ID_LENGTH",
    "agents",
    "auth",
    "collections",
    "documents",
    "jobs",
    "messages",
    "metadata",
    "notes",
    "peers",
    "sessions",
    "workspaces",
]
