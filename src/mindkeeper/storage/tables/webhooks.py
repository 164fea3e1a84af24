"""Webhook endpoints registered per workspace (deliveries travel through the job queue)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Text, UniqueConstraint

from mindkeeper.storage.schema import metadata
from mindkeeper.storage.tables.memory import PUBLIC_ID_LENGTH
from mindkeeper.storage.types import IdentityKey, UTCDateTime

URL_MAX = 2048

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", IdentityKey, primary_key=True, autoincrement=True),
    Column("public_id", String(PUBLIC_ID_LENGTH), nullable=False, unique=True),
    Column(
        "workspace_id", String(PUBLIC_ID_LENGTH), ForeignKey("workspaces.public_id"), nullable=False
    ),
    Column("url", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("workspace_id", "url"),
    CheckConstraint(f"length(url) <= {URL_MAX}", name="url_length"),
)
