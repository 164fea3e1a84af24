"""Session members: which peers take part in a session, with their observation settings."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, insert, select, update

from mindkeeper.core.entities import Member, Peer
from mindkeeper.core.ports import MemberSettings
from mindkeeper.core.values import Page, PageRequest
from mindkeeper.storage.repositories.base import DbRow, Repository
from mindkeeper.storage.repositories.peers import is_scope_peer, to_peer
from mindkeeper.storage.tables import peers
from mindkeeper.storage.tables import session_peers as t


def _not_scope() -> ColumnElement[bool]:
    """The membership is not a scope's hold on the session."""
    holder = peers.alias("holder")
    return ~exists().where(holder.c.public_id == t.c.peer_id, is_scope_peer(holder))


def to_member(row: DbRow) -> Member:
    """Map a row to the entity."""
    return Member(
        row.session_id,
        row.peer_id,
        row.workspace_id,
        row.observe_me,
        row.observe_others,
        row.joined_at,
        row.left_at,
    )


class SqlMemberRepository(Repository):
    """SQL session members."""

    async def list(self, session_id: str, active_only: bool = True) -> builtins.list[Member]:
        """Return the session's members in the order they first joined (scopes the session
        belongs to are not members)."""
        stmt = select(t).where(t.c.session_id == session_id, _not_scope())
        if active_only:
            stmt = stmt.where(t.c.left_at.is_(None))
        return [to_member(r) for r in await self.conn.execute(stmt.order_by(t.c.id))]

    async def get(self, workspace_id: str, session_id: str, peer_id: str) -> Member | None:
        """Return the peer's membership row (active or left)."""
        stmt = select(t).where(
            t.c.workspace_id == workspace_id, t.c.session_id == session_id, t.c.peer_id == peer_id
        )
        row = (await self.conn.execute(stmt)).first()
        return None if row is None else to_member(row)

    async def join(
        self,
        workspace_id: str,
        session_id: str,
        settings: Sequence[tuple[str, MemberSettings | None]],
        now: datetime,
    ) -> None:
        """Make the peers active members; active ones keep their settings and join time."""
        wanted = dict(settings)
        if not wanted:
            return
        rows = await self.conn.execute(
            select(t.c.id, t.c.peer_id, t.c.left_at).where(
                t.c.workspace_id == workspace_id,
                t.c.session_id == session_id,
                t.c.peer_id.in_(list(wanted)),
            )
        )
        present = {r.peer_id: r for r in rows}
        new = []
        for peer_id, chosen in wanted.items():
            row = present.get(peer_id)
            if row is None:
                config = chosen or MemberSettings()
                new.append(
                    {
                        "workspace_id": workspace_id,
                        "session_id": session_id,
                        "peer_id": peer_id,
                        "observe_me": config.observe_me,
                        "observe_others": config.observe_others,
                        "joined_at": now,
                    }
                )
            elif row.left_at is not None:
                values: dict[str, object] = {"left_at": None, "joined_at": now}
                if chosen is not None:
                    values.update(
                        observe_me=chosen.observe_me, observe_others=chosen.observe_others
                    )
                await self.conn.execute(update(t).where(t.c.id == row.id).values(**values))
        if new:
            await self.conn.execute(insert(t), new)

    async def replace_settings(
        self, workspace_id: str, session_id: str, peer_id: str, settings: MemberSettings
    ) -> None:
        """Overwrite the settings of an existing membership row."""
        await self.conn.execute(
            update(t)
            .where(
                t.c.workspace_id == workspace_id,
                t.c.session_id == session_id,
                t.c.peer_id == peer_id,
            )
            .values(observe_me=settings.observe_me, observe_others=settings.observe_others)
        )

    async def leave(
        self, workspace_id: str, session_id: str, peer_ids: Sequence[str] | None, now: datetime
    ) -> None:
        """Mark active members as left (all of them when `peer_ids` is None)."""
        stmt = update(t).where(
            t.c.workspace_id == workspace_id, t.c.session_id == session_id, t.c.left_at.is_(None)
        )
        if peer_ids is not None:
            if not peer_ids:
                return
            stmt = stmt.where(t.c.peer_id.in_(list(peer_ids)))
        await self.conn.execute(stmt.values(left_at=now))

    async def peers(self, workspace_id: str, session_id: str, page: PageRequest) -> Page[Peer]:
        """Return a page of the session's active members as peers, in joining order."""
        scope = (
            t.c.workspace_id == workspace_id,
            t.c.session_id == session_id,
            t.c.left_at.is_(None),
            _not_scope(),
        )
        total = int(
            (
                await self.conn.execute(select(func.count()).select_from(t).where(*scope))
            ).scalar_one()
        )
        if total <= page.offset:
            return Page(items=[], total=total, page=page.page, size=page.size)
        stmt = (
            select(peers)
            .join(t, t.c.peer_id == peers.c.public_id)
            .where(*scope)
            .order_by(t.c.id)
            .limit(page.size)
            .offset(page.offset)
        )
        items = [to_peer(r) for r in await self.conn.execute(stmt)]
        return Page(items=items, total=total, page=page.page, size=page.size)

    async def copy(self, workspace_id: str, source_id: str, target_id: str, now: datetime) -> None:
        """Give the target session the source's membership rows and settings (members that
        had left are left in the copy too)."""
        rows = (
            await self.conn.execute(
                select(t)
                .where(t.c.workspace_id == workspace_id, t.c.session_id == source_id)
                .order_by(t.c.id)
            )
        ).all()
        if rows:
            await self.conn.execute(
                insert(t),
                [
                    {
                        "workspace_id": r.workspace_id,
                        "session_id": target_id,
                        "peer_id": r.peer_id,
                        "observe_me": r.observe_me,
                        "observe_others": r.observe_others,
                        "joined_at": now,
                        "left_at": None if r.left_at is None else now,
                    }
                    for r in rows
                ],
            )
