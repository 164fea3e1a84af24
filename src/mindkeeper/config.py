"""Settings: the one validated configuration object, read from MINDKEEPER_* variables and `.env`.

This is the only module that reads the environment. Everything else receives a `Settings`.
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

APP_NAME = "mindkeeper"


def default_data_dir() -> Path:
    """Return the per-user data directory where the default SQLite file lives."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_database_url() -> str:
    """Return the embedded default: a SQLite file in the user's data directory."""
    return f"sqlite+aiosqlite:///{default_data_dir() / 'mindkeeper.db'}"


class Settings(BaseSettings):
    """Every knob of the server, validated once at start."""

    model_config = SettingsConfigDict(
        env_prefix="MINDKEEPER_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    database_url: str = Field(default_factory=default_database_url)
    #: The server's own files (the local master key of encrypted Bedrock sessions).
    data_dir: Path = Field(default_factory=default_data_dir)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=20, ge=0, le=500)
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    sql_echo: bool = False

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: str = "info"
    #: `text`, or `json`: one JSON object per line with the request id (docs/operations.md).
    log_format: str = Field(default="text", pattern=r"^(text|json)$")
    #: Serve Prometheus metrics at /metrics (admin key when authentication is on).
    metrics_enabled: bool = True
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)

    embedder: str = Field(default="local", pattern=r"^(local|local-fp32|openai|none)$")
    embedder_threads: int = Field(default=1, ge=1, le=64)

    bedrock_region: str = Field(default="us-east-1", pattern=r"^[a-z0-9-]+$")
    bedrock_account_id: str = Field(default="000000000000", pattern=r"^[0-9]{12}$")
    bedrock_partition: str = Field(default="aws", pattern=r"^aws(-[a-z-]+)?$")
    bedrock_session_idle_expiry_seconds: int = Field(default=30 * 24 * 3600, ge=1)
    bedrock_expired_retention_seconds: int = Field(default=7 * 24 * 3600, ge=0)
    bedrock_max_step_payload_bytes: int = Field(default=6 * 1024 * 1024, ge=1024)
    bedrock_max_tags_per_session: int = Field(default=50, ge=1, le=200)
    bedrock_keyring: dict[str, str] = Field(default_factory=dict)
    bedrock_keyring_file: Path | None = None
    bedrock_default_page_size: int = Field(default=10, ge=1, le=1000)
    bedrock_maintenance_interval_seconds: float = Field(default=60.0, gt=0)
    # AgentCore Memory (docs/agentcore.md); account, region and partition are the bedrock_* ones.
    agentcore_max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    agentcore_max_memories: int = Field(default=50, ge=1, le=100_000)

    worker_enabled: bool = True
    worker_poll_seconds: float = Field(default=1.0, gt=0)

    # Models (docs/models.md). A role without a model is off; roles fall back to chat_*.
    chat_provider: str = Field(default="openai", pattern=r"^(openai|anthropic)$")
    chat_model: str | None = None
    chat_base_url: str | None = None
    chat_api_key: SecretStr | None = None
    deriver_provider: str | None = Field(default=None, pattern=r"^(openai|anthropic)$")
    deriver_model: str | None = None
    deriver_base_url: str | None = None
    deriver_api_key: SecretStr | None = None
    summary_provider: str | None = Field(default=None, pattern=r"^(openai|anthropic)$")
    summary_model: str | None = None
    summary_base_url: str | None = None
    summary_api_key: SecretStr | None = None
    dialectic_provider: str | None = Field(default=None, pattern=r"^(openai|anthropic)$")
    dialectic_model: str | None = None
    dialectic_base_url: str | None = None
    dialectic_api_key: SecretStr | None = None
    model_timeout_seconds: float = Field(default=60.0, gt=0)
    model_max_retries: int = Field(default=3, ge=0, le=10)
    model_retry_base_seconds: float = Field(default=0.5, ge=0)
    model_retry_max_seconds: float = Field(default=20.0, ge=0)
    #: USD per million tokens, by model name: {"gpt-4o-mini": [0.15, 0.6]} (input, output).
    model_prices: dict[str, tuple[float, float]] = Field(default_factory=dict)
    embedding_model: str | None = None
    embedding_base_url: str | None = None
    embedding_api_key: SecretStr | None = None
    embedding_dimensions: int | None = Field(default=None, ge=1, le=16_000)
    embedding_model_id: str | None = None
    embedding_batch_size: int = Field(default=64, ge=1, le=2048)
    model_cache_dir: Path | None = None

    # Deriver queue and worker (docs/deriver.md).
    deriver_concurrency: int = Field(default=1, ge=1, le=256)
    deriver_max_attempts: int = Field(default=5, ge=1, le=100)
    deriver_retry_base_seconds: float = Field(default=5.0, ge=0)
    deriver_retry_max_seconds: float = Field(default=600.0, ge=0)
    deriver_lease_seconds: float = Field(default=120.0, gt=0)
    deriver_stall_seconds: float = Field(default=600.0, gt=0)
    deriver_shutdown_grace_seconds: float = Field(default=20.0, ge=0)
    deriver_done_retention_seconds: float = Field(default=7 * 24 * 3600.0, ge=0)
    deriver_short_summary_every: int = Field(default=20, ge=1)
    deriver_long_summary_every: int = Field(default=60, ge=1)
    deriver_dedup_distance: float = Field(default=0.15, ge=0, le=2)
    deriver_context_messages: int = Field(default=10, ge=0, le=1000)
    deriver_batch_max_messages: int = Field(default=10, ge=1, le=100)
    deriver_batch_max_tokens: int = Field(default=4000, ge=1)
    dream_enabled: bool = True
    dream_document_threshold: int = Field(default=50, ge=0)
    dream_idle_seconds: float = Field(default=3600.0, ge=0)
    dream_min_interval_seconds: float = Field(default=8 * 3600.0, ge=0)
    dialectic_max_facts: int = Field(default=10, ge=0, le=200)
    dialectic_fact_max_distance: float = Field(default=0.85, ge=0, le=2)
    dialectic_context_messages: int = Field(default=20, ge=0, le=1000)
    dialectic_max_tokens: int = Field(default=1000, ge=1, le=100_000)

    # Webhooks (docs/honcho-v3.md). Without a secret, one is generated in the data directory.
    webhook_secret: SecretStr | None = None
    webhook_secret_file: Path | None = None
    webhook_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    webhook_allow_private: bool = False

    # Security (docs/security.md). One switch turns on Honcho bearer keys and Bedrock SigV4.
    auth_enabled: bool = False
    auth_jwt_secret: SecretStr | None = None
    auth_jwt_secret_file: Path | None = None
    auth_credentials_key: SecretStr | None = None
    auth_credentials_key_file: Path | None = None
    auth_clock_skew_seconds: int = Field(default=300, ge=1, le=3600)
    auth_cache_seconds: float = Field(default=1.0, ge=0)
    rate_limit_per_second: float = Field(default=0.0, ge=0)
    rate_limit_burst: int = Field(default=100, ge=1)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _cors_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        value = value.lower()
        if value not in {"critical", "error", "warning", "info", "debug"}:
            raise ValueError("log_level must be one of critical, error, warning, info, debug")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @cached_property
    def is_sqlite(self) -> bool:
        """True when the configured database is SQLite."""
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """Return the SQLite file path, or None for PostgreSQL or in-memory SQLite."""
        if not self.is_sqlite:
            return None
        match = re.match(r"^sqlite\+aiosqlite:///(.+)$", self.database_url)
        if not match or match.group(1) == ":memory:":
            return None
        return Path(match.group(1).split("?", 1)[0])

    def redacted(self) -> dict[str, Any]:
        """Return the settings as a dict with secrets masked, for `doctor` and logs."""
        data = self.model_dump(mode="json")
        data["database_url"] = redact_url(self.database_url)
        data["bedrock_keyring"] = {arn: "***" for arn in self.bedrock_keyring}
        return data


def normalise_database_url(url: str) -> str:
    """Map plain `postgresql://` and `sqlite://` URLs to the async drivers we use."""
    for prefix in (
        "postgresql://",
        "postgres://",
        "postgresql+psycopg://",
        "postgresql+psycopg2://",
    ):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    if not url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        raise ValueError("database_url must be a postgresql:// or sqlite:/// URL")
    return url


def redact_url(url: str) -> str:
    """Hide the password of a database URL."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)
