"""Revocations, access keys, and owner lookups of peers, sessions and collections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from mindkeeper.core.ports.auth import AccessKey
from mindkeeper.storage.repositories.base import DbRow, Repository, translate_integrity
from mindkeeper.storage.tables import collections, peers, session_peers, sessions, workspaces
from mindkeeper.storage.tables.auth import access_keys, revoked_keys


def to_access_key(row: DbRow) -> AccessKey:
    """Map a row to the value."""
    return AccessKey(
        row.access_key_id, row.account_id, bytes(row.sealed_secret), row.created_at, row.revoked_at
    )


class SqlAuthRepository(Repository):
    """SQL storage of authentication data."""

    async def add_revocation(self, key_id: str, expires_at: datetime | None, now: datetime) -> bool:
        """Record a revoked key id; False when it was already revoked."""
        found = await self.conn.execute(
            select(revoked_keys.c.id).where(revoked_keys.c.key_id == key_id)
        )
        if found.first() is not None:
            return False
        await self.conn.execute(
            insert(revoked_keys).values(key_id=key_id, revoked_at=now, expires_at=expires_at)
        )
        return True

    async def revocations_after(self, after: int) -> list[tuple[int, str]]:
        """Return (sequence, key id) of revocations recorded after `after`, in order."""
        rows = await self.conn.execute(
            select(revoked_keys.c.id, revoked_keys.c.key_id)
            .where(revoked_keys.c.id > after)
            .order_by(revoked_keys.c.id)
        )
        return [(int(r.id), str(r.key_id)) for r in rows]

    async def prune_revocations(self, now: datetime) -> int:
        """Forget revocations of keys that have expired anyway."""
        result = await self.conn.execute(
            delete(revoked_keys).where(
                revoked_keys.c.expires_at.is_not(None), revoked_keys.c.expires_at < now
            )
        )
        return int(result.rowcount or 0)

    async def add_access_key(self, key: AccessKey) -> None:
        """Insert an access key."""
        with translate_integrity(f"Access key {key.access_key_id} already exists"):
            await self.conn.execute(
                insert(access_keys).values(
                    access_key_id=key.access_key_id,
                    account_id=key.account_id,
                    sealed_secret=key.sealed_secret,
                    created_at=key.created_at,
                    revoked_at=key.revoked_at,
                )
            )

    async def get_access_key(self, access_key_id: str) -> AccessKey | None:
        """Return the access key unless missing or revoked."""
        stmt = select(access_keys).where(
            access_keys.c.access_key_id == access_key_id, access_keys.c.revoked_at.is_(None)
        )
        return await self.first(stmt, to_access_key)

    async def list_access_keys(self) -> list[AccessKey]:
        """Return every access key, oldest first."""
        rows = await self.conn.execute(select(access_keys).order_by(access_keys.c.id))
        return [to_access_key(r) for r in rows]

    async def revoke_access_key(self, access_key_id: str, now: datetime) -> bool:
        """Mark an active access key revoked."""
        result = await self.conn.execute(
            update(access_keys)
            .where(access_keys.c.access_key_id == access_key_id, access_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(result.rowcount)

    async def workspace_exists(self, workspace_id: str) -> bool:
        """True when the workspace exists."""
        stmt = select(workspaces.c.id).where(workspaces.c.public_id == workspace_id)
        return (await self.conn.execute(stmt)).first() is not None

    async def peer_owner(self, peer_id: str) -> str | None:
        """Return the workspace id of the peer."""
        stmt = select(peers.c.workspace_id).where(peers.c.public_id == peer_id)
        row = (await self.conn.execute(stmt)).first()
        return None if row is None else str(row.workspace_id)

    async def session_owner(self, session_id: str) -> tuple[str, str] | None:
        """Return (workspace id, peer id) of the session."""
        stmt = select(sessions.c.workspace_id, sessions.c.peer_id).where(
            sessions.c.public_id == session_id
        )
        row = (await self.conn.execute(stmt)).first()
        return None if row is None else (str(row.workspace_id), str(row.peer_id))

    async def collection_owner(self, collection_id: str) -> tuple[str, str] | None:
        """Return (workspace id, peer id) of the collection."""
        stmt = select(collections.c.workspace_id, collections.c.peer_id).where(
            collections.c.public_id == collection_id
        )
        row = (await self.conn.execute(stmt)).first()
        return None if row is None else (str(row.workspace_id), str(row.peer_id))

    async def active_sessions(self, workspace: str, peer: str, names: Sequence[str]) -> set[str]:
        """By names: those of the named sessions that the peer is an active member of."""
        wanted = list(dict.fromkeys(names))
        if not wanted:
            return set()
        sp = session_peers
        stmt = (
            select(sessions.c.name)
            .select_from(
                sp.join(workspaces, workspaces.c.public_id == sp.c.workspace_id)
                .join(
                    peers,
                    (peers.c.public_id == sp.c.peer_id)
                    & (peers.c.workspace_id == workspaces.c.public_id),
                )
                .join(
                    sessions,
                    (sessions.c.public_id == sp.c.session_id)
                    & (sessions.c.workspace_id == workspaces.c.public_id),
                )
            )
            .where(
                workspaces.c.name == workspace,
                peers.c.name == peer,
                sessions.c.name.in_(wanted),
                sp.c.left_at.is_(None),
            )
        )
        return {str(name) for name in (await self.conn.execute(stmt)).scalars()}

    async def peer_named(self, workspace: str, peer: str) -> bool:
        """By names: True when the workspace has that peer."""
        stmt = (
            select(peers.c.id)
            .join(workspaces, workspaces.c.public_id == peers.c.workspace_id)
            .where(workspaces.c.name == workspace, peers.c.name == peer)
        )
        return (await self.conn.execute(stmt)).first() is not None

    async def session_named(self, workspace: str, session: str) -> bool:
        """By names: True when the workspace has that session (active or not)."""
        stmt = (
            select(sessions.c.id)
            .join(workspaces, workspaces.c.public_id == sessions.c.workspace_id)
            .where(workspaces.c.name == workspace, sessions.c.name == session)
        )
        return (await self.conn.execute(stmt)).first() is not None
