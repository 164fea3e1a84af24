"""Every table, one module per area, re-exported here so `metadata` is complete.

`memory` (workspaces, peers, sessions, members, messages, notes, collections, documents),
`derived` (peer cards, message vectors), `agents` (Bedrock agent sessions, invocations,
steps), `jobs` (the durable queue and vector indexes), `webhooks` (endpoints), `auth`
(revoked keys, SigV4 access keys), `agentcore` (memory resources, idempotency tokens).
"""

from __future__ import annotations

from sqlalchemy import Table

from mindkeeper.storage.schema import metadata
from mindkeeper.storage.tables import agentcore, agents, auth, derived, jobs, webhooks
from mindkeeper.storage.tables.memory import (
    CONTENT_MAX,
    NAME_MAX,
    PUBLIC_ID_LENGTH,
    collections,
    documents,
    messages,
    notes,
    peers,
    session_peers,
    sessions,
    workspaces,
)

#: The tenant key of a workspace's rows (the `public_id` of `workspaces`).
WORKSPACE_KEY = "workspace_id"


def workspace_tables() -> list[Table]:
    """The tables that hold rows of one workspace (a `workspace_id` column), parents first
    (`workspaces`, the tenant itself, not among them)."""
    return [t for t in metadata.sorted_tables if WORKSPACE_KEY in t.c]


__all__ = [
    "CONTENT_MAX",
    "NAME_MAX",
    "PUBLIC_ID_LENGTH",
    "WORKSPACE_KEY",
    "agentcore",
    "agents",
    "auth",
    "collections",
    "derived",
    "documents",
    "jobs",
    "messages",
    "metadata",
    "notes",
    "peers",
    "session_peers",
    "sessions",
    "webhooks",
    "workspace_tables",
    "workspaces",
]
