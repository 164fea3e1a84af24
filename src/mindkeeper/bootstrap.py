"""Composition root: settings -> database, embedder, clock -> runtime -> HTTP app.

Only this module wires concrete classes together; tests inject fakes through its parameters.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from mindkeeper import bootstrap_models
from mindkeeper.config import Settings
from mindkeeper.core.agents import AgentPolicy
from mindkeeper.core.ports import Embedder, TokenCounter
from mindkeeper.core.ports.agents import Keyring
from mindkeeper.core.ports.auth import Security
from mindkeeper.core.ports.models import ChatModel, ModelRoles, UsageMeter
from mindkeeper.core.ports.webhooks import WebhookTransport
from mindkeeper.core.values import Clock, utcnow
from mindkeeper.errors import StartupError
from mindkeeper.providers.tokens import O200kTokenCounter
from mindkeeper.storage import migrate
from mindkeeper.storage.engine import Database, create_database
from mindkeeper.storage.uow import SqlUnitOfWork

log = logging.getLogger("mindkeeper")

_DEFAULT: Any = object()


def build_embedder(settings: Settings, meter: UsageMeter | None = None) -> Embedder | None:
    """Return the configured embedder (the packaged local model by default)."""
    return bootstrap_models.build_embedder(settings, meter)


def build_keyring(settings: Settings) -> Keyring:
    """Return the session keyring: configured keys, else keys derived from the master key."""
    from mindkeeper.providers.keyring import load_keyring
    from mindkeeper.providers.master_key import master_key_path

    try:
        return load_keyring(
            settings.bedrock_keyring,
            settings.bedrock_keyring_file,
            master_key_path(settings.data_dir),
        )
    except (OSError, ValueError) as exc:
        source = (
            f"MINDKEEPER_BEDROCK_KEYRING_FILE {settings.bedrock_keyring_file}"
            if settings.bedrock_keyring_file is not None
            else "MINDKEEPER_BEDROCK_KEYRING"
        )
        raise StartupError(f"cannot load the keyring from {source}: {exc}") from exc


def build_agent_policy(settings: Settings) -> AgentPolicy:
    """Return the limits and timings of the agent-session store."""
    return AgentPolicy(
        idle_expiry=timedelta(seconds=settings.bedrock_session_idle_expiry_seconds),
        expired_retention=timedelta(seconds=settings.bedrock_expired_retention_seconds),
        max_tags_per_session=settings.bedrock_max_tags_per_session,
        max_step_payload_bytes=settings.bedrock_max_step_payload_bytes,
        default_page_size=settings.bedrock_default_page_size,
    )


def build_security(settings: Settings) -> Security:
    """Load the auth switch and secrets (SecretError when auth is on without a JWT secret)."""
    from mindkeeper.providers.secrets import load_security

    return load_security(
        settings.auth_enabled,
        settings.auth_jwt_secret,
        settings.auth_jwt_secret_file,
        settings.auth_credentials_key,
        settings.auth_credentials_key_file,
    )


def build_webhook_transport(settings: Settings) -> WebhookTransport:
    """Return the webhook transport (SecretError when a configured secret cannot be read)."""
    from mindkeeper.providers.webhooks import (
        HttpWebhookTransport,
        read_configured_secret,
        webhook_secret_path,
    )

    return HttpWebhookTransport(
        read_configured_secret(settings.webhook_secret, settings.webhook_secret_file),
        webhook_secret_path(settings.data_dir),
        settings.webhook_timeout_seconds,
        settings.webhook_allow_private,
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
        models: ModelRoles | None = None,
        usage: UsageMeter | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.embedder = embedder
        self.tokens: TokenCounter = O200kTokenCounter()
        self.clock = clock
        self.keyring = keyring if keyring is not None else build_keyring(settings)
        self.agent_policy = build_agent_policy(settings)
        self.usage = usage if usage is not None else UsageMeter(dict(settings.model_prices))
        self.models = (
            models if models is not None else bootstrap_models.build_models(settings, self.usage)
        )
        self.deriver_policy = bootstrap_models.build_deriver_policy(settings)
        self.dialectic_policy = bootstrap_models.build_dialectic_policy(settings)
        self.worker_enabled = settings.worker_enabled
        self.security = build_security(settings)
        self.webhooks = build_webhook_transport(settings)

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
        report: dict[str, object] = {
            "ready": current == head,
            "database": "ok",
            "schema_revision": current,
            "schema_head": head,
        }
        if current == head:
            from mindkeeper.core.services import queue

            try:
                stall = await queue.stall(self)
            except Exception as exc:  # the probe reports any failure as not ready
                stall = queue.Stall(True, f"queue unreadable: {type(exc).__name__}")
            report["queue"] = {"stalled": stall.stalled, "reason": stall.reason}
            report["ready"] = not stall.stalled
        return report

    async def close(self) -> None:
        """Close the model clients and dispose of the database pool."""
        await bootstrap_models.close_models(self.models, self.embedder)
        await self.webhooks.close()
        await self.database.dispose()


def build_runtime(
    settings: Settings,
    *,
    embedder: Embedder | None = _DEFAULT,
    clock: Clock = utcnow,
    chat_model: ChatModel | None = _DEFAULT,
    models: ModelRoles | None = None,
) -> AppRuntime:
    """Wire a runtime for the settings; pass `embedder` or `clock` to replace the defaults.

    `chat_model` serves every role (None turns them all off); `models` sets each role.
    """
    usage = UsageMeter(dict(settings.model_prices))
    if embedder is _DEFAULT:
        embedder = build_embedder(settings, usage)
    if models is None and chat_model is not _DEFAULT:
        models = ModelRoles(chat_model, chat_model, chat_model)
    return AppRuntime(
        settings, create_database(settings), embedder, clock, models=models, usage=usage
    )


def build_app(settings: Settings, **overrides: Any) -> Any:
    """Return the ASGI app for the settings."""
    from mindkeeper.http.app import create_app

    return create_app(settings, build_runtime(settings, **overrides))


def app_factory() -> Any:
    """Entry point for uvicorn (`--factory`): settings from the environment."""
    return build_app(Settings())
