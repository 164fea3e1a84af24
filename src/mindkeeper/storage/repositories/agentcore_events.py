"""Events of memory resources over the core tables: actors are peers, sessions are sessions
(the actor a member, `session_peers`), events are messages sent by the actor.

An event is a message whose `payload` is set; listings read the partial index
`(session_id, sender_id, created_at, id) WHERE payload IS NOT NULL` newest first, with a
keyset position, so a page costs one index range read whatever the session's length, and a
position survives deletions. Expired events (`expires_at` passed) are invisible before the
maintenance pass removes them. Peers, sessions and memberships are created with
`INSERT … ON CONFLICT DO NOTHING`, so concurrent first writes never collide.
"""

from __future__ import annotations

import builtins
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from mindkeeper.core.ports.agentcore import (
    Branch,
    BranchScope,
    EventQuery,
    MetadataCondition,
    NewEvent,
    SessionEntry,
    StoredEvent,
)
from mindkeeper.core.values import new_id
from mindkeeper.storage.dialects import json_contains
from mindkeeper.storage.repositories.base import DbRow, Repository
from mindkeeper.storage.tables import messages as msg
from mindkeeper.storage.tables import peers, session_peers, sessions
from mindkeeper.storage.tables.agentcore import agentcore_memories

_EVENT_COLUMNS = (
    msg.c.id,
    msg.c.public_id,
    msg.c.session_id,
    msg.c.sender_id,
    msg.c.created_at,
    msg.c.branch,
    msg.c.branch_root,
    msg.c.metadata,
    msg.c.expires_at,
)
_B = bindparam


