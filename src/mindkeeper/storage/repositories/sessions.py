"""Sessions of a peer, with a message counter kept in step with inserts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, bindparam, insert, select, update

from mindkeeper.core.entities import JSONObject, Session
from mindkeeper.core.filters import Node
from mindkeeper.core.values import MetadataFilter, Page, PageRequest, new_id
from mindkeeper.storage.filters import apply_filter
from mindkeeper.storage.repositories.base import (
    DbRow,
    Repository,
    storable,
    translate_integrity,
)
from mindkeeper.storage.repositories.purge import purge_session
from mindkeeper.storage.tables import session_peers, workspaces
from mindkeeper.storage.tables import sessions as t

_COLUMNS = (
    t.c.id,
    t.c.public_id,
    t.c.is_active,
    t.c.peer_id,
    t.c.workspace_id,
    t.c.metadata,
    t.c.created_at,
    t.c.name,
    t.c.configuration,
)


# Bind names must differ from column names: UPDATE reserves those for its SET clause.
_SCOPE = (
    t.c.public_id == bindparam("b_session_id"),
    t.c.peer_id == bindparam("b_peer_id"),
    t.c.workspace_id == bindparam("b_workspace_id"),
)
# Hot statements are built once: no per-request construction or cache-key work.
_GET = select(*_COLUMNS).where(*_SCOPE)
_COUNT = select(t.c.message_count).where(*_SCOPE)
_SET_METADATA = update(t).where(*_SCOPE).values(metadata=bindparam("b_meta")).returning(*_COLUMNS)
_ADD_COUNT = (
    update(t)
    .where(t.c.public_id == bindparam("b_session_id"))
    .values(message_count=t.c.message_count + bindparam("b_delta", type_=Integer))
    .returning(t.c.message_count)
)


#: Logical columns of session filters.
COLUMNS: dict[str, ColumnElement[Any]] = {
    "name": t.c.name,
    "created_at": t.c.created_at,
    "is_active": t.c.is_active,
    "workspace": select(workspaces.c.name)
    .where(workspaces.c.public_id == t.c.workspace_id)
    .scalar_subquery(),
    "metadata": t.c.metadata,
}


def _scope(workspace_id: str, peer_id: str, session_id: str) -> dict[str, str]:
    return {"b_session_id": session_id, "b_peer_id": peer_id, "b_workspace_id": workspace_id}


def to_session(row: DbRow) -> Session:
    """Map a row to the entity."""
    return Session(
        row.id,
        row.public_id,
        row.is_active,
        row.peer_id,
        row.workspace_id,
        row.metadata,
        row.created_at,
        row.name,
        row.configuration,
    )


class SqlSessionRepository(Repository):
    """SQL sessions."""

    async def get(self, workspace_id: str, peer_id: str, session_id: str) -> Session | None:
        """Return the session of that peer."""
        row = (await self.conn.execute(_GET, _scope(workspace_id, peer_id, session_id))).first()
        return None if row is None else to_session(row)

    async def create(
        self, workspace_id: str, peer_id: str, metadata: JSONObject, now: datetime
    ) -> Session:
        """Insert an active session owned by the peer (named after its public id)."""
        public_id = new_id()
        row = (
            await self.conn.execute(
                insert(t)
                .values(
                    public_id=public_id,
                    name=public_id,
                    configuration={},
                    is_active=True,
                    message_count=0,
                    peer_id=peer_id,
                    workspace_id=workspace_id,
                    metadata=metadata,
                    created_at=now,
                )
                .returning(*_COLUMNS)
            )
        ).one()
        return to_session(row)

    async def list(
        self,
        workspace_id: str,
        peer_id: str,
        filter: MetadataFilter,
        active_only: bool,
        page: PageRequest,
    ) -> Page[Session]:
        """Return a page of the peer's sessions."""
        stmt = select(*_COLUMNS).where(t.c.workspace_id == workspace_id, t.c.peer_id == peer_id)
        if active_only:
            stmt = stmt.where(t.c.is_active.is_(True))
        return await self.paginate(self.with_filter(stmt, t, filter), t, page, to_session)

    async def update(
        self,
        workspace_id: str,
        peer_id: str,
        session_id: str,
        metadata: JSONObject | None = None,
        is_active: bool | None = None,
    ) -> Session | None:
        """Change metadata and/or the active flag."""
        if metadata is not None and is_active is None:
            params = {**_scope(workspace_id, peer_id, session_id), "b_meta": metadata}
            found = (await self.conn.execute(_SET_METADATA, params)).first()
            return None if found is None else to_session(found)
        values: dict[str, Any] = {}
        if metadata is not None:
            values["metadata"] = metadata
        if is_active is not None:
            values["is_active"] = is_active
        if not values:
            return await self.get(workspace_id, peer_id, session_id)
        row = (
            await self.conn.execute(
                update(t)
                .where(
                    t.c.public_id == session_id,
                    t.c.peer_id == peer_id,
                    t.c.workspace_id == workspace_id,
                )
                .values(**values)
                .returning(*_COLUMNS)
            )
        ).first()
        return None if row is None else to_session(row)

    async def add_message_count(self, session_id: str, delta: int) -> int:
        """Add to the session's message counter and return the new count (under a row lock,
        so concurrent appends get distinct positions)."""
        result = await self.conn.execute(_ADD_COUNT, {"b_session_id": session_id, "b_delta": delta})
        return int(result.scalar_one())

    async def message_count(self, workspace_id: str, peer_id: str, session_id: str) -> int | None:
        """Return the message counter of the peer's session; None when there is no such session."""
        value = (
            await self.conn.execute(_COUNT, _scope(workspace_id, peer_id, session_id))
        ).scalar()
        return None if value is None else int(value)

    async def get_by_name(self, workspace_id: str, name: str) -> Session | None:
        """Return a session of the workspace by name, whoever owns it."""
        if not storable(name):
            return None
        stmt = select(*_COLUMNS).where(t.c.workspace_id == workspace_id, t.c.name == name)
        return await self.first(stmt, to_session)

    async def name_of(self, workspace_id: str, session_id: str) -> str | None:
        """Return the name of the workspace's session with that public id."""
        stmt = select(t.c.name).where(t.c.workspace_id == workspace_id, t.c.public_id == session_id)
        value = (await self.conn.execute(stmt)).scalar()
        return None if value is None else str(value)

    async def count_messages(self, session_id: str) -> int:
        """Return the session's message counter (0 for a missing session)."""
        stmt = select(t.c.message_count).where(t.c.public_id == session_id)
        value = (await self.conn.execute(stmt)).scalar()
        return 0 if value is None else int(value)

    async def create_named(
        self,
        workspace_id: str,
        name: str,
        metadata: JSONObject,
        configuration: JSONObject,
        now: datetime,
    ) -> Session:
        """Insert an active session without an owner."""
        with translate_integrity(f"Session {name} already exists"):
            row = (
                await self.conn.execute(
                    insert(t)
                    .values(
                        public_id=new_id(),
                        name=name,
                        configuration=configuration,
                        is_active=True,
                        message_count=0,
                        peer_id=None,
                        workspace_id=workspace_id,
                        metadata=metadata,
                        created_at=now,
                    )
                    .returning(*_COLUMNS)
                )
            ).one()
        return to_session(row)

    async def change(
        self,
        workspace_id: str,
        session_id: str,
        metadata: JSONObject | None = None,
        configuration: JSONObject | None = None,
        is_active: bool | None = None,
    ) -> Session | None:
        """Change the given fields of a session of the workspace."""
        values: dict[str, Any] = {}
        if metadata is not None:
            values["metadata"] = metadata
        if configuration is not None:
            values["configuration"] = configuration
        if is_active is not None:
            values["is_active"] = is_active
        scope = (t.c.workspace_id == workspace_id, t.c.public_id == session_id)
        if not values:
            return await self.first(select(*_COLUMNS).where(*scope), to_session)
        row = (
            await self.conn.execute(update(t).where(*scope).values(**values).returning(*_COLUMNS))
        ).first()
        return None if row is None else to_session(row)

    async def list_in_workspace(
        self, workspace_id: str, page: PageRequest, active_only: bool, where: Node | None = None
    ) -> Page[Session]:
        """Return a page of the workspace's sessions ordered by `created_at`."""
        stmt: Select[Any] = select(*_COLUMNS).where(t.c.workspace_id == workspace_id)
        if active_only:
            stmt = stmt.where(t.c.is_active.is_(True))
        stmt = apply_filter(stmt, where, COLUMNS, self.dialect)
        return await self.paginate(stmt, t, page, to_session, order=[t.c.created_at])

    async def list_of_member(
        self, workspace_id: str, peer_id: str, page: PageRequest, where: Node | None = None
    ) -> Page[Session]:
        """Return a page of the sessions the peer has a membership row in, by `created_at`."""
        joined = select(session_peers.c.session_id).where(
            session_peers.c.workspace_id == workspace_id, session_peers.c.peer_id == peer_id
        )
        stmt: Select[Any] = select(*_COLUMNS).where(
            t.c.workspace_id == workspace_id, t.c.public_id.in_(joined)
        )
        stmt = apply_filter(stmt, where, COLUMNS, self.dialect)
        return await self.paginate(stmt, t, page, to_session, order=[t.c.created_at])

    async def has_active(self, workspace_id: str) -> bool:
        """True when the workspace has an active session."""
        stmt = (
            select(t.c.id).where(t.c.workspace_id == workspace_id, t.c.is_active.is_(True)).limit(1)
        )
        return (await self.conn.execute(stmt)).first() is not None

    async def purge(self, workspace_id: str, session_id: str) -> None:
        """Remove the session and everything that depends on it."""
        await purge_session(self.conn, workspace_id, session_id)
