"""Peer cards: one list of strings per (observer, observed) pair, replaced by an upsert."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from mindkeeper.storage.repositories.base import Repository
from mindkeeper.storage.tables.derived import peer_cards as t


class SqlPeerCardRepository(Repository):
    """SQL peer cards."""

    async def get(
        self, workspace_id: str, observer_id: str, observed_id: str
    ) -> builtins.list[str] | None:
        """Return the card, or None when it was never set."""
        stmt = select(t.c.card).where(
            t.c.workspace_id == workspace_id,
            t.c.observer_id == observer_id,
            t.c.observed_id == observed_id,
        )
        card = (await self.conn.execute(stmt)).scalar()
        return None if card is None else [str(line) for line in card]

    async def put(
        self,
        workspace_id: str,
        observer_id: str,
        observed_id: str,
        card: Sequence[str],
        now: datetime,
    ) -> None:
        """Insert or replace the card."""
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        stmt = dialect.insert(t).values(
            workspace_id=workspace_id,
            observer_id=observer_id,
            observed_id=observed_id,
            card=list(card),
            updated_at=now,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.observer_id, t.c.observed_id],
            set_={"card": stmt.excluded.card, "updated_at": stmt.excluded.updated_at},
        )
        await self.conn.execute(stmt)