def insert_for(dialect: str) -> Any:
    """The dialect's INSERT construct (it has ON CONFLICT)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _live(now: datetime) -> ColumnElement[bool]:
    return or_(msg.c.expires_at.is_(None), msg.c.expires_at > now)


def fixed(limit: int) -> Any:
    """A LIMIT written into the statement rather than bound: a cached (generic) plan on
    PostgreSQL then still knows that only a page is wanted, and keeps reading the index in
    order instead of sorting the whole session."""
    return literal_column(str(int(limit)))


def to_event(row: DbRow, with_payload: bool = True) -> StoredEvent:
    """Map a message row to a stored event."""
    branch = None if row.branch is None else Branch(row.branch, row.branch_root)
    payload = bytes(row.payload) if with_payload and row.payload is not None else None
    return StoredEvent(
        key=int(row.id),
        id=row.public_id,
        session_id=row.session_id,
        sender_id=row.sender_id,
        timestamp=row.created_at,
        payload_blob=payload,
        branch=branch,
        metadata=dict(row.metadata or {}),
        expires_at=row.expires_at,
    )


def _has_key(dialect: str, key: str) -> ColumnElement[bool]:
    """`metadata` has a top-level key (metadata keys never contain `"`)."""
    if dialect == "postgresql":
        return msg.c.metadata.op("?", return_type=Boolean)(key)
    return func.json_type(msg.c.metadata, f'$."{key}"').is_not(None)


def _condition(dialect: str, cond: MetadataCondition) -> ColumnElement[bool]:
    if cond.operator == "EQUALS_TO":
        return json_contains(dialect, msg.c.metadata, {cond.key: cond.value})
    if cond.operator == "EXISTS":
        return _has_key(dialect, cond.key)
    return not_(_has_key(dialect, cond.key))


def _at_or_before(position: tuple[datetime, int]) -> ColumnElement[bool]:
    at, key = position
    return and_(msg.c.created_at <= at, or_(msg.c.created_at < at, msg.c.id <= key))


def _branches(scope: BranchScope) -> ColumnElement[bool]:
    lines = []
    for name, cutoff in scope.lines:
        on_line = msg.c.branch.is_(None) if name is None else msg.c.branch == name
        lines.append(on_line if cutoff is None else and_(on_line, _at_or_before(cutoff)))
    return or_(*lines)


class SqlAgentCoreEvents(Repository):
    """SQL events, actors and sessions of memory resources."""

    async def _find_named(self, table: Table, workspace_id: str, name: str) -> str | None:
        stmt = select(table.c.public_id).where(
            table.c.workspace_id == workspace_id, table.c.name == name
        )
        value = (await self.conn.execute(stmt)).scalar()
        return None if value is None else str(value)

    async def _ensure_named(self, table: Table, workspace_id: str, name: str, now: datetime) -> str:
        """The public id of the peer or session of that name, created when missing."""
        found = await self._find_named(table, workspace_id, name)
        if found is not None:
            return found
        stmt = (
            insert_for(self.dialect)(table)
            .values(
                public_id=new_id(),
                name=name,
                workspace_id=workspace_id,
                metadata={},
                configuration={},
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["workspace_id", "name"])
        )
        await self.conn.execute(stmt)
        created = await self._find_named(table, workspace_id, name)
        assert created is not None
        return created

    async def find_peer(self, workspace_id: str, name: str) -> str | None:
        """The peer's public id."""
        return await self._find_named(peers, workspace_id, name)

    async def find_session(self, workspace_id: str, name: str) -> str | None:
        """The session's public id."""
        return await self._find_named(sessions, workspace_id, name)

    async def ensure_actor(self, workspace_id: str, name: str, now: datetime) -> str:
        """The peer's id, created when missing."""
        return await self._ensure_named(peers, workspace_id, name, now)

    async def ensure_session(
        self, workspace_id: str, name: str, peer_id: str, now: datetime
    ) -> str:
        """The session's id, created when missing, with the peer a member."""
        session_id = await self._ensure_named(sessions, workspace_id, name, now)
        member = (
            insert_for(self.dialect)(session_peers)
            .values(
                workspace_id=workspace_id, session_id=session_id, peer_id=peer_id, joined_at=now
            )
            .on_conflict_do_nothing(index_elements=["session_id", "peer_id"])
        )
        await self.conn.execute(member)
        return session_id

    async def add_event(self, new: NewEvent) -> bool:
        """Insert the event (after locking and counting in its session)."""
        await self.conn.execute(
            update(sessions)
            .where(sessions.c.public_id == new.session_id)
            .values(message_count=sessions.c.message_count + 1)
        )
        last_seq = (
            select(msg.c.seq)
            .where(msg.c.session_id == new.session_id)
            .order_by(msg.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        stmt = (
            insert_for(self.dialect)(msg)
            .values(
                public_id=new.id,
                session_id=new.session_id,
                is_user=new.is_user,
                content=new.content,
                workspace_id=new.workspace_id,
                peer_id=None,
                sender_id=new.sender_id,
                seq=func.coalesce(last_seq, 0) + 1,
                token_count=new.token_count,
                metadata=new.metadata,
                created_at=new.timestamp,
                payload=new.payload_blob,
                branch=None if new.branch is None else new.branch.name,
                branch_root=None if new.branch is None else new.branch.root_event_id,
                client_token=new.client_token,
                expires_at=new.expires_at,
            )
            .on_conflict_do_nothing(
                index_elements=["workspace_id", "client_token"],
                index_where=msg.c.client_token.is_not(None),
            )
            .returning(msg.c.id)
        )
        if (await self.conn.execute(stmt)).first() is not None:
            return True
        await self.conn.execute(
            update(sessions)
            .where(sessions.c.public_id == new.session_id)
            .values(message_count=sessions.c.message_count - 1)
        )
        return False

    async def get_event(self, workspace_id: str, event_id: str) -> StoredEvent | None:
        """One event of the workspace."""
        stmt = select(*_EVENT_COLUMNS, msg.c.payload).where(
            msg.c.workspace_id == workspace_id,
            msg.c.public_id == event_id,
            msg.c.payload.is_not(None),
        )
        return await self.first(stmt, to_event)

    async def event_by_token(self, workspace_id: str, token: str) -> StoredEvent | None:
        """The event written with that client token."""
        stmt = select(*_EVENT_COLUMNS, msg.c.payload).where(
            msg.c.workspace_id == workspace_id, msg.c.client_token == token
        )
        return await self.first(stmt, to_event)

    async def list_events(self, query: EventQuery) -> builtins.list[StoredEvent]:
        """A page of one actor's events in a session, newest first."""
        columns = (*_EVENT_COLUMNS, msg.c.payload) if query.with_payload else _EVENT_COLUMNS
        stmt = select(*columns).where(
            msg.c.session_id == query.session_id,
            msg.c.sender_id == query.sender_id,
            msg.c.payload.is_not(None),
            _live(query.now),
        )
        if query.after is not None:
            at, key = query.after
            stmt = stmt.where(msg.c.created_at <= at, or_(msg.c.created_at < at, msg.c.id < key))
        if query.branches is not None:
            stmt = stmt.where(_branches(query.branches))
        for cond in query.metadata:
            stmt = stmt.where(_condition(self.dialect, cond))
        stmt = stmt.order_by(msg.c.created_at.desc(), msg.c.id.desc()).limit(fixed(query.limit))
        rows = await self.conn.execute(stmt)
        if not query.with_payload:
            return [to_event(row, with_payload=False) for row in rows]
        return [to_event(row) for row in rows]

    async def branch_root(self, session_id: str, sender_id: str, branch: str) -> str | None:
        """The root event of a branch, as its first event names it."""
        stmt = (
            select(msg.c.branch_root)
            .where(
                msg.c.session_id == session_id,
                msg.c.sender_id == sender_id,
                msg.c.payload.is_not(None),
                msg.c.branch == branch,
                msg.c.branch_root.is_not(None),
            )
            .order_by(msg.c.created_at, msg.c.id)
            .limit(1)
        )
        value = (await self.conn.execute(stmt)).scalar()
        return None if value is None else str(value)

    async def delete_event(self, workspace_id: str, event: StoredEvent) -> None:
        """Remove the event and uncount it."""
        result = await self.conn.execute(
            delete(msg).where(msg.c.workspace_id == workspace_id, msg.c.id == event.key)
        )
        if result.rowcount:
            await self.conn.execute(
                update(sessions)
                .where(sessions.c.public_id == event.session_id)
                .values(message_count=sessions.c.message_count - 1)
            )

    def _has_live_events(self, now: datetime) -> ColumnElement[bool]:
        return exists(
            select(literal(1)).where(
                msg.c.session_id == session_peers.c.session_id,
                msg.c.sender_id == session_peers.c.peer_id,
                msg.c.payload.is_not(None),
                _live(now),
            )
        )

    async def list_sessions(
        self,
        workspace_id: str,
        peer_id: str,
        now: datetime,
        has_events: bool,
        after: tuple[datetime, int] | None,
        limit: int,
    ) -> builtins.list[SessionEntry]:
        """The actor's sessions, newest membership first."""
        sp = session_peers
        stmt = (
            select(sp.c.id, sp.c.joined_at, sessions.c.name)
            .join(sessions, sessions.c.public_id == sp.c.session_id)
            .where(sp.c.workspace_id == workspace_id, sp.c.peer_id == peer_id)
        )
        if has_events:
            stmt = stmt.where(self._has_live_events(now))
        if after is not None:
            at, key = after
            stmt = stmt.where(sp.c.joined_at <= at, or_(sp.c.joined_at < at, sp.c.id < key))
        stmt = stmt.order_by(sp.c.joined_at.desc(), sp.c.id.desc()).limit(fixed(limit))
        return [
            SessionEntry(int(row.id), row.name, "", row.joined_at)
            for row in await self.conn.execute(stmt)
        ]

    async def list_actors(
        self, workspace_id: str, now: datetime, after: int | None, limit: int
    ) -> builtins.list[tuple[int, str]]:
        """Peers with live events, in creation order."""
        has_events = exists(
            select(literal(1)).where(
                msg.c.workspace_id == workspace_id,
                msg.c.sender_id == peers.c.public_id,
                msg.c.payload.is_not(None),
                _live(now),
            )
        )
        stmt = select(peers.c.id, peers.c.name).where(
            peers.c.workspace_id == workspace_id, has_events
        )
        if after is not None:
            stmt = stmt.where(peers.c.id > after)
        stmt = stmt.order_by(peers.c.id).limit(fixed(limit))
        return [(int(row.id), row.name) for row in await self.conn.execute(stmt)]

    async def purge_expired_events(self, now: datetime, limit: int) -> int:
        """Remove expired events, oldest expiry first, and uncount them."""
        doomed = (
            await self.conn.execute(
                select(msg.c.id, msg.c.session_id)
                .where(msg.c.expires_at.is_not(None), msg.c.expires_at <= now)
                .order_by(msg.c.expires_at)
                .limit(limit)
            )
        ).all()
        if not doomed:
            return 0
        await self.conn.execute(delete(msg).where(msg.c.id.in_([row.id for row in doomed])))
        for session_id, count in Counter(row.session_id for row in doomed).items():
            await self.conn.execute(
                update(sessions)
                .where(sessions.c.public_id == session_id)
                .values(message_count=sessions.c.message_count - count)
            )
        return len(doomed)

    async def purge_empty_sessions(self, before: datetime, limit: int) -> int:
        """Drop memory memberships without events that are older than `before`."""
        sp = session_peers
        no_events = ~exists(
            select(literal(1)).where(
                msg.c.session_id == sp.c.session_id,
                msg.c.sender_id == sp.c.peer_id,
                msg.c.payload.is_not(None),
            )
        )
        doomed = (
            select(sp.c.id)
            .where(
                sp.c.workspace_id.in_(select(agentcore_memories.c.workspace_id)),
                sp.c.joined_at < before,
                no_events,
            )
            .limit(limit)
        )
        keys = [row.id for row in await self.conn.execute(doomed)]
        if keys:
            await self.conn.execute(delete(sp).where(sp.c.id.in_(keys)))
        return len(keys)
