"""The index of messages: their vectors, search by meaning and by text, and the token-budget
window of session context.

Search by meaning ranks `message_vectors` by cosine distance (pgvector on PostgreSQL, HNSW
once a workspace holds more than `vectors.ANN_MIN_ROWS` vectors of a dimension and the search
is not narrowed to one session; numpy on SQLite), ties broken by message insertion.

Search by text: a query with punctuation or other symbols is a case-insensitive substring
test, newest first. Other queries are, on PostgreSQL, English full text (`plainto_tsquery`)
or substring, ranked by `ts_rank` then newest first; SQLite has no full-text ranking here and
uses the substring test alone (ASCII letters fold case, as SQLite's `lower` does).
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Select,
    UnaryExpression,
    and_,
    exists,
    func,
    literal_column,
    or_,
    select,
    union,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.operators import custom_op

from mindkeeper.core.ports.derived import MessageText, MessageVector, NamedMessage, SearchScope
from mindkeeper.storage.dialects import vectors
from mindkeeper.storage.filters import apply_filter
from mindkeeper.storage.repositories.base import DbRow, Repository
from mindkeeper.storage.repositories.messages import to_message
from mindkeeper.storage.tables import messages, peers, session_peers, sessions, workspaces
from mindkeeper.storage.tables.derived import TEXT_SEARCH_CONFIG, message_vectors
from mindkeeper.storage.tables.jobs import jobs

m = messages
v = message_vectors
_SENDER = peers.alias("sender")
_SESSION = sessions.alias("home")
#: A query holding anything but letters, digits, `_` and spaces is matched as a substring only.
_SPECIAL = re.compile(r"[^\w\s]")
_ENGLISH: ColumnElement[Any] = literal_column(f"'{TEXT_SEARCH_CONFIG}'::regconfig")
#: The first read of a context window, and the most one read may take.
_FIRST_CHUNK = 64
_MAX_CHUNK = 2048

#: Logical column -> SQL, for message filters (`MESSAGE_COLUMNS`).
COLUMNS: dict[str, ColumnElement[Any]] = {
    "workspace": select(workspaces.c.name)
    .where(workspaces.c.public_id == m.c.workspace_id)
    .scalar_subquery(),
    "session": select(sessions.c.name)
    .where(sessions.c.public_id == m.c.session_id)
    .scalar_subquery(),
    "peer": select(peers.c.name).where(peers.c.public_id == m.c.sender_id).scalar_subquery(),
    "token_count": m.c.token_count,
    "created_at": m.c.created_at,
    "metadata": m.c.metadata,
}


def _named(row: DbRow) -> NamedMessage:
    return NamedMessage(to_message(row), row.sender_name, row.session_name)


def _named_select() -> Select[Any]:
    return select(
        m,
        _SENDER.c.name.label("sender_name"),
        _SESSION.c.name.label("session_name"),
    ).select_from(
        m.join(_SENDER, _SENDER.c.public_id == m.c.sender_id).join(
            _SESSION, _SESSION.c.public_id == m.c.session_id
        )
    )


def _text(row: DbRow) -> MessageText:
    return MessageText(row.id, row.public_id, row.workspace_id, row.content)


def _without_vector(model: str) -> ColumnElement[bool]:
    return ~exists(
        select(literal_column("1")).where(
            v.c.message_id == m.c.public_id, v.c.embedding_model == model
        )
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlMessageIndexRepository(Repository):
    """SQL message vectors, message search and context windows."""

    def _in_workspace(self, column: ColumnElement[str], scope: SearchScope) -> ColumnElement[bool]:
        """`column = workspace`. Within one session on SQLite, written `+column`, which no
        index can serve: SQLite (without statistics) would otherwise start from the whole
        workspace's rows and drop other sessions' afterwards, instead of reading the session's
        messages (`ix_messages_session_id_id`) first."""
        if scope.session_id is not None and self.dialect != "postgresql":
            column = UnaryExpression(column, operator=custom_op("+"), type_=column.type)
        return column == scope.workspace_id

    def _scoped(self, stmt: Select[Any], scope: SearchScope) -> Select[Any]:
        stmt = stmt.where(self._in_workspace(m.c.workspace_id, scope))
        if scope.session_id is not None:
            stmt = stmt.where(m.c.session_id == scope.session_id)
        if scope.sender_id is not None:
            stmt = stmt.where(m.c.sender_id == scope.sender_id)
        if scope.perspective_id is not None:
            sp = session_peers.c
            member = and_(
                sp.session_id == m.c.session_id,
                sp.peer_id == scope.perspective_id,
                sp.joined_at <= m.c.created_at,
                or_(sp.left_at.is_(None), sp.left_at > m.c.created_at),
            )
            stmt = stmt.where(exists(select(literal_column("1")).where(member)))
        return apply_filter(stmt, scope.where, COLUMNS, self.dialect)

    async def unembedded(
        self, message_ids: Sequence[str], model: str
    ) -> builtins.list[MessageText]:
        """Messages among those ids without a vector of `model`."""
        if not message_ids:
            return []
        stmt = (
            select(m.c.id, m.c.public_id, m.c.workspace_id, m.c.content)
            .where(m.c.public_id.in_(list(message_ids)), _without_vector(model))
            .order_by(m.c.id)
        )
        return [_text(r) for r in await self.conn.execute(stmt)]

    async def queued_message_ids(self, kind: str, limit: int) -> builtins.list[str]:
        """Message ids named by pending jobs of `kind`, oldest job first."""
        stmt = (
            select(jobs.c.payload)
            .where(jobs.c.kind == kind, jobs.c.status == "pending")
            .order_by(jobs.c.id)
            .limit(limit)
        )
        found: dict[str, None] = {}
        for payload in (await self.conn.execute(stmt)).scalars():
            ids = payload.get("message_ids") if isinstance(payload, dict) else None
            if isinstance(ids, list):
                found.update((i, None) for i in ids if isinstance(i, str))
        return list(found)

    async def put_vectors(
        self, vectors_: Sequence[MessageVector], model: str, now: datetime
    ) -> None:
        """Store or replace the vectors (one per message)."""
        if not vectors_:
            return
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        stmt = dialect.insert(v)
        stmt = stmt.on_conflict_do_update(
            index_elements=[v.c.message_id],
            set_={
                "embedding": stmt.excluded.embedding,
                "embedding_model": stmt.excluded.embedding_model,
                "embedding_dim": stmt.excluded.embedding_dim,
                "created_at": stmt.excluded.created_at,
            },
        )
        rows = [
            {
                "workspace_id": item.workspace_id,
                "message_id": item.message_id,
                "embedding": np.asarray(item.vector, dtype=np.float32),
                "embedding_model": model,
                "embedding_dim": int(item.vector.shape[0]),
                "created_at": now,
            }
            for item in vectors_
        ]
        await self.conn.execute(stmt, rows)

    async def count_stale(self, model: str) -> int:
        """Count messages without a vector of `model`."""
        stmt = select(func.count()).select_from(m).where(_without_vector(model))
        return int((await self.conn.execute(stmt)).scalar_one())

    async def stale(self, model: str, after_key: int, limit: int) -> builtins.list[MessageText]:
        """The next messages without a vector of `model`."""
        stmt = (
            select(m.c.id, m.c.public_id, m.c.workspace_id, m.c.content)
            .where(m.c.id > after_key, _without_vector(model))
            .order_by(m.c.id)
            .limit(limit)
        )
        return [_text(r) for r in await self.conn.execute(stmt)]

    async def nearest(
        self, scope: SearchScope, vector: np.ndarray, model: str, limit: int
    ) -> builtins.list[int]:
        """Keys of the scope's closest messages."""
        if limit <= 0:
            return []
        dim = int(vector.shape[0])
        base = self._scoped(
            select(m.c.id)
            .select_from(v.join(m, m.c.public_id == v.c.message_id))
            .where(
                self._in_workspace(v.c.workspace_id, scope),
                v.c.embedding_model == model,
                v.c.embedding_dim == dim,
            ),
            scope,
        )
        if self.dialect == "postgresql":
            approximate = scope.session_id is None and await vectors.prefer_ann_for_messages(
                self.conn, scope.workspace_id, dim
            )
            distance = vectors.cosine_distance(v.c.embedding, vector, dim, approximate)
            stmt = base
            if approximate:
                stmt = stmt.where(vectors.dimension_predicate(v.c.embedding_dim, dim))
            rows = await self.conn.execute(stmt.order_by(distance, m.c.id).limit(limit))
            return [int(r[0]) for r in rows]
        # Rank by the message's key, so ties break by insertion as on PostgreSQL.
        columns = SimpleNamespace(c=SimpleNamespace(id=m.c.id, embedding=v.c.embedding))
        return await vectors.sqlite_nearest_keys(self.conn, base, columns, vector, limit, None)

    async def text_matches(self, scope: SearchScope, query: str, limit: int) -> builtins.list[int]:
        """Keys of the scope's messages that match `query` as text."""
        if limit <= 0:
            return []
        rows = await self.conn.execute(self.text_statement(scope, query).limit(limit))
        return [int(r[0]) for r in rows]

    def text_statement(self, scope: SearchScope, query: str) -> Select[Any]:
        """The keys of the text matches, best first."""
        base = self._scoped(select(m.c.id), scope)
        newest = [m.c.created_at.desc(), m.c.id.desc()]
        if self.dialect != "postgresql":
            contained = func.instr(func.lower(m.c.content), func.lower(query)) > 0
            return base.where(contained).order_by(*newest)
        substring = m.c.content.ilike(f"%{_escape_like(query)}%", escape="\\")
        if _SPECIAL.search(query):
            return base.where(substring).order_by(*newest)
        document = func.to_tsvector(_ENGLISH, m.c.content)
        terms = func.plainto_tsquery(_ENGLISH, query)
        # Two selects, so that the full-text one can use the GIN index (an OR cannot).
        matching = union(base.where(document.op("@@")(terms)), base.where(substring)).subquery()
        stmt = select(m.c.id).where(m.c.id.in_(select(matching.c.id)))
        return stmt.order_by(func.ts_rank(document, terms).desc(), *newest)

    async def by_keys(self, keys: Sequence[int]) -> builtins.list[NamedMessage]:
        """The messages with those keys, in the order of `keys`."""
        if not keys:
            return []
        rows = await self.conn.execute(_named_select().where(m.c.id.in_(list(keys))))
        found = {r.id: _named(r) for r in rows}
        return [found[k] for k in keys if k in found]

    async def tail(
        self, session_id: str, after_key: int, budget: int
    ) -> builtins.list[NamedMessage]:
        """The newest messages after `after_key` that fit `budget` tokens, oldest first."""
        picked: list[NamedMessage] = []
        if budget <= 0:
            return picked
        remaining = budget
        before: int | None = None
        chunk = _FIRST_CHUNK
        while True:
            stmt = _named_select().where(m.c.session_id == session_id, m.c.id > after_key)
            if before is not None:
                stmt = stmt.where(m.c.id < before)
            rows = (await self.conn.execute(stmt.order_by(m.c.id.desc()).limit(chunk))).all()
            for row in rows:
                if row.token_count > remaining:
                    return picked[::-1]
                remaining -= row.token_count
                picked.append(_named(row))
            if len(rows) < chunk:
                return picked[::-1]
            before = rows[-1].id
            chunk = min(chunk * 4, _MAX_CHUNK)

    async def created_at(
        self, workspace_id: str, message_ids: Sequence[str]
    ) -> dict[str, datetime]:
        """Creation times of those messages."""
        if not message_ids:
            return {}
        stmt = select(m.c.public_id, m.c.created_at).where(
            m.c.workspace_id == workspace_id, m.c.public_id.in_(list(message_ids))
        )
        return {r.public_id: r.created_at for r in await self.conn.execute(stmt)}
