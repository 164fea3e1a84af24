"""Ports and values of authentication: scoped keys, their codec, sealed secrets, storage.

A `KeyScope` is what a bearer key grants, in core words: everything (admin), or one workspace,
or one peer of it, or one session and/or one collection of that peer. Keys minted here always
carry the whole parent chain (a peer key names its workspace too), so a check never has to
read meaning into a missing claim. Keys of the v1 surface name resources by public id; keys of
the v3 surface name them by name (workspace, peer, session names), and each surface reads only
its own kind, so a scoped key works on one surface; an admin key works on both.

The codec turns scopes into tokens and back; the secret box seals the secret halves of access
keys at rest; the repository stores revocations and access keys, resolves the owners of
peers, sessions and collections, and answers membership questions by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class KeyScope:
    """The grant of one bearer key. Times are epoch seconds."""

    admin: bool = False
    workspace_id: str | None = None
    peer_id: str | None = None
    session_id: str | None = None
    collection_id: str | None = None
    key_id: str | None = None
    expires_at: int | None = None
    not_before: int | None = None
    workspace_name: str | None = None
    peer_name: str | None = None
    session_name: str | None = None

    @property
    def level(self) -> str:
        """By public ids: `admin`, `workspace`, `peer`, `leaf` (session/collection) or `none`
        (malformed, or a key that names resources by name only)."""
        if self.admin:
            return "admin"
        if not self.workspace_id:
            return "none"
        if self.session_id or self.collection_id:
            return "leaf" if self.peer_id else "none"
        return "peer" if self.peer_id else "workspace"


@dataclass(frozen=True, slots=True)
class AccessKey:
    """A stored access key: its id, the account it acts for and the sealed secret."""

    access_key_id: str
    account_id: str
    sealed_secret: bytes
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Credential:
    """An active access key with its secret opened, ready to verify a signature."""

    access_key_id: str
    secret: str
    account_id: str


class KeyCodec(Protocol):
    """Signs scopes into bearer tokens and verifies tokens back into scopes."""

    def encode(self, scope: KeyScope, issued_at: datetime) -> str:
        """Return a signed token for the scope."""
        ...

    def decode(self, token: str) -> KeyScope:
        """Verify the signature and return the scope; Unauthorized("Invalid JWT") otherwise.

        Does not check expiry or revocation (the caller owns the clock and the database).
        """
        ...


class SecretBox(Protocol):
    """Authenticated encryption of small secrets with one server key."""

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """Encrypt; `context` is bound as associated data."""
        ...

    def open(self, sealed: bytes, context: bytes) -> bytes:
        """Decrypt; ValueError when the value was sealed under another key or context."""
        ...


@dataclass(frozen=True, slots=True)
class Security:
    """What the composition root hands the surfaces: the switch and the loaded secrets."""

    enabled: bool
    codec: KeyCodec | None = None
    box: SecretBox | None = None


class AuthRepository(Protocol):
    """Revoked key ids, access keys, and owner lookups by public id."""

    async def add_revocation(self, key_id: str, expires_at: datetime | None, now: datetime) -> bool:
        """Record a revoked key id; False when it was already revoked."""
        ...

    async def revocations_after(self, after: int) -> list[tuple[int, str]]:
        """Return (sequence, key id) of revocations recorded after `after`, in order."""
        ...

    async def prune_revocations(self, now: datetime) -> int:
        """Forget revocations of keys that have expired anyway; return how many."""
        ...

    async def add_access_key(self, key: AccessKey) -> None:
        """Insert an access key; AlreadyExists on a taken id."""
        ...

    async def get_access_key(self, access_key_id: str) -> AccessKey | None:
        """Return the access key if it exists and is not revoked."""
        ...

    async def list_access_keys(self) -> list[AccessKey]:
        """Return every access key, revoked ones included, oldest first."""
        ...

    async def revoke_access_key(self, access_key_id: str, now: datetime) -> bool:
        """Mark an active access key revoked; False when there is no such active key."""
        ...

    async def workspace_exists(self, workspace_id: str) -> bool:
        """True when the workspace exists."""
        ...

    async def peer_owner(self, peer_id: str) -> str | None:
        """Return the workspace id of the peer."""
        ...

    async def session_owner(self, session_id: str) -> tuple[str, str] | None:
        """Return (workspace id, peer id) of the session."""
        ...

    async def collection_owner(self, collection_id: str) -> tuple[str, str] | None:
        """Return (workspace id, peer id) of the collection."""
        ...

    async def active_sessions(self, workspace: str, peer: str, names: Sequence[str]) -> set[str]:
        """By names: those of the named sessions of the workspace that the peer is an active
        member of."""
        ...

    async def peer_named(self, workspace: str, peer: str) -> bool:
        """By names: True when the workspace has that peer."""
        ...

    async def session_named(self, workspace: str, session: str) -> bool:
        """By names: True when the workspace has that session (active or not)."""
        ...
