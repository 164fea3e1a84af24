"""Agent sessions, invocations, steps and tags: SQL Core queries with newest-first keyset pages.

Every statement on a session or its children filters by the account (the tenant key that
every row carries), and joins match it on both sides; only the expiry and purge sweeps span
all accounts. Hot statements are built once with bound parameters (no per-request
construction or cache-key work). A listing orders by (time DESC, id DESC) over an index on
(account, parent, time, id), or (invocation, time, id) for one invocation's steps. The first
page also reads the table's highest id; later pages never look past it, so rows inserted
during a walk neither appear in nor shift the pages still to come.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
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
from mindkeeper.storage.repositories.base import Repository, translate_integrity
from mindkeeper.storage.tables.agents import agent_session_tags as tg
from mindkeeper.storage.tables.agents import agent_sessions as s
from mindkeeper.storage.tables.agents import invocation_steps as st
from mindkeeper.storage.tables.agents import invocations as inv

T = TypeVar("T")
#: A result row of any width.
AnyRow = Row[*tuple[Any, ...]]
# Bind names start with b_: UPDATE reserves column names for its SET clause.
_B = bindparam
_EXPIRED = SessionStatus.EXPIRED.value

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
_STEP_SUMMARY = (st.c.id, st.c.public_id, st.c.step_time, st.c.step_time_digits)
_STEP_JOIN = st.join(inv, (inv.c.id == st.c.invocation_key) & (inv.c.account_id == st.c.account_id))


def _pages(stmt: Select[Any], table: Table, time_col: ColumnElement[Any]) -> tuple[Any, Any]:
    """The first-page and next-page statements of a newest-first listing."""
    order = (time_col.desc(), table.c.id.desc())
    limit = _B("b_limit", type_=Integer)
    top = select(func.max(table.c.id)).scalar_subquery().label("high_water")
    first = stmt.add_columns(top).order_by(*order).limit(limit)
    after = (
        stmt.where(
            table.c.id <= _B("b_high_water"),
            time_col <= _B("b_time"),
            or_(time_col < _B("b_time"), table.c.id < _B("b_after")),
        )
        .order_by(*order)
        .limit(limit)
    )
    return first, after


_GET_SESSION = select(*_SESSION).where(
    s.c.account_id == _B("b_account"), s.c.public_id == _B("b_session_id")
)
_ADD_SESSION = insert(s).returning(s.c.id)
_THIS_SESSION = (s.c.account_id == _B("b_account"), s.c.id == _B("b_key"))
_TOUCH = update(s).where(*_THIS_SESSION).values(last_updated_at=_B("b_now"))
_TOUCH_ACTIVE = (
    update(s)
    .where(
        s.c.account_id == _B("b_account"),
        s.c.public_id == _B("b_session_id"),
        s.c.status == SessionStatus.ACTIVE.value,
        s.c.last_updated_at > _B("b_before"),
    )
    .values(last_updated_at=_B("b_now"))
    .returning(*_SESSION)
)
_EXPIRE = update(s).where(s.c.status != _EXPIRED, s.c.last_updated_at <= _B("b_before"))
_EXPIRE_ALL = _EXPIRE.values(status=_EXPIRED)
_EXPIRE_SOME = _EXPIRE.where(s.c.id.in_(_B("b_keys", expanding=True))).values(status=_EXPIRED)
_DELETE_SESSION = delete(s).where(*_THIS_SESSION)
_SESSIONS = _pages(select(*_SUMMARY).where(s.c.account_id == _B("b_account")), s, s.c.created_at)

_GET_INVOCATION = select(inv.c.id, inv.c.description, inv.c.created_at).where(
    inv.c.account_id == _B("b_account"),
    inv.c.session_key == _B("b_session"),
    inv.c.public_id == _B("b_invocation"),
)
_INVOCATIONS = _pages(
    select(inv.c.id, inv.c.public_id, inv.c.description, inv.c.created_at).where(
        inv.c.account_id == _B("b_account"), inv.c.session_key == _B("b_session")
    ),
    inv,
    inv.c.created_at,
)

_GET_STEP = (
    select(
        st.c.id,
        st.c.invocation_key,
        st.c.step_time,
        st.c.step_time_digits,
        st.c.payload,
        inv.c.public_id.label("invocation_id"),
    )
    .select_from(_STEP_JOIN)
    .where(
        st.c.account_id == _B("b_account"),
        st.c.session_key == _B("b_session"),
        st.c.public_id == _B("b_step"),
    )
)
_SESSION_STEPS = _pages(
    select(*_STEP_SUMMARY, inv.c.public_id.label("invocation_id"))
    .select_from(_STEP_JOIN)
    .where(st.c.account_id == _B("b_account"), st.c.session_key == _B("b_session")),
    st,
    st.c.step_time,
)
_INVOCATION_STEPS = _pages(
    select(*_STEP_SUMMARY).where(
        st.c.account_id == _B("b_account"), st.c.invocation_key == _B("b_invocation")
    ),
    st,
    st.c.step_time,
)

_THESE_TAGS = (tg.c.account_id == _B("b_account"), tg.c.session_key == _B("b_session"))
_GET_TAGS = select(tg.c.key, tg.c.value).where(*_THESE_TAGS)
_REMOVE_TAGS = delete(tg).where(*_THESE_TAGS, tg.c.key.in_(_B("b_keys", expanding=True)))


def _dialect_statements(make_insert: Any) -> dict[str, Any]:
    """Inserts with ON CONFLICT clauses (same SQL on SQLite and PostgreSQL, own constructs)."""
    tag = make_insert(tg)
    return {
        "invocation": make_insert(inv)
        .on_conflict_do_nothing(index_elements=["session_key", "public_id"])
        .returning(inv.c.id),
        "step": make_insert(st)
        .from_select(
            [
                "account_id",
                "session_key",
                "invocation_key",
                "public_id",
                "step_time",
                "step_time_digits",
                "payload",
                "created_at",
            ],
            select(
                inv.c.account_id,
                inv.c.session_key,
                inv.c.id,
                _B("b_step", type_=st.c.public_id.type),
                _B("b_time", type_=st.c.step_time.type),
                _B("b_digits", type_=st.c.step_time_digits.type),
                _B("b_payload", type_=st.c.payload.type),
                _B("b_now", type_=st.c.created_at.type),
            ).where(
                inv.c.account_id == _B("b_account"),
                inv.c.session_key == _B("b_session"),
                inv.c.public_id == _B("b_invocation"),
            ),
        )
        .on_conflict_do_nothing(index_elements=["session_key", "public_id"])
        .returning(st.c.id),
        "tags": tag.on_conflict_do_update(
            index_elements=["session_key", "key"],
            set_={"value": tag.excluded.value},
            where=tg.c.account_id == tag.excluded.account_id,
        ),
    }


_BY_DIALECT = {
    "sqlite": _dialect_statements(sqlite.insert),
    "postgresql": _dialect_statements(postgresql.insert),
}


def to_session(row: AnyRow) -> StoredSession:
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


def to_summary(row: AnyRow) -> SessionSummary:
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

    def _dialect(self, name: str) -> Any:
        return _BY_DIALECT[self.dialect][name]

    async def _page(
        self,
        statements: tuple[Any, Any],
        params: dict[str, Any],
        time_col: ColumnElement[datetime],
        id_col: ColumnElement[int],
        request: ListRequest,
        to_item: Callable[[AnyRow], T],
    ) -> Listing[T]:
        cursor = request.cursor
        params = {**params, "b_limit": request.limit + 1}
        if cursor is None:
            stmt = statements[0]
        else:
            stmt = statements[1]
            params.update(b_high_water=cursor.high_water, b_time=cursor.time, b_after=cursor.key)
        rows = (await self.conn.execute(stmt, params)).all()
        if len(rows) <= request.limit:
            return Listing([to_item(r) for r in rows], None)
        rows = rows[: request.limit]
        last = rows[-1]
        high_water = cursor.high_water if cursor is not None else int(last.high_water)
        position = ListCursor(last._mapping[time_col], int(last._mapping[id_col]), high_water)
        return Listing([to_item(r) for r in rows], position)

    async def add_session(self, new: NewSession) -> StoredSession:
        """Insert an ACTIVE session."""
        values = {
            "public_id": new.id,
            "account_id": new.account_id,
            "status": SessionStatus.ACTIVE.value,
            "metadata": new.metadata_blob,
            "key_ref": new.key_ref,
            "created_at": new.now,
            "last_updated_at": new.now,
            "ended_at": None,
        }
        key = (await self.conn.execute(_ADD_SESSION, values)).scalar_one()
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
        params = {"b_account": account_id, "b_session_id": session_id}
        row = (await self.conn.execute(_GET_SESSION, params)).first()
        return None if row is None else to_session(row)

    async def list_sessions(self, account_id: str, request: ListRequest) -> Listing[SessionSummary]:
        """Return a page of the account's sessions, newest first."""
        params = {"b_account": account_id}
        return await self._page(_SESSIONS, params, s.c.created_at, s.c.id, request, to_summary)

    async def update_session(
        self,
        session: StoredSession,
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
        stmt = (
            update(s)
            .where(s.c.account_id == session.account_id, s.c.id == session.key)
            .values(**values)
            .returning(*_SESSION)
        )
        return to_session((await self.conn.execute(stmt)).one())

    async def touch_session(self, session: StoredSession, now: datetime) -> None:
        """Set the last update time."""
        params = {"b_account": session.account_id, "b_key": session.key, "b_now": now}
        await self.conn.execute(_TOUCH, params)

    async def touch_active(
        self, account_id: str, session_id: str, now: datetime, idle_before: datetime
    ) -> StoredSession | None:
        """Touch and return the account's session if ACTIVE and not idle (one statement)."""
        params = {
            "b_account": account_id,
            "b_session_id": session_id,
            "b_now": now,
            "b_before": idle_before,
        }
        row = (await self.conn.execute(_TOUCH_ACTIVE, params)).first()
        return None if row is None else to_session(row)

    async def mark_expired(self, idle_before: datetime, keys: Sequence[int] | None = None) -> int:
        """Set EXPIRED on idle sessions (all, or only `keys`)."""
        if keys is None:
            result = await self.conn.execute(_EXPIRE_ALL, {"b_before": idle_before})
        else:
            params = {"b_before": idle_before, "b_keys": list(keys)}
            result = await self.conn.execute(_EXPIRE_SOME, params)
        return int(result.rowcount)

    async def delete_session(self, session: StoredSession) -> None:
        """Remove the session; invocations, steps and tags cascade."""
        params = {"b_account": session.account_id, "b_key": session.key}
        await self.conn.execute(_DELETE_SESSION, params)

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
        values = {
            "account_id": session.account_id,
            "session_key": session.key,
            "public_id": invocation_id,
            "description": description,
            "created_at": now,
        }
        key = (await self.conn.execute(self._dialect("invocation"), values)).scalar()
        if key is None:
            raise AlreadyExists(f"Invocation {invocation_id} already exists in this session")
        return Invocation(int(key), invocation_id, session.key, session.id, description, now)

    async def get_invocation(self, session: StoredSession, invocation_id: str) -> Invocation | None:
        """Return the session's invocation."""
        params = {
            "b_account": session.account_id,
            "b_session": session.key,
            "b_invocation": invocation_id,
        }
        row = (await self.conn.execute(_GET_INVOCATION, params)).first()
        if row is None:
            return None
        return Invocation(
            int(row.id), invocation_id, session.key, session.id, row.description, row.created_at
        )

    async def list_invocations(
        self, session: StoredSession, request: ListRequest
    ) -> Listing[Invocation]:
        """Return a page of the session's invocations, newest first."""

        def item(row: AnyRow) -> Invocation:
            return Invocation(
                row.id, row.public_id, session.key, session.id, row.description, row.created_at
            )

        params = {"b_account": session.account_id, "b_session": session.key}
        return await self._page(_INVOCATIONS, params, inv.c.created_at, inv.c.id, request, item)

    async def add_step(
        self,
        session: StoredSession,
        invocation_id: str,
        step_id: str,
        time: StepTime,
        payload_blob: bytes,
        now: datetime,
    ) -> bool:
        """Insert a step (INSERT … SELECT from the invocation); False when nothing was added."""
        params = {
            "b_account": session.account_id,
            "b_session": session.key,
            "b_invocation": invocation_id,
            "b_step": step_id,
            "b_time": time.at,
            "b_digits": time.digits,
            "b_payload": payload_blob,
            "b_now": now,
        }
        with translate_integrity("Invocation step conflicts", "Invocation not found"):
            key = (await self.conn.execute(self._dialect("step"), params)).scalar()
        return key is not None

    async def get_step(self, session: StoredSession, step_id: str) -> StoredStep | None:
        """Return the session's step with its invocation id."""
        params = {"b_account": session.account_id, "b_session": session.key, "b_step": step_id}
        row = (await self.conn.execute(_GET_STEP, params)).first()
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
        fixed = None if invocation is None else invocation.id

        def item(row: AnyRow) -> StepSummary:
            return StepSummary(
                row.id,
                row.public_id,
                session.id,
                fixed if fixed is not None else row.invocation_id,
                StepTime(row.step_time, row.step_time_digits),
            )

        params: dict[str, Any] = {"b_account": session.account_id}
        if invocation is None:
            statements = _SESSION_STEPS
            params["b_session"] = session.key
        else:
            statements = _INVOCATION_STEPS
            params["b_invocation"] = invocation.key
        return await self._page(statements, params, st.c.step_time, st.c.id, request, item)

    async def get_tags(self, session: StoredSession) -> StringMap:
        """Return the session's tags, by key."""
        params = {"b_account": session.account_id, "b_session": session.key}
        rows = await self.conn.execute(_GET_TAGS, params)
        return {r.key: r.value for r in sorted(rows, key=lambda r: str(r.key))}

    async def put_tags(self, session: StoredSession, tags: StringMap) -> None:
        """Add or overwrite tags."""
        if tags:
            owner = {"account_id": session.account_id, "session_key": session.key}
            rows = [{**owner, "key": k, "value": v} for k, v in tags.items()]
            await self.conn.execute(self._dialect("tags"), rows)

    async def remove_tags(self, session: StoredSession, keys: Sequence[str]) -> None:
        """Remove tags by key."""
        if keys:
            params = {
                "b_account": session.account_id,
                "b_session": session.key,
                "b_keys": list(keys),
            }
            await self.conn.execute(_REMOVE_TAGS, params)
