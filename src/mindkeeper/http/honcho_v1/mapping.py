"""Entity -> Honcho v1 JSON, with upstream's key order and timestamp format."""

from __future__ import annotations

from typing import Any

from mindkeeper.core.entities import Collection, Document, Message, Note, Peer, Session, Workspace
from mindkeeper.http.responses import page as page
from mindkeeper.http.responses import timestamp


def app(w: Workspace) -> dict[str, Any]:
    """An App."""
    return {
        "id": w.id,
        "name": w.name,
        "metadata": w.metadata,
        "created_at": timestamp(w.created_at),
    }


def user(p: Peer) -> dict[str, Any]:
    """A User."""
    return {
        "id": p.id,
        "name": p.name,
        "app_id": p.workspace_id,
        "created_at": timestamp(p.created_at),
        "metadata": p.metadata,
    }


def session(s: Session) -> dict[str, Any]:
    """A Session."""
    return {
        "id": s.id,
        "is_active": s.is_active,
        "user_id": s.peer_id,
        "app_id": s.workspace_id,
        "metadata": s.metadata,
        "created_at": timestamp(s.created_at),
    }


def message(m: Message) -> dict[str, Any]:
    """A Message."""
    return {
        "id": m.id,
        "content": m.content,
        "is_user": m.is_user,
        "session_id": m.session_id,
        "metadata": m.metadata,
        "created_at": timestamp(m.created_at),
        "app_id": m.workspace_id,
        "user_id": m.peer_id,
    }


def metamessage(n: Note) -> dict[str, Any]:
    """A Metamessage (`metamessage_type` mirrors `label`)."""
    return {
        "id": n.id,
        "label": n.label,
        "content": n.content,
        "user_id": n.peer_id,
        "app_id": n.workspace_id,
        "session_id": n.session_id,
        "message_id": n.message_id,
        "metadata": n.metadata,
        "created_at": timestamp(n.created_at),
        "metamessage_type": n.label,
    }


def collection(c: Collection) -> dict[str, Any]:
    """A Collection."""
    return {
        "id": c.id,
        "name": c.name,
        "user_id": c.peer_id,
        "app_id": c.workspace_id,
        "metadata": c.metadata,
        "created_at": timestamp(c.created_at),
    }


def document(d: Document) -> dict[str, Any]:
    """A Document (never with its embedding)."""
    return {
        "id": d.id,
        "content": d.content,
        "metadata": d.metadata,
        "created_at": timestamp(d.created_at),
        "collection_id": d.collection_id,
        "app_id": d.workspace_id,
        "user_id": d.peer_id,
    }
