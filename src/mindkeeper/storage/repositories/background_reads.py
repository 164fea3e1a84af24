"""Reads of background work (the deriver's view of a session, the reindex's stale documents).

Mixed into `SqlJobRepository`, so they run inside the same unit of work as the queue; the
reindex's vector update lives here too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import func, or_, select, update

from mindkeeper.core.entities import Message, Note
from mindkeeper.core.ports.jobs import StaleDocument
from mindkeeper.storage.repositories.base import Repository
from mindkeeper.storage.repositories.messages import to_message
from mindkeeper.storage.repositories.notes import to_note
from mindkeeper.storage.tables import documents, messages, notes


class SqlBackgroundReads(Repository):
    """The deriver's and the reindex's queries."""

    async def latest_note(self, session_id: str, label: str) -> tuple[Note, int] | None:
        """The session's newest note with that label and its anchor message's key."""
        stmt = (
            select(notes, func.coalesce(messages.c.id, 0).label("anchor_key"))
            .select_from(notes.outerjoin(messages, messages.c.public_id == notes.c.message_id))
            .where(notes.c.session_id == session_id, notes.c.label == label)
            .order_by(notes.c.id.desc())
            .limit(1)
        )
        row = (await self.conn.execute(stmt)).first()
        return None if row is None else (to_note(row), int(row.anchor_key))

    async def count_messages(self, session_id: str, after_key: int, up_to_key: int) -> int:
        """Count messages in (after_key, up_to_key]."""
        stmt = select(func.count()).where(
            messages.c.session_id == session_id,
            messages.c.id > after_key,
            messages.c.id <= up_to_key,
        )
        return int((await self.conn.execute(stmt)).scalar_one())

    async def messages_window(
        self, session_id: str, after_key: int, up_to_key: int, limit: int
    ) -> list[Message]:
        """The last `limit` messages in (after_key, up_to_key], oldest first."""
        stmt = (
            select(messages)
            .where(
                messages.c.session_id == session_id,
                messages.c.id > after_key,
                messages.c.id <= up_to_key,
            )
            .order_by(messages.c.id.desc())
            .limit(limit)
        )
        rows = list(await self.conn.execute(stmt))
        return [to_message(r) for r in reversed(rows)]

    async def newest_user_message(self, session_id: str) -> Message | None:
        """The session's newest message written by the peer."""
        stmt = (
            select(messages)
            .where(messages.c.session_id == session_id, messages.c.is_user.is_(True))
            .order_by(messages.c.id.desc())
            .limit(1)
        )
        return await self.first(stmt, to_message)

    def _stale(self, model_id: str) -> Any:
        return or_(documents.c.embedding_model.is_(None), documents.c.embedding_model != model_id)

    async def count_stale_documents(self, model_id: str) -> int:
        """Count documents not embedded by `model_id`."""
        stmt = select(func.count()).select_from(documents).where(self._stale(model_id))
        return int((await self.conn.execute(stmt)).scalar_one())

    async def stale_documents(
        self, model_id: str, after_key: int, limit: int
    ) -> list[StaleDocument]:
        """The next documents (by key) not embedded by `model_id`."""
        stmt = (
            select(documents.c.id, documents.c.content)
            .where(self._stale(model_id), documents.c.id > after_key)
            .order_by(documents.c.id)
            .limit(limit)
        )
        return [StaleDocument(int(r.id), r.content) for r in await self.conn.execute(stmt)]

    async def set_embedding(
        self, key: int, vector: np.ndarray, model_id: str, expected_content: str
    ) -> bool:
        """Store a new vector unless the document's content changed meanwhile."""
        result = await self.conn.execute(
            update(documents)
            .where(documents.c.id == key, documents.c.content == expected_content)
            .values(
                embedding=np.asarray(vector, dtype=np.float32),
                embedding_model=model_id,
                embedding_dim=int(vector.shape[0]),
            )
        )
        return bool(result.rowcount)
