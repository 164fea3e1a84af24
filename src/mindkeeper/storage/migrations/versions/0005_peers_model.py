"""peers model: session members, message senders, conclusions, peer cards, message vectors,
webhook endpoints

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

Moves the memory model to the one both Honcho surfaces share: sessions get a name and a
configuration and may have no owner; who takes part in a session is `session_peers`;
messages record their sender, their position in the session and their token count;
collections and documents name the observed peer, and documents become conclusions (level,
provenance session, soft delete). Existing rows are carried over in place:

* each session is named after its public id and gets its owner as a member;
* a message written by the user (`is_user`) was sent by the owner; the others were sent by the
  workspace's application peer, named `assistant` (created, flagged `synthetic`, and made a
  member of those sessions, unless a user of that name already exists, who is then the sender);
* positions follow insertion order; token counts are computed here (o200k_base);
* the deriver's `honcho` collection of a peer becomes that peer's conclusions about itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
from alembic import op

import mindkeeper.storage.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ID = sa.String(length=21)
HNSW_DIMENSIONS = (384, 768, 1024, 1536)
ASSISTANT = "assistant"
_BATCH = 1000


def _utc() -> mindkeeper.storage.types.UTCDateTime:
    return mindkeeper.storage.types.UTCDateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.public_id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    empty = sa.text("'{}'")
    with op.batch_alter_table("workspaces") as b:
        b.add_column(sa.Column("configuration", _json(), server_default=empty, nullable=False))
    with op.batch_alter_table("peers") as b:
        b.add_column(sa.Column("configuration", _json(), server_default=empty, nullable=False))
        b.add_column(
            sa.Column("synthetic", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
    with op.batch_alter_table("sessions") as b:
        b.add_column(sa.Column("name", sa.Text(), nullable=True))
        b.add_column(sa.Column("configuration", _json(), server_default=empty, nullable=False))
    op.execute("UPDATE sessions SET name = public_id")
    with op.batch_alter_table("sessions") as b:
        b.alter_column("name", existing_type=sa.Text(), nullable=False)
        b.alter_column("peer_id", existing_type=_ID, nullable=True)
        b.create_unique_constraint(b.f("uq_sessions_workspace_id_name"), ["workspace_id", "name"])
        b.create_check_constraint(b.f("ck_sessions_name_length"), "length(name) <= 512")
        b.create_index(b.f("ix_sessions_workspace_id_id"), ["workspace_id", "id"])

    op.create_table(
        "session_peers",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("session_id", _ID, nullable=False),
        sa.Column("peer_id", _ID, nullable=False),
        sa.Column("observe_me", sa.Boolean(), nullable=True),
        sa.Column("observe_others", sa.Boolean(), nullable=True),
        sa.Column("joined_at", _utc(), nullable=False),
        sa.Column("left_at", _utc(), nullable=True),
        _fk("session_peers", "peer_id", "peers"),
        _fk("session_peers", "session_id", "sessions"),
        _fk("session_peers", "workspace_id", "workspaces"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_peers")),
        sa.UniqueConstraint(
            "session_id", "peer_id", name=op.f("uq_session_peers_session_id_peer_id")
        ),
    )
    with op.batch_alter_table("session_peers") as b:
        b.create_index(b.f("ix_session_peers_peer_id_session_id"), ["peer_id", "session_id"])

    with op.batch_alter_table("messages") as b:
        b.add_column(sa.Column("sender_id", _ID, nullable=True))
        b.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        b.add_column(
            sa.Column("token_count", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    _carry_messages()
    with op.batch_alter_table("messages") as b:
        b.alter_column("peer_id", existing_type=_ID, nullable=True)
        b.alter_column("sender_id", existing_type=_ID, nullable=False)
        b.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        b.create_foreign_key(
            b.f("fk_messages_sender_id_peers"), "peers", ["sender_id"], ["public_id"]
        )
        b.create_index(
            b.f("ix_messages_workspace_id_sender_id_id"), ["workspace_id", "sender_id", "id"]
        )

    with op.batch_alter_table("collections") as b:
        b.add_column(sa.Column("observed_id", _ID, nullable=True))
        b.create_foreign_key(
            b.f("fk_collections_observed_id_peers"), "peers", ["observed_id"], ["public_id"]
        )
    with op.batch_alter_table("documents") as b:
        b.add_column(sa.Column("observed_id", _ID, nullable=True))
        b.add_column(sa.Column("session_id", _ID, nullable=True))
        b.add_column(sa.Column("level", sa.String(length=16), nullable=True))
        b.add_column(sa.Column("source_ids", _json(), nullable=True))
        b.add_column(
            sa.Column("times_derived", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
        b.add_column(sa.Column("deleted_at", _utc(), nullable=True))
        b.create_foreign_key(
            b.f("fk_documents_observed_id_peers"), "peers", ["observed_id"], ["public_id"]
        )
        b.create_check_constraint(
            b.f("ck_documents_level"),
            "level IS NULL OR level IN ('explicit', 'deductive', 'inductive', 'contradiction')",
        )
        b.create_index(
            b.f("ix_documents_workspace_id_peer_id_observed_id_id"),
            ["workspace_id", "peer_id", "observed_id", "id"],
        )
    op.execute("UPDATE collections SET observed_id = peer_id WHERE name = 'honcho'")
    op.execute(
        "UPDATE documents SET observed_id = peer_id, level = 'explicit' WHERE collection_id IN "
        "(SELECT public_id FROM collections WHERE name = 'honcho')"
    )

    with op.batch_alter_table("jobs") as b:
        b.alter_column("peer_id", existing_type=_ID, nullable=True)
        b.alter_column("session_id", existing_type=_ID, nullable=True)
        b.alter_column("message_id", existing_type=_ID, nullable=True)
        b.add_column(sa.Column("payload", _json(), nullable=True))

    op.create_table(
        "peer_cards",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("observer_id", _ID, nullable=False),
        sa.Column("observed_id", _ID, nullable=False),
        sa.Column("card", _json(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        _fk("peer_cards", "observed_id", "peers"),
        _fk("peer_cards", "observer_id", "peers"),
        _fk("peer_cards", "workspace_id", "workspaces"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peer_cards")),
        sa.UniqueConstraint(
            "observer_id", "observed_id", name=op.f("uq_peer_cards_observer_id_observed_id")
        ),
    )
    op.create_table(
        "message_vectors",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("message_id", _ID, nullable=False),
        sa.Column("embedding", mindkeeper.storage.types.Embedding(), nullable=False),
        sa.Column("embedding_model", sa.String(length=200), nullable=False),
        sa.Column("embedding_dim", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.public_id"],
            name=op.f("fk_message_vectors_message_id_messages"),
            ondelete="CASCADE",
        ),
        _fk("message_vectors", "workspace_id", "workspaces"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_vectors")),
        sa.UniqueConstraint("message_id", name=op.f("uq_message_vectors_message_id")),
    )
    with op.batch_alter_table("message_vectors") as b:
        b.create_index(b.f("ix_message_vectors_workspace_id_id"), ["workspace_id", "id"])
    postgres = op.get_bind().dialect.name == "postgresql"
    for dim in HNSW_DIMENSIONS:
        name = f"ix_message_vectors_embedding_hnsw_{dim}"
        if postgres:
            op.execute(
                f"CREATE INDEX {name} ON message_vectors USING hnsw "
                f"((embedding::vector({dim})) vector_cosine_ops) WHERE embedding_dim = {dim}"
            )
        else:
            op.execute(f"CREATE INDEX {name} ON message_vectors (embedding) WHERE 0")

    op.create_table(
        "webhook_endpoints",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("public_id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.CheckConstraint("length(url) <= 2048", name=op.f("ck_webhook_endpoints_url_length")),
        _fk("webhook_endpoints", "workspace_id", "workspaces"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
        sa.UniqueConstraint("public_id", name=op.f("uq_webhook_endpoints_public_id")),
        sa.UniqueConstraint(
            "workspace_id", "url", name=op.f("uq_webhook_endpoints_workspace_id_url")
        ),
    )


def _carry_messages() -> None:
    """Members, senders, positions and token counts of the rows that exist."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    # Owners are members of their sessions.
    bind.execute(
        sa.text(
            "INSERT INTO session_peers (workspace_id, session_id, peer_id, joined_at) "
            "SELECT workspace_id, public_id, peer_id, created_at FROM sessions"
        )
    )
    bind.execute(sa.text("UPDATE messages SET sender_id = peer_id WHERE is_user"))
    workspaces = bind.execute(
        sa.text("SELECT DISTINCT workspace_id FROM messages WHERE NOT is_user")
    ).scalars()
    for workspace_id in list(workspaces):
        sender = _assistant(bind, workspace_id, now)
        bind.execute(
            sa.text(
                "UPDATE messages SET sender_id = :sender WHERE workspace_id = :w AND NOT is_user"
            ),
            {"sender": sender, "w": workspace_id},
        )
        bind.execute(
            sa.text(
                "INSERT INTO session_peers (workspace_id, session_id, peer_id, joined_at) "
                "SELECT DISTINCT m.workspace_id, m.session_id, :sender, s.created_at "
                "FROM messages m JOIN sessions s ON s.public_id = m.session_id "
                "WHERE m.workspace_id = :w AND NOT m.is_user AND NOT EXISTS ("
                "SELECT 1 FROM session_peers sp "
                "WHERE sp.session_id = m.session_id AND sp.peer_id = :sender)"
            ),
            {"sender": sender, "w": workspace_id},
        )
    bind.execute(
        sa.text(
            "UPDATE messages SET seq = ranked.seq FROM ("
            "SELECT id, row_number() OVER (PARTITION BY session_id ORDER BY id) AS seq "
            "FROM messages) AS ranked WHERE messages.id = ranked.id"
        )
    )
    from mindkeeper.providers.tokens import O200kTokenCounter

    counter = O200kTokenCounter()
    last = 0
    while True:
        rows = bind.execute(
            sa.text("SELECT id, content FROM messages WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": _BATCH},
        ).all()
        if not rows:
            break
        bind.execute(
            sa.text("UPDATE messages SET token_count = :n WHERE id = :id"),
            [{"id": r.id, "n": counter.count(r.content)} for r in rows],
        )
        last = rows[-1].id


