"""The SQLAlchemy unit of work: one connection, one transaction, every repository."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, overload

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

R = TypeVar("R")


class _Repository(Generic[R]):
    """A repository of the open transaction, built on first access and then kept in the unit
    of work's `__dict__` (which later reads find first) until the transaction ends: a request
    pays only for the repositories it uses."""

    def __init__(self, build: Callable[[AsyncConnection, str], R]) -> None:
        self._build = build
        self._name = ""

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, uow: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, uow: SqlUnitOfWork, owner: type[Any]) -> R: ...

    def __get__(self, uow: SqlUnitOfWork | None, owner: type[Any]) -> Self | R:
        if uow is None:
            return self
        repository = self._build(uow.connection, uow._db.dialect)
        uow.__dict__[self._name] = repository
        uow._built.append(self._name)
        return repository


class SqlUnitOfWork:
    """Opens a connection on enter; writes on SQLite take the in-process writer lock first."""

    workspaces = _Repository(SqlWorkspaceRepository)
    peers = _Repository(SqlPeerRepository)
    sessions = _Repository(SqlSessionRepository)
    members = _Repository(SqlMemberRepository)
    messages = _Repository(SqlMessageRepository)
    notes = _Repository(SqlNoteRepository)
    collections = _Repository(SqlCollectionRepository)
    documents = _Repository(SqlDocumentRepository)
    conclusions = _Repository(SqlConclusionRepository)
    peer_cards = _Repository(SqlPeerCardRepository)
    message_index = _Repository(SqlMessageIndexRepository)
    agents = _Repository(SqlAgentRepository)
    agentcore = _Repository(SqlAgentCoreRepository)
    jobs = _Repository(SqlJobRepository)
    auth = _Repository(SqlAuthRepository)
    webhooks = _Repository(SqlWebhookRepository)
    operations = _Repository(SqlOperationsRepository)
    scopes = _Repository(SqlScopeRepository)

    def __init__(self, db: Database, *, write: bool = True) -> None:
        self._db = db
        self._write = write
        self._conn: AsyncConnection | None = None
        self._locked = False
        #: Names of the repositories built for the open transaction.
        self._built: list[str] = []

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
        return self

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
        built, self._built = self._built, []
        for name in built:  # the next transaction builds its own
            del self.__dict__[name]
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
