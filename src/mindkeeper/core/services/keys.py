"""Use cases of bearer keys: mint admin and scoped keys, verify a presented key, revoke one.

A scoped key always carries its whole parent chain. Keys by public id (the v1 surface) have
the chain resolved from the database when minted: a peer key names its workspace, a session or
collection key names its peer and workspace. Keys by name (the v3 surface) name a workspace
and, below it, a peer and/or a session; names are not looked up, since v3 creates resources
on first use.
Verification checks the signature (the codec), expiry (the caller's clock) and revocation (a
list of revoked key ids read from the database at most every `refresh_seconds`).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from mindkeeper.core.ports import UnitOfWork
from mindkeeper.core.ports.auth import KeyCodec, KeyScope
from mindkeeper.errors import Invalid, NotFound, Unauthorized

NO_IDS = "At least one of app_id, user_id, session_id, or collection_id must be provided"
NO_NAMES = "At least one of workspace_id, peer_id, or session_id must be provided"
NO_WORKSPACE = "workspace_id is required when scoping a key to a peer or session"
EXPIRED = "JWT has expired"
REVOKED = "JWT has been revoked"
NOT_YET_VALID = "JWT is not valid yet"
KEY_ID_MAX = 64
_CACHE_MAX = 4096


@dataclass(frozen=True, slots=True)
class MintedKey:
    """A freshly minted key and what it grants."""

    token: str
    scope: KeyScope


def _epoch(value: datetime | None, now: datetime) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if value <= now:
        raise Invalid("expires_at must be in the future")
    return int(value.timestamp())


def new_key_id() -> str:
    """A fresh random key id (the `jti` claim)."""
    return secrets.token_urlsafe(16)


def mint_admin(codec: KeyCodec, now: datetime, expires_at: datetime | None = None) -> MintedKey:
    """Mint a key that reaches everything, including minting further keys."""
    scope = KeyScope(admin=True, key_id=new_key_id(), expires_at=_epoch(expires_at, now))
    return MintedKey(codec.encode(scope, now), scope)


def _agree(name: str, given: str | None, found: str, what: str) -> None:
    if given is not None and given != found:
        raise Invalid(f"{what} does not belong to the given {name}")


async def resolve_scope(
    uow: UnitOfWork,
    *,
    workspace_id: str | None = None,
    peer_id: str | None = None,
    session_id: str | None = None,
    collection_id: str | None = None,
) -> KeyScope:
    """Complete the parent chain of the named resources from the database.

    NotFound for an id that does not exist; Invalid when the ids do not belong together or none
    is given.
    """
    if not (workspace_id or peer_id or session_id or collection_id):
        raise Invalid(NO_IDS)
    async with uow:
        for leaf, lookup, label in (
            (session_id, uow.auth.session_owner, "Session"),
            (collection_id, uow.auth.collection_owner, "Collection"),
        ):
            if not leaf:
                continue
            owner = await lookup(leaf)
            if owner is None:
                raise NotFound(f"{label} with ID {leaf} not found")
            _agree("app_id", workspace_id, owner[0], label)
            _agree("user_id", peer_id, owner[1], label)
            workspace_id, peer_id = owner
        if peer_id:
            owner_workspace = await uow.auth.peer_owner(peer_id)
            if owner_workspace is None:
                raise NotFound(f"User with ID '{peer_id}' not found")
            _agree("app_id", workspace_id, owner_workspace, "User")
            workspace_id = owner_workspace
        elif workspace_id and not await uow.auth.workspace_exists(workspace_id):
            raise NotFound(f"App with ID {workspace_id} not found")
    return KeyScope(
        workspace_id=workspace_id,
        peer_id=peer_id or None,
        session_id=session_id or None,
        collection_id=collection_id or None,
    )


async def mint(
    uow: UnitOfWork,
    codec: KeyCodec,
    now: datetime,
    *,
    workspace_id: str | None = None,
    peer_id: str | None = None,
    session_id: str | None = None,
    collection_id: str | None = None,
    expires_at: datetime | None = None,
) -> MintedKey:
    """Mint a key for the named resources, with the parent chain resolved."""
    chain = await resolve_scope(
        uow,
        workspace_id=workspace_id,
        peer_id=peer_id,
        session_id=session_id,
        collection_id=collection_id,
    )
    scope = KeyScope(
        workspace_id=chain.workspace_id,
        peer_id=chain.peer_id,
        session_id=chain.session_id,
        collection_id=chain.collection_id,
        key_id=new_key_id(),
        expires_at=_epoch(expires_at, now),
    )
    return MintedKey(codec.encode(scope, now), scope)


def mint_by_name(
    codec: KeyCodec,
    now: datetime,
    *,
    workspace: str | None = None,
    peer: str | None = None,
    session: str | None = None,
    expires_at: datetime | None = None,
) -> MintedKey:
    """Mint a key for a workspace, or a peer and/or session of it, named by name.

    Invalid when nothing is named, when a peer or session comes without its workspace, or
    when `expires_at` is not in the future.
    """
    if not (workspace or peer or session):
        raise Invalid(NO_NAMES)
    if not workspace:
        raise Invalid(NO_WORKSPACE)
    scope = KeyScope(
        workspace_name=workspace,
        peer_name=peer or None,
        session_name=session or None,
        key_id=new_key_id(),
        expires_at=_epoch(expires_at, now),
    )
    return MintedKey(codec.encode(scope, now), scope)


async def revoke(uow: UnitOfWork, codec: KeyCodec, key_or_id: str, now: datetime) -> str:
    """Revoke a key given as the token itself or its key id; return the key id."""
    key_or_id = key_or_id.strip()
    expires_at: datetime | None = None
    if key_or_id.count(".") == 2:
        try:
            scope = codec.decode(key_or_id)
        except Unauthorized:
            raise Invalid("This key was not signed with this server's JWT secret") from None
        if scope.key_id is None:
            raise Invalid(
                "This key has no id (jti) and cannot be revoked alone; "
                "rotate the JWT secret to invalidate it"
            )
        key_id = scope.key_id
        if scope.expires_at is not None:
            try:
                expires_at = datetime.fromtimestamp(scope.expires_at, UTC)
            except (OverflowError, OSError, ValueError):
                expires_at = None
    else:
        key_id = key_or_id
    if not key_id or len(key_id) > KEY_ID_MAX:
        raise Invalid(f"A key id is 1 to {KEY_ID_MAX} characters")
    async with uow:
        await uow.auth.add_revocation(key_id, expires_at, now)
        await uow.auth.prune_revocations(now)
        await uow.commit()
    return key_id


class KeyVerifier:
    """Turns a presented token into its scope, refusing forged, expired and revoked keys.

    Decoded tokens are memoised (the signature is checked once per distinct token); the
    revocation list is re-read from the database at most every `refresh_seconds`, so a
    revocation takes effect within that time in every server process.
    """

    def __init__(
        self,
        codec: KeyCodec,
        refresh_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._codec = codec
        self._refresh_seconds = refresh_seconds
        self._monotonic = monotonic
        self._decoded: dict[str, KeyScope] = {}
        self._revoked: set[str] = set()
        self._last_seen = 0
        self._checked_at: float | None = None
        self._lock = asyncio.Lock()

    def _decode(self, token: str) -> KeyScope:
        scope = self._decoded.get(token)
        if scope is None:
            scope = self._codec.decode(token)
            if len(self._decoded) >= _CACHE_MAX:
                self._decoded.clear()
            self._decoded[token] = scope
        return scope

    def _fresh(self) -> bool:
        checked = self._checked_at
        return checked is not None and self._monotonic() - checked < self._refresh_seconds

    async def _refresh(self, open_uow: Callable[[], UnitOfWork]) -> None:
        if self._fresh():
            return
        async with self._lock:
            if self._fresh():
                return
            uow = open_uow()
            async with uow:
                rows = await uow.auth.revocations_after(self._last_seen)
            for sequence, key_id in rows:
                self._revoked.add(key_id)
                self._last_seen = max(self._last_seen, sequence)
            self._checked_at = self._monotonic()

    async def verify(
        self, token: str, open_uow: Callable[[], UnitOfWork], now: datetime
    ) -> KeyScope:
        """Return the token's scope; Unauthorized when invalid, expired or revoked."""
        scope = self._decode(token)
        seconds = now.timestamp()
        if scope.expires_at is not None and seconds >= scope.expires_at:
            raise Unauthorized(EXPIRED)
        if scope.not_before is not None and seconds < scope.not_before:
            raise Unauthorized(NOT_YET_VALID)
        if scope.key_id is not None:
            await self._refresh(open_uow)
            if scope.key_id in self._revoked:
                raise Unauthorized(REVOKED)
        return scope
