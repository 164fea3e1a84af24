"""Memory resources and idempotency tokens: the rows of `agentcore_memories` and
`agentcore_requests`, and the JSON form of a memory's settings."""

from __future__ import annotations

import builtins
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update

from mindkeeper.core.entities import JSONObject
from mindkeeper.core.ports.agentcore import (
    IndexedKey,
    Memory,
    MemorySettings,
    MemoryStatus,
    NamespaceKey,
    NewMemory,
    PromptOverride,
    Strategy,
    StrategyType,
)
from mindkeeper.core.values import new_id
from mindkeeper.storage.repositories.base import DbRow, Repository, translate_integrity
from mindkeeper.storage.tables.agentcore import agentcore_memories as m
from mindkeeper.storage.tables.agentcore import agentcore_requests as r


def _override(data: Any) -> PromptOverride | None:
    if not data:
        return None
    return PromptOverride(data["append"], data["model_id"], data.get("template"))


def strategy_to_json(strategy: Strategy) -> JSONObject:
    """A strategy as stored."""
    data = asdict(strategy)
    data["type"] = strategy.type.value
    data["created_at"] = strategy.created_at.isoformat()
    data["updated_at"] = strategy.updated_at.isoformat()
    return data


def strategy_from_json(data: JSONObject) -> Strategy:
    """A stored strategy."""
    return Strategy(
        id=data["id"],
        name=data["name"],
        type=StrategyType(data["type"]),
        template=data["template"],
        created_at=datetime.fromisoformat(data["created_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
        description=data.get("description"),
        base=data.get("base"),
        extraction=_override(data.get("extraction")),
        consolidation=_override(data.get("consolidation")),
        reflection=_override(data.get("reflection")),
        reflection_template=data.get("reflection_template"),
        self_managed=data.get("self_managed"),
        record_schema=data.get("record_schema"),
        record_expiry_days=data.get("record_expiry_days"),
        status=data.get("status", "ACTIVE"),
    )


def settings_to_json(settings: MemorySettings) -> JSONObject:
    """A memory's settings as stored."""
    return {
        "event_expiry_days": settings.event_expiry_days,
        "description": settings.description,
        "execution_role": settings.execution_role,
        "strategies": [strategy_to_json(s) for s in settings.strategies],
        "indexed_keys": [asdict(k) for k in settings.indexed_keys],
        "namespace_keys": [
            {"key": k.key, "allowed": list(k.allowed) if k.allowed else None, "regex": k.regex}
            for k in settings.namespace_keys
        ],
        "stream_delivery": settings.stream_delivery,
        "failure_reason": settings.failure_reason,
    }


def settings_from_json(data: JSONObject) -> MemorySettings:
    """Stored settings."""
    return MemorySettings(
        event_expiry_days=int(data["event_expiry_days"]),
        description=data.get("description"),
        execution_role=data.get("execution_role"),
        strategies=tuple(strategy_from_json(s) for s in data.get("strategies") or ()),
        indexed_keys=tuple(IndexedKey(k["key"], k["type"]) for k in data.get("indexed_keys") or ()),
        namespace_keys=tuple(
            NamespaceKey(
                k["key"], tuple(k["allowed"]) if k.get("allowed") else None, k.get("regex")
            )
            for k in data.get("namespace_keys") or ()
        ),
        stream_delivery=data.get("stream_delivery"),
        failure_reason=data.get("failure_reason"),
    )


def to_memory(row: DbRow) -> Memory:
    """Map a memory row."""
    return Memory(
        key=int(row.id),
        id=row.memory_id,
        account_id=row.account_id,
        workspace_id=row.workspace_id,
        observer_id=row.observer_id,
        name=row.name,
        status=MemoryStatus(row.status),
        settings=settings_from_json(row.settings),
        key_ref=row.key_ref,
        tags=dict(row.tags or {}),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlAgentCoreMemories(Repository):
    """SQL memory resources and idempotency tokens."""

    async def add_memory(self, new: NewMemory) -> Memory:
        """Insert a memory; AlreadyExists on a name the account already uses."""
        values = {
            "public_id": new_id(),
            "account_id": new.account_id,
            "workspace_id": new.workspace_id,
            "observer_id": new.observer_id,
            "memory_id": new.id,
            "name": new.name,
            "status": new.status.value,
            "settings": settings_to_json(new.settings),
            "key_ref": new.key_ref,
            "tags": new.tags,
            "created_at": new.now,
            "updated_at": new.now,
        }
        with translate_integrity(f"A memory named {new.name} already exists"):
            key = (await self.conn.execute(insert(m).returning(m.c.id), values)).scalar_one()
        return Memory(
            int(key),
            new.id,
            new.account_id,
            new.workspace_id,
            new.observer_id,
            new.name,
            new.status,
            new.settings,
            new.key_ref,
            dict(new.tags),
            new.now,
            new.now,
        )

    async def get_memory(self, account_id: str, memory_id: str) -> Memory | None:
        """The account's memory with that id."""
        stmt = select(m).where(m.c.account_id == account_id, m.c.memory_id == memory_id)
        return await self.first(stmt, to_memory)

    async def memory_of_workspace(self, workspace_id: str) -> Memory | None:
        """The memory over a workspace."""
        return await self.first(select(m).where(m.c.workspace_id == workspace_id), to_memory)

    async def list_memories(
        self, account_id: str, after: tuple[datetime, int] | None, limit: int
    ) -> builtins.list[Memory]:
        """Memories of the account, newest first."""
        stmt = select(m).where(m.c.account_id == account_id)
        if after is not None:
            at, key = after
            stmt = stmt.where(m.c.created_at <= at, or_(m.c.created_at < at, m.c.id < key))
        stmt = stmt.order_by(m.c.created_at.desc(), m.c.id.desc()).limit(limit)
        return [to_memory(row) for row in await self.conn.execute(stmt)]

    async def count_memories(self, account_id: str) -> int:
        """How many memories the account has."""
        stmt = select(func.count()).select_from(m).where(m.c.account_id == account_id)
        return int((await self.conn.execute(stmt)).scalar_one())

    async def update_memory(
        self,
        key: int,
        now: datetime,
        *,
        settings: MemorySettings | None = None,
        status: MemoryStatus | None = None,
        tags: dict[str, str] | None = None,
        touch: bool = True,
    ) -> Memory:
        """Change the given fields; return the row."""
        values: dict[str, Any] = {}
        if touch:
            values["updated_at"] = now
        if settings is not None:
            values["settings"] = settings_to_json(settings)
        if status is not None:
            values["status"] = status.value
        if tags is not None:
            values["tags"] = tags
        stmt = update(m).where(m.c.id == key).values(**values).returning(*m.c)
        return to_memory((await self.conn.execute(stmt)).one())

    async def get_request(
        self, account_id: str, operation: str, token: str
    ) -> tuple[str, JSONObject] | None:
        """The fingerprint and result of an earlier request with that token."""
        stmt = select(r.c.fingerprint, r.c.result).where(
            r.c.account_id == account_id, r.c.operation == operation, r.c.token == token
        )
        row = (await self.conn.execute(stmt)).first()
        return None if row is None else (row.fingerprint, dict(row.result))

    async def add_request(
        self,
        account_id: str,
        workspace_id: str,
        operation: str,
        token: str,
        fingerprint: str,
        result: JSONObject,
        now: datetime,
    ) -> None:
        """Remember a request's token."""
        with translate_integrity("A request with this client token is already in progress"):
            await self.conn.execute(
                insert(r).values(
                    account_id=account_id,
                    workspace_id=workspace_id,
                    operation=operation,
                    token=token,
                    fingerprint=fingerprint,
                    result=result,
                    created_at=now,
                )
            )

    async def purge_requests(self, before: datetime) -> int:
        """Forget old tokens."""
        result = await self.conn.execute(delete(r).where(r.c.created_at < before))
        return int(result.rowcount)
