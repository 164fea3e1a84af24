"""Settings: the one validated configuration object, read from MINDKEEPER_* variables and `.env`.

This is the only module that reads the environment. Everything else receives a `Settings`.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=20, ge=0, le=500)
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    sql_echo: bool = False

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: str = "info"
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)

    embedder: str = Field(default="local", pattern=r"^(local|none)$")
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

    worker_enabled: bool = True
    worker_poll_seconds: float = Field(default=1.0, gt=0)

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
