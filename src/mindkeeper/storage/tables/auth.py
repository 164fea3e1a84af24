"""Tables of authentication: revoked bearer-key ids and Bedrock access keys.

Bearer keys are stateless tokens; only their revocations are stored (`revoked_keys`, keyed by
the token's `jti`, with the token's own expiry so the row can be forgotten once the key is
dead anyway). Access keys keep their secret sealed with the server's credentials key
(AES-256-GCM, the access key id bound as associated data): SigV4 needs the secret itself, so
it cannot be hashed.
"""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary, String, Table, UniqueConstraint

from mindkeeper.storage.schema import metadata
from mindkeeper.storage.types import IdentityKey, UTCDateTime

KEY_ID_MAX = 64
ACCESS_KEY_ID_MAX = 128
ACCOUNT_ID_LENGTH = 12

revoked_keys = Table(
    "revoked_keys",
    metadata,
    Column("id", IdentityKey, primary_key=True, autoincrement=True),
    Column("key_id", String(KEY_ID_MAX), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=True),
    UniqueConstraint("key_id"),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("id", IdentityKey, primary_key=True, autoincrement=True),
    Column("access_key_id", String(ACCESS_KEY_ID_MAX), nullable=False),
    Column("account_id", String(ACCOUNT_ID_LENGTH), nullable=False),
    Column("sealed_secret", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
    UniqueConstraint("access_key_id"),
)
