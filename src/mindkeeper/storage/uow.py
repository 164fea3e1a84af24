"""The SQLAlchemy unit of work: one connection, one transaction, every repository."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection

from mindkeeper.storage.engine import Database
from mindkeeper.storage.repositories.agentcore import SqlAgentCoreRepository
from mindkeeper.storage.repositories.agents import SqlAgentRepository
from mindkeeper.storage.repositories.auth import SqlAuthRepository
from mindkeeper.storage.repositories.collections import SqlCollectionRepository
from mindkeeper.storage.repositories.conclusions import SqlConclusionRepository
from mindkeeper.storage.repositories.documents import SqlDocumentRepository
from mindkeeper.storage.repositories.jobs import SqlJobRepository
from mindkeeper.storage.repositories.members import SqlMemberRepository
from mindkeeper.storage.repositories.message_index import SqlMessageIndexRepository
from mindkeeper.storage.repositories.messages import SqlMessageRepository
from mindkeeper.storage.repositories.notes import SqlNoteRepository
from mindkeeper.storage.repositories.operations import SqlOperationsRepository
from mindkeeper.storage.repositories.peer_cards import SqlPeerCardRepository
from mindkeeper.storage.repositories.peers import SqlPeerRepository
from mindkeeper.storage.repositories.scopes import SqlScopeRepository
from mindkeeper.storage.repositories.sessions import SqlSessionRepository
from mindkeeper.storage.repositories.webhooks import SqlWebhookRepository
from mindkeeper.storage.repositories.workspaces import SqlWorkspaceRepository


class SqlUnitOfWork:
    """Opens a connection on enter; writes on SQLite take the in-process writer lock first."""

    def __init__(self, db: Database, *, write: bool = True) -> None:
        self._db = db
        self._write = write
        self._conn: AsyncConnection | None = None
        self._locked = False

    async def __aenter__(self) -> Self:
        db = self._db
        if self._write and db.write_lock is not None:
            await db.write_lock.acquire()
            self._locked = True
        try:
            conn = await db.connector.connect()
            # Reads see one snapshot (a page and its total agree); writes on SQLite take the
            # write lock up front instead of upgrading a read transaction later.
            if db.is_sqlite:
                await conn.exec_driver_sql("BEGIN IMMEDIATE" if self._write else "BEGIN")
            else:
                if not self._write:
                    await conn.execution_options(
                        isolation_level="REPEATABLE READ", postgresql_readonly=True
                    )
                await conn.begin()
        except BaseException:
            self._release_lock()
            raise
        self._conn = conn
        self._bind(conn)
        return self

    def _bind(self, conn: AsyncConnection) -> None:
        dialect = self._db.dialect
        self.workspaces = SqlWorkspaceRepository(conn, dialect)
        self.peers = SqlPeerRepository(conn, dialect)
        self.sessions = SqlSessionRepository(conn, dialect)
        self.members = SqlMemberRepository(conn, dialect)
        self.messages = SqlMessageRepository(conn, dialect)
        self.notes = SqlNoteRepository(conn, dialect)
        self.collections = SqlCollectionRepository(conn, dialect)
        self.documents = SqlDocumentRepository(conn, dialect)
        self.conclusions = SqlConclusionRepository(conn, dialect)
        self.peer_cards = SqlPeerCardRepository(conn, dialect)
        self.message_index = SqlMessageIndexRepository(conn, dialect)
        self.agents = SqlAgentRepository(conn, dialect)
        self.agentcore = SqlAgentCoreRepository(conn, dialect)
        self.jobs = SqlJobRepository(conn, dialect)
        self.auth = SqlAuthRepository(conn, dialect)
        self.webhooks = SqlWebhookRepository(conn, dialect)
        self.operations = SqlOperationsRepository(conn, dialect)
        self.scopes = SqlScopeRepository(conn, dialect)

    @property
    def connection(self) -> AsyncConnection:
        """The open connection (for adapters that extend the unit of work)."""
        assert self._conn is not None, "unit of work not entered"
        return self._conn

    async def commit(self) -> None:
        """Commit the transaction."""
        await self.connection.commit()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        try:
            if conn is not None:
                try:
                    await conn.rollback()
                finally:
                    await conn.close()
        finally:
            self._release_lock()

    def _release_lock(self) -> None:
        if self._locked and self._db.write_lock is not None:
            self._locked = False
            self._db.write_lock.release()
