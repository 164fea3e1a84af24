"""Messages of a session, in insertion order."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, bindparam, insert, select, update

from mindkeeper.core.entities import JSONObject, Message, Session
from mindkeeper.core.filters import Node
from mindkeeper.core.ports import NewMessage
from mindkeeper.core.values import MetadataFilter, Page, PageRequest, new_id
from mindkeeper.storage.filters import apply_filter
from mindkeeper.storage.repositories.base import DbRow, Repository, storable
from mindkeeper.storage.tables import messages as t
from mindkeeper.storage.tables import peers, sessions, workspaces

#: Logical columns of message filters (names of the workspace, session and sender).
COLUMNS: dict[str, ColumnElement[Any]] = {
    "workspace": select(workspaces.c.name)
    .where(workspaces.c.public_id == t.c.workspace_id)
    .scalar_subquery(),
    "session": select(sessions.c.name)
    .where(sessions.c.public_id == t.c.session_id)
    .scalar_subquery(),
    "peer": select(peers.c.name).where(peers.c.public_id == t.c.sender_id).scalar_subquery(),
    "token_count": t.c.token_count,
    "created_at": t.c.created_at,
    "metadata": t.c.metadata,
}

_INSERT_ONE = insert(t).returning(t.c.id)
# Keys are matched back by public id, so the database may return rows in any order.
_INSERT_MANY = insert(t).returning(t.c.id, t.c.public_id)
_LIMIT = bindparam("limit", type_=Integer)
_OFFSET = bindparam("offset", type_=Integer)


def _page_statement(descending: bool) -> Any:
    """One unfiltered page: skip along the (session_id, id) index, then fetch only the page."""
    order = t.c.id.desc() if descending else t.c.id.asc()
    ids = (
        select(t.c.id)
        .where(t.c.session_id == bindparam("session_id"))
        .order_by(order)
        .limit(_LIMIT)
        .offset(_OFFSET)
    )
    return select(t).where(t.c.id.in_(ids)).order_by(order)


# Built once: the hot read path of an agent loop.
_PAGE = {descending: _page_statement(descending) for descending in (False, True)}


def page_window(
    total: int, offset: int, size: int, descending: bool
) -> tuple[bool, int, int, bool]:
    """Plan a page read from whichever end is nearer.

    Returns (descending, offset, limit, mirrored): a page near the end of a long session is
    read as a page near the start in the opposite order, then put back in order, so the
    rows skipped never exceed half the session.
    """
    end = min(offset + size, total)
    mirrored_offset = total - end
    if mirrored_offset < offset:
        return (not descending, mirrored_offset, end - offset, True)
    return (descending, offset, end - offset, False)


def to_message(row: DbRow) -> Message:
    """Map a row to the entity."""
    return Message(
        row.id,
        row.public_id,
        row.content,
        row.is_user,
        row.session_id,
        row.workspace_id,
        row.peer_id,
        row.metadata,
        row.created_at,
        row.sender_id,
        row.seq,
        row.token_count,
    )


class SqlMessageRepository(Repository):
    """SQL messages."""

    async def add_many(
        self,
        session: Session,
        messages: Sequence[NewMessage],
        now: datetime,
        first_seq: int = 1,
    ) -> builtins.list[Message]:
        """Insert messages in order (one statement) and return them in that order."""
        if not messages:
            return []
        rows: builtins.list[dict[str, Any]] = [
            {
                "public_id": new_id(),
                "session_id": session.id,
                "is_user": m.is_user,
                "content": m.content,
                "metadata": m.metadata,
                "workspace_id": session.workspace_id,
                "peer_id": session.peer_id,
                "sender_id": m.sender_id or session.peer_id,
                "seq": first_seq + i,
                "token_count": m.token_count,
                "created_at": m.created_at or now,
            }
            for i, m in enumerate(messages)
        ]
        if len(rows) == 1:
            row = (await self.conn.execute(_INSERT_ONE, rows[0])).one()
            keys = [row.id]
        else:
            result = await self.conn.execute(_INSERT_MANY, rows)
            by_public_id = {r.public_id: r.id for r in result}
            keys = [by_public_id[r["public_id"]] for r in rows]
        return [
            Message(
                key,
                r["public_id"],
                r["content"],
                r["is_user"],
                session.id,
                session.workspace_id,
                session.peer_id,
                r["metadata"],
                r["created_at"],
                r["sender_id"],
                r["seq"],
                r["token_count"],
            )
            for key, r in zip(keys, rows, strict=True)
        ]

    async def get(
        self, workspace_id: str, peer_id: str, session_id: str, message_id: str
    ) -> Message | None:
        """Return one message of the session."""
        stmt = select(t).where(
            t.c.public_id == message_id,
            t.c.session_id == session_id,
            t.c.peer_id == peer_id,
            t.c.workspace_id == workspace_id,
        )
        return await self.first(stmt, to_message)

    async def get_in_session(self, session_id: str, message_id: str) -> Message | None:
        """Return the message if it is in that session."""
        stmt = select(t).where(t.c.public_id == message_id, t.c.session_id == session_id)
        return await self.first(stmt, to_message)

    async def list(
        self,
        workspace_id: str,
        peer_id: str,
        session_id: str,
        filter: MetadataFilter,
        page: PageRequest,
        known_total: int | None = None,
    ) -> Page[Message]:
        """Return a page of the session's messages."""
        if not filter and known_total is not None:
            # `known_total` comes from the peer's own session row, so the scope is checked.
            return await self._counted_page(session_id, page, known_total)
        stmt = select(t).where(
            t.c.session_id == session_id,
            t.c.peer_id == peer_id,
            t.c.workspace_id == workspace_id,
        )
        stmt = self.with_filter(stmt, t, filter)
        return await self.paginate(stmt, t, page, to_message, None if filter else known_total)

    async def _counted_page(self, session_id: str, page: PageRequest, total: int) -> Page[Message]:
        """An unfiltered page of a session whose message count is known: one indexed range
        read from the nearer end, no COUNT."""
        if total <= page.offset:
            return Page(items=[], total=total, page=page.page, size=page.size)
        descending, offset, limit, mirrored = page_window(
            total, page.offset, page.size, page.reverse
        )
        params = {"session_id": session_id, "limit": limit, "offset": offset}
        items = [to_message(r) for r in await self.conn.execute(_PAGE[descending], params)]
        if mirrored:
            items.reverse()
        return Page(items=items, total=total, page=page.page, size=page.size)

    async def list_all(
        self, session_id: str, up_to_key: int | None = None
    ) -> builtins.list[Message]:
        """Return the session's messages in order, up to an internal key (inclusive)."""
        stmt = select(t).where(t.c.session_id == session_id)
        if up_to_key is not None:
            stmt = stmt.where(t.c.id <= up_to_key)
        rows = await self.conn.execute(stmt.order_by(t.c.id))
        return [to_message(r) for r in rows]

    async def update_metadata(
        self,
        workspace_id: str,
        peer_id: str,
        session_id: str,
        message_id: str,
        metadata: JSONObject,
    ) -> Message | None:
        """Replace the metadata of one message."""
        row = (
            await self.conn.execute(
                update(t)
                .where(
                    t.c.public_id == message_id,
                    t.c.session_id == session_id,
                    t.c.peer_id == peer_id,
                    t.c.workspace_id == workspace_id,
                )
                .values(metadata=metadata)
                .returning(t)
            )
        ).first()
        return None if row is None else to_message(row)

    async def find(self, workspace_id: str, session_id: str, message_id: str) -> Message | None:
        """Return one message of a session of the workspace, whoever owns the session."""
        if not storable(message_id):
            return None
        stmt = select(t).where(
            t.c.public_id == message_id,
            t.c.session_id == session_id,
            t.c.workspace_id == workspace_id,
        )
        return await self.first(stmt, to_message)

    async def set_metadata(
        self, workspace_id: str, session_id: str, message_id: str, metadata: JSONObject
    ) -> Message | None:
        """Replace the metadata of a message of a session of the workspace."""
        if not storable(message_id):
            return None
        row = (
            await self.conn.execute(
                update(t)
                .where(
                    t.c.public_id == message_id,
                    t.c.session_id == session_id,
                    t.c.workspace_id == workspace_id,
                )
                .values(metadata=metadata)
                .returning(t)
            )
        ).first()
        return None if row is None else to_message(row)

    async def list_in_session(
        self,
        workspace_id: str,
        session_id: str,
        page: PageRequest,
        known_total: int | None = None,
        where: Node | None = None,
    ) -> Page[Message]:
        """Return a page of the session's messages in insertion order."""
        if where is None and known_total is not None:
            return await self._counted_page(session_id, page, known_total)
        stmt = select(t).where(t.c.workspace_id == workspace_id, t.c.session_id == session_id)
        stmt = apply_filter(stmt, where, COLUMNS, self.dialect)
        return await self.paginate(stmt, t, page, to_message)