def _assistant(bind: sa.Connection, workspace_id: str, now: datetime) -> str:
    """Public id of the workspace's application peer, created when missing."""
    found = bind.execute(
        sa.text("SELECT public_id FROM peers WHERE workspace_id = :w AND name = :n"),
        {"w": workspace_id, "n": ASSISTANT},
    ).scalar()
    if found is not None:
        return str(found)
    from mindkeeper.core.values import new_id

    public_id = new_id()
    peers = sa.table(
        "peers",
        sa.column("public_id"),
        sa.column("name"),
        sa.column("workspace_id"),
        sa.column("metadata", _json()),
        sa.column("configuration", _json()),
        sa.column("synthetic", sa.Boolean()),
        sa.column("created_at", _utc()),
    )
    bind.execute(
        peers.insert().values(
            public_id=public_id,
            name=ASSISTANT,
            workspace_id=workspace_id,
            metadata={},
            configuration={},
            synthetic=True,
            created_at=now,
        )
    )
    return public_id


def downgrade() -> None:
    op.drop_table("webhook_endpoints")
    for dim in HNSW_DIMENSIONS:
        op.execute(f"DROP INDEX IF EXISTS ix_message_vectors_embedding_hnsw_{dim}")
    op.drop_table("message_vectors")
    op.drop_table("peer_cards")
    op.execute("DELETE FROM jobs WHERE peer_id IS NULL OR session_id IS NULL OR message_id IS NULL")
    with op.batch_alter_table("jobs") as b:
        b.drop_column("payload")
        b.alter_column("message_id", existing_type=_ID, nullable=False)
        b.alter_column("session_id", existing_type=_ID, nullable=False)
        b.alter_column("peer_id", existing_type=_ID, nullable=False)
    with op.batch_alter_table("documents") as b:
        b.drop_index(b.f("ix_documents_workspace_id_peer_id_observed_id_id"))
        b.drop_constraint(b.f("ck_documents_level"), type_="check")
        b.drop_constraint(b.f("fk_documents_observed_id_peers"), type_="foreignkey")
        for column in ("deleted_at", "times_derived", "source_ids", "level", "session_id"):
            b.drop_column(column)
        b.drop_column("observed_id")
    with op.batch_alter_table("collections") as b:
        b.drop_constraint(b.f("fk_collections_observed_id_peers"), type_="foreignkey")
        b.drop_column("observed_id")
    op.execute("DELETE FROM messages WHERE peer_id IS NULL")
    with op.batch_alter_table("messages") as b:
        b.drop_index(b.f("ix_messages_workspace_id_sender_id_id"))
        b.drop_constraint(b.f("fk_messages_sender_id_peers"), type_="foreignkey")
        b.drop_column("token_count")
        b.drop_column("seq")
        b.drop_column("sender_id")
        b.alter_column("peer_id", existing_type=_ID, nullable=False)
    op.drop_table("session_peers")
    op.execute("DELETE FROM sessions WHERE peer_id IS NULL")
    with op.batch_alter_table("sessions") as b:
        b.drop_index(b.f("ix_sessions_workspace_id_id"))
        b.drop_constraint(b.f("ck_sessions_name_length"), type_="check")
        b.drop_constraint(b.f("uq_sessions_workspace_id_name"), type_="unique")
        b.drop_column("configuration")
        b.drop_column("name")
        b.alter_column("peer_id", existing_type=_ID, nullable=False)
    with op.batch_alter_table("peers") as b:
        b.drop_column("synthetic")
        b.drop_column("configuration")
    with op.batch_alter_table("workspaces") as b:
        b.drop_column("configuration")
