"""Agent sessions, invocations, steps and tags: SQL Core queries with newest-first keyset pages.

A listing orders by (time DESC, id DESC) over an index on (parent, time, id). The first page
also reads the table's highest id; later pages never look past it, so rows inserted during a
walk neither appear in nor shift the pages still to come.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, Table, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row

from mindkeeper.core.agents import (
    Invocation,
    ListCursor,
    Listing,
    ListRequest,
    NewSession,
    SessionStatus,
    SessionSummary,
    StepSummary,
    StepTime,
    StoredSession,
    StoredStep,
    StringMap,
)
from mindkeeper.errors import AlreadyExists
from mindkeeper.storage.agent_tables import agent_session_tags as tg
from mindkeeper.storage.agent_tables import agent_sessions as s
from mindkeeper.storage.agent_tables import invocation_steps as st
from mindkeeper.storage.agent_tables import invocations as inv
from mindkeeper.storage.repositories.base import Repository, translate_integrity

T = TypeVar("T")

_SESSION = (
    s.c.id,
    s.c.public_id,
    s.c.account_id,
    s.c.status,
    s.c.metadata,
    s.c.key_ref,
    s.c.created_at,
    s.c.last_updated_at,
    s.c.ended_at,
)
_SUMMARY = (s.c.id, s.c.public_id, s.c.account_id, s.c.status, s.c.created_at, s.c.last_updated_at)


def to_session(row: Row[Any]) -> StoredSession:
    """Map a session row."""
    return StoredSession(
        key=row.id,
        id=row.public_id,
        account_id=row.account_id,
        status=SessionStatus(row.status),
        metadata_blob=bytes(row.metadata),
        key_ref=row.key_ref,
        created_at=row.created_at,
        last_updated_at=row.last_updated_at,
        ended_at=row.ended_at,
    )


def to_summary(row: Row[Any]) -> SessionSummary:
    """Map a session row to a listing summary."""
    return SessionSummary(
        row.id,
        row.public_id,
        row.account_id,
        SessionStatus(row.status),
        row.created_at,
        row.last_updated_at,
    )


class SqlAgentRepository(Repository):
    """SQL agent sessions and their children."""

    def _insert(self, table: Table) -> Any:
        """An INSERT that can take ON CONFLICT clauses on either database."""
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    async def _page(
        self,
        stmt: Select[Any],
        table: Table,
        time_col: ColumnElement[datetime],
        request: ListRequest,
        to_item: Callable[[Row[Any]], T],
    ) -> Listing[T]:
        cursor = request.cursor
        if cursor is None:
            top = select(func.max(table.c.id)).scalar_subquery()
            stmt = stmt.add_columns(top.label("high_water"))
        else:
            stmt = stmt.where(
                table.c.id <= cursor.high_water,
                time_col <= cursor.time,
                or_(time_col < cursor.time, table.c.id < cursor.key),
            )
        stmt = stmt.order_by(time_col.desc(), table.c.id.desc()).limit(request.limit + 1)
        rows = (await self.conn.execute(stmt)).all()
        if len(rows) <= request.limit:
            return Listing([to_item(r) for r in rows], None)
        rows = rows[: request.limit]
        last = rows[-1]
        high_water = cursor.high_water if cursor is not None else int(last.high_water)
        return Listing(
            [to_item(r) for r in rows],
            ListCursor(last._mapping[time_col], int(last._mapping[table.c.id]), high_water),
        )

    async def add_session(self, new: NewSession) -> StoredSession:
        """Insert an ACTIVE session."""
        key = (
            await self.conn.execute(
                insert(s)
                .values(
                    public_id=new.id,
                    account_id=new.account_id,
                    status=SessionStatus.ACTIVE.value,
                    metadata=new.metadata_blob,
                    key_ref=new.key_ref,
                    created_at=new.now,
                    last_updated_at=new.now,
                    ended_at=None,
                )
                .returning(s.c.id)
            )
        ).scalar_one()
        return StoredSession(
            int(key),
            new.id,
            new.account_id,
            SessionStatus.ACTIVE,
            new.metadata_blob,
            new.key_ref,
            new.now,
            new.now,
            None,
        )

    async def get_session(self, account_id: str, session_id: str) -> StoredSession | None:
        """Return the account's session."""
        stmt = select(*_SESSION).where(s.c.account_id == account_id, s.c.public_id == session_id)
        return await self.first(stmt, to_session)

    async def list_sessions(self, account_id: str, request: ListRequest) -> Listing[SessionSummary]:
        """Return a page of the account's sessions, newest first."""
        stmt = select(*_SUMMARY).where(s.c.account_id == account_id)
        return await self._page(stmt, s, s.c.created_at, request, to_summary)

    async def update_session(
        self,
        session_key: int,
        *,
        now: datetime,
        metadata_blob: bytes | None = None,
        status: SessionStatus | None = None,
        ended_at: datetime | None = None,
    ) -> StoredSession:
        """Set the given fields and the last update time."""
        values: dict[str, Any] = {"last_updated_at": now}
        if metadata_blob is not None:
            values["metadata"] = metadata_blob
        if status is not None:
            values["status"] = status.value
        if ended_at is not None:
            values["ended_at"] = ended_at
        stmt = update(s).where(s.c.id == session_key).values(**values).returning(*_SESSION)
        return to_session((await self.conn.execute(stmt)).one())

    async def touch_session(self, session_key: int, now: datetime) -> None:
        """Set the last update time."""
        await self.conn.execute(update(s).where(s.c.id == session_key).values(last_updated_at=now))

    async def mark_expired(self, idle_before: datetime, keys: Sequence[int] | None = None) -> int:
        """Set EXPIRED on idle sessions (all, or only `keys`)."""
        stmt = update(s).where(
            s.c.status != SessionStatus.EXPIRED.value, s.c.last_updated_at <= idle_before
        )
        if keys is not None:
            stmt = stmt.where(s.c.id.in_(list(keys)))
        result = await self.conn.execute(stmt.values(status=SessionStatus.EXPIRED.value))
        return int(result.rowcount)

    async def delete_session(self, session_key: int) -> None:
        """Remove the session; invocations, steps and tags cascade."""
        await self.conn.execute(delete(s).where(s.c.id == session_key))

    async def purge_sessions(self, idle_before: datetime, limit: int) -> int:
        """Remove up to `limit` sessions idle since `idle_before`, oldest first."""
        doomed = (
            select(s.c.id)
            .where(s.c.last_updated_at <= idle_before)
            .order_by(s.c.last_updated_at)
            .limit(limit)
        )
        result = await self.conn.execute(delete(s).where(s.c.id.in_(doomed.scalar_subquery())))
        return int(result.rowcount)

    async def add_invocation(
        self,
        session: StoredSession,
        invocation_id: str,
        description: str | None,
        now: datetime,
    ) -> Invocation:
        """Insert an invocation; AlreadyExists on a taken id in this session."""
        stmt = (
            self._insert(inv)
            .values(
                session_key=session.key,
                public_id=invocation_id,
                description=description,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["session_key", "public_id"])
            .returning(inv.c.id)
        )
        key = (await self.conn.execute(stmt)).scalar()
        if key is None:
            raise AlreadyExists(f"Invocation {invocation_id} already exists in this session")
        return Invocation(int(key), invocation_id, session.key, session.id, description, now)

    async def get_invocation(self, session: StoredSession, invocation_id: str) -> Invocation | None:
        """Return the session's invocation."""
        stmt = select(inv.c.id, inv.c.description, inv.c.created_at).where(
            inv.c.session_key == session.key, inv.c.public_id == invocation_id
        )
        row = (await self.conn.execute(stmt)).first()
        if row is None:
            return None
        return Invocation(
            int(row.id), invocation_id, session.key, session.id, row.description, row.created_at
        )

    async def list_invocations(
        self, session: StoredSession, request: ListRequest
    ) -> Listing[Invocation]:
        """Return a page of the session's invocations, newest first."""
        stmt = select(inv.c.id, inv.c.public_id, inv.c.description, inv.c.created_at).where(
            inv.c.session_key == session.key
        )

        def item(row: Row[Any]) -> Invocation:
            return Invocation(
                row.id, row.public_id, session.key, session.id, row.description, row.created_at
            )

        return await self._page(stmt, inv, inv.c.created_at, request, item)

    async def add_step(
        self,
        invocation: Invocation,
        step_id: str,
        time: StepTime,
        payload_blob: bytes,
        now: datetime,
    ) -> bool:
        """Insert a step; False when the session already has a step with that id."""
        stmt = (
            self._insert(st)
            .values(
                session_key=invocation.session_key,
                invocation_key=invocation.key,
                public_id=step_id,
                step_time=time.at,
                step_time_digits=time.digits,
                payload=payload_blob,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["session_key", "public_id"])
            .returning(st.c.id)
        )
        with translate_integrity("Invocation step conflicts", "Invocation not found"):
            key = (await self.conn.execute(stmt)).scalar()
        return key is not None

    async def get_step(self, session: StoredSession, step_id: str) -> StoredStep | None:
        """Return the session's step with its invocation id."""
        stmt = (
            select(
                st.c.id,
                st.c.invocation_key,
                st.c.step_time,
                st.c.step_time_digits,
                st.c.payload,
                inv.c.public_id.label("invocation_id"),
            )
            .select_from(st.join(inv, inv.c.id == st.c.invocation_key))
            .where(st.c.session_key == session.key, st.c.public_id == step_id)
        )
        row = (await self.conn.execute(stmt)).first()
        if row is None:
            return None
        return StoredStep(
            key=row.id,
            id=step_id,
            session_key=session.key,
            invocation_key=row.invocation_key,
            invocation_id=row.invocation_id,
            time=StepTime(row.step_time, row.step_time_digits),
            payload_blob=bytes(row.payload),
        )

    async def list_steps(
        self, session: StoredSession, invocation: Invocation | None, request: ListRequest
    ) -> Listing[StepSummary]:
        """Return a page of steps, newest step time first, ties newest arrival first."""
        cols = (st.c.id, st.c.public_id, st.c.step_time, st.c.step_time_digits)
        if invocation is None:
            stmt = (
                select(*cols, inv.c.public_id.label("invocation_id"))
                .select_from(st.join(inv, inv.c.id == st.c.invocation_key))
                .where(st.c.session_key == session.key)
            )
        else:
            stmt = select(*cols).where(st.c.invocation_key == invocation.key)

        def item(row: Row[Any]) -> StepSummary:
            return StepSummary(
                row.id,
                row.public_id,
                session.id,
                invocation.id if invocation is not None else row.invocation_id,
                StepTime(row.step_time, row.step_time_digits),
            )

        return await self._page(stmt, st, st.c.step_time, request, item)

    async def get_tags(self, session_key: int) -> StringMap:
        """Return the session's tags, by key."""
        rows = await self.conn.execute(
            select(tg.c.key, tg.c.value).where(tg.c.session_key == session_key).order_by(tg.c.key)
        )
        return {r.key: r.value for r in rows}

    async def put_tags(self, session_key: int, tags: StringMap) -> None:
        """Add or overwrite tags."""
        if not tags:
            return
        stmt = self._insert(tg)
        stmt = stmt.on_conflict_do_update(
            index_elements=["session_key", "key"], set_={"value": stmt.excluded.value}
        )
        await self.conn.execute(
            stmt, [{"session_key": session_key, "key": k, "value": v} for k, v in tags.items()]
        )

    async def remove_tags(self, session_key: int, keys: Sequence[str]) -> None:
        """Remove tags by key."""
        if keys:
            await self.conn.execute(
                delete(tg).where(tg.c.session_key == session_key, tg.c.key.in_(list(keys)))
            )
