"""Entity -> Honcho v3 JSON, in upstream's key order (reference §1.4).

v3 addresses workspaces, peers and sessions by name: their `id` on the wire is the name, and
the server id is sent as `uid` (which the current SDK reads when present).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from mindkeeper.core.entities import Member, Message, Peer, Session, Workspace
from mindkeeper.core.ports.derived import Conclusion, NamedMessage
from mindkeeper.core.ports.webhooks import WebhookEndpoint
from mindkeeper.core.services.memory.summaries import Summary
from mindkeeper.http.responses import page as page
from mindkeeper.http.responses import timestamp as timestamp


def workspace(w: Workspace) -> dict[str, Any]:
    """A Workspace."""
    return {
        "id": w.name,
        "metadata": w.metadata,
        "configuration": w.configuration,
        "created_at": timestamp(w.created_at),
        "uid": w.id,
    }


def peer(p: Peer, workspace_name: str) -> dict[str, Any]:
    """A Peer."""
    return {
        "id": p.name,
        "workspace_id": workspace_name,
        "created_at": timestamp(p.created_at),
        "metadata": p.metadata,
        "configuration": p.configuration,
        "uid": p.id,
    }


def session(s: Session, workspace_name: str) -> dict[str, Any]:
    """A Session."""
    return {
        "id": s.name,
        "is_active": s.is_active,
        "workspace_id": workspace_name,
        "metadata": s.metadata,
        "configuration": s.configuration,
        "created_at": timestamp(s.created_at),
        "uid": s.id,
    }


def message(
    m: Message, workspace_name: str, session_name: str, peer_names: Mapping[str, str]
) -> dict[str, Any]:
    """A Message; `peer_names` maps sender ids to names."""
    return {
        "id": m.id,
        "content": m.content,
        "peer_id": peer_names.get(m.sender_id, m.sender_id),
        "session_id": session_name,
        "metadata": m.metadata,
        "created_at": timestamp(m.created_at),
        "workspace_id": workspace_name,
        "token_count": m.token_count,
    }


def peer_config(m: Member) -> dict[str, Any]:
    """A SessionPeerConfig."""
    return {"observe_me": m.observe_me, "observe_others": m.observe_others}


def conclusion(c: Conclusion) -> dict[str, Any]:
    """A Conclusion, then the fields the current SDK reads (`source_ids`, `times_derived`)."""
    return {
        "id": c.id,
        "content": c.content,
        "observer_id": c.observer,
        "observed_id": c.observed,
        "session_id": c.session,
        "level": c.level,
        "created_at": timestamp(c.created_at),
        "source_ids": c.source_ids or [],
        "times_derived": c.times_derived,
    }


def named_message(m: NamedMessage, workspace_name: str) -> dict[str, Any]:
    """A Message found by search or context (it carries its sender's and session's names)."""
    return message(m.message, workspace_name, m.session, {m.message.sender_id: m.sender})


def summary(s: Summary | None) -> dict[str, Any] | None:
    """A Summary (`created_at` to the second)."""
    if s is None:
        return None
    created = s.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "content": s.content,
        "message_id": s.message_id,
        "summary_type": s.kind,
        "created_at": created,
        "token_count": s.token_count,
    }


def webhook_endpoint(e: WebhookEndpoint, workspace_name: str) -> dict[str, Any]:
    """A WebhookEndpoint."""
    return {
        "id": e.id,
        "workspace_id": workspace_name,
        "url": e.url,
        "created_at": timestamp(e.created_at),
    }
