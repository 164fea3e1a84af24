"""Notes (Honcho metamessages) owned by a peer."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from mindkeeper.core.entities import JSONObject, Note
from mindkeeper.core.ports import NoteQuery
from mindkeeper.core.values import Page, PageRequest, new_id
from mindkeeper.storage.repositories.base import DbRow, Repository, translate_integrity
from mindkeeper.storage.tables import notes as t


def to_note(row: DbRow) -> Note:
    """Map a row to the entity."""
    return Note(
        row.id,
        row.public_id,
        row.label,
        row.content,
        row.peer_id,
        row.workspace_id,
        row.session_id,
        row.message_id,
        row.metadata,
        row.created_at,
    )


class SqlNoteRepository(Repository):
    """SQL notes."""

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
        row = (
            await self.conn.execute(
                insert(t)
                .values(
                    public_id=new_id(),
                    label=label,
                    content=content,
                    session_id=session_id,
                    message_id=message_id,
                    workspace_id=workspace_id,
                    peer_id=peer_id,
                    metadata=metadata,
                    created_at=now,
                )
                .returning(t)
            )
        ).one()
        return to_note(row)

    async def add_copies(self, notes: Sequence[Note], now: datetime) -> None:
        """Insert copies of the given notes with fresh ids, in order."""
        if not notes:
            return
        rows = [
            {
                "public_id": new_id(),
                "label": n.label,
                "content": n.content,
                "session_id": n.session_id,
                "message_id": n.message_id,
                "workspace_id": n.workspace_id,
                "peer_id": n.peer_id,
                "metadata": n.metadata,
                "created_at": now,
            }
            for n in notes
        ]
        for row in rows:
            await self.conn.execute(insert(t).values(row))

    async def get(self, workspace_id: str, peer_id: str, note_id: str) -> Note | None:
        """Return one note of the peer."""
        stmt = select(t).where(
            t.c.public_id == note_id, t.c.peer_id == peer_id, t.c.workspace_id == workspace_id
        )
        return await self.first(stmt, to_note)

    async def list(
        self, workspace_id: str, peer_id: str, query: NoteQuery, page: PageRequest
    ) -> Page[Note]:
        """Return a page of the peer's notes matching the query."""
        stmt = select(t).where(t.c.workspace_id == workspace_id, t.c.peer_id == peer_id)
        if query.session_id:
            stmt = stmt.where(t.c.session_id == query.session_id)
        if query.message_id:
            stmt = stmt.where(t.c.message_id == query.message_id)
        if query.label:
            stmt = stmt.where(t.c.label == query.label)
        return await self.paginate(self.with_filter(stmt, t, query.filter), t, page, to_note)

    async def list_for_session(self, session_id: str) -> builtins.list[Note]:
        """Return the session's notes in insertion order."""
        rows = await self.conn.execute(
            select(t).where(t.c.session_id == session_id).order_by(t.c.id)
        )
        return [to_note(r) for r in rows]

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
        """Change the given fields."""
        values: dict[str, Any] = {}
        for key, value in (
            ("session_id", session_id),
            ("message_id", message_id),
            ("label", label),
            ("metadata", metadata),
        ):
            if value is not None:
                values[key] = value
        if not values:
            return await self.get(workspace_id, peer_id, note_id)
        with translate_integrity("Metamessage update failed", "Session not found"):
            row = (
                await self.conn.execute(
                    update(t)
                    .where(
                        t.c.public_id == note_id,
                        t.c.peer_id == peer_id,
                        t.c.workspace_id == workspace_id,
                    )
                    .values(**values)
                    .returning(t)
                )
            ).first()
        return None if row is None else to_note(row)
