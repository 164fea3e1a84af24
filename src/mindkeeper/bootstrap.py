"""Composition root: settings -> database, embedder, clock -> runtime -> HTTP app.

Only this module wires concrete classes together; tests inject fakes through its parameters.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

from mindkeeper.config import Settings
from mindkeeper.core.agent_ports import Keyring
from mindkeeper.core.agents import AgentPolicy
from mindkeeper.core.ports import Embedder
from mindkeeper.core.values import Clock, utcnow
from mindkeeper.storage import migrate
from mindkeeper.storage.engine import Database, create_database
from mindkeeper.storage.uow import SqlUnitOfWork

log = logging.getLogger("mindkeeper")

_DEFAULT: Any = object()


def build_embedder(settings: Settings) -> Embedder | None:
    """Return the configured embedder (the packaged local model by default)."""
    if settings.embedder == "none":
        return None
    # onnxruntime reads this once, at first import: set it before anything imports it.
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    from mindkeeper.providers.embedding.local import LocalOnnxEmbedder

    return LocalOnnxEmbedder(intra_op_threads=settings.embedder_threads)


def build_keyring(settings: Settings) -> Keyring:
    """Return the local keyring for encrypted agent sessions (settings map + optional file)."""
    from mindkeeper.providers.keyring import load_keyring

    return load_keyring(settings.bedrock_keyring, settings.bedrock_keyring_file)


def build_agent_policy(settings: Settings) -> AgentPolicy:
    """Return the limits and timings of the agent-session store."""
    return AgentPolicy(
        idle_expiry=timedelta(seconds=settings.bedrock_session_idle_expiry_seconds),
        expired_retention=timedelta(seconds=settings.bedrock_expired_retention_seconds),
        max_tags_per_session=settings.bedrock_max_tags_per_session,
        max_step_payload_bytes=settings.bedrock_max_step_payload_bytes,
        default_page_size=settings.bedrock_default_page_size,
    )


class AppRuntime:
    """The live objects one process shares across requests."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        embedder: Embedder | None,
        clock: Clock = utcnow,
        keyring: Keyring | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.embedder = embedder
        self.clock = clock
        self.keyring = keyring if keyring is not None else build_keyring(settings)
        self.agent_policy = build_agent_policy(settings)

    def uow(self, write: bool = True) -> SqlUnitOfWork:
        """Return a fresh unit of work."""
        return SqlUnitOfWork(self.database, write=write)

    def now(self) -> Any:
        """Return the current time from the injected clock."""
        return self.clock()

    async def readiness(self) -> dict[str, object]:
        """Check the database connection and the schema revision."""
        head = migrate.head_revision()
        try:
            async with self.database.engine.connect() as conn:
                current = await conn.run_sync(migrate.current_revision_sync)
        except Exception as exc:  # the probe reports any failure as not ready
            return {"ready": False, "database": "unreachable", "error": type(exc).__name__}
        return {
            "ready": current == head,
            "database": "ok",
            "schema_revision": current,
            "schema_head": head,
        }

    async def close(self) -> None:
        """Dispose of the database pool."""
        await self.database.dispose()


def build_runtime(
    settings: Settings, *, embedder: Embedder | None = _DEFAULT, clock: Clock = utcnow
) -> AppRuntime:
    """Wire a runtime for the settings; pass `embedder` or `clock` to replace the defaults."""
    if embedder is _DEFAULT:
        embedder = build_embedder(settings)
    return AppRuntime(settings, create_database(settings), embedder, clock)


def build_app(settings: Settings, **overrides: Any) -> Any:
    """Return the ASGI app for the settings."""
    from mindkeeper.http.app import create_app

    return create_app(settings, build_runtime(settings, **overrides))


def app_factory() -> Any:
    """Entry point for uvicorn (`--factory`): settings from the environment."""
    return build_app(Settings())
