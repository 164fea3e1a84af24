"""Use cases of access keys (SigV4 credentials of the Bedrock surface): create, list, revoke.

An access key acts for one 12-digit account; sessions belong to the account that created them.
The secret half is returned once at creation and stored sealed with the server's credentials
key (SigV4 needs the secret itself to recompute a signature, so it cannot be hashed).
"""

from __future__ import annotations

import base64
import builtins
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from mindkeeper.core.ports import UnitOfWork
from mindkeeper.core.ports.auth import AccessKey, Credential, SecretBox
from mindkeeper.core.values import utcnow
from mindkeeper.errors import Invalid, NotFound, Unavailable

log = logging.getLogger("mindkeeper.auth")

ACCOUNT_PATTERN = re.compile(r"[0-9]{12}")
ACCESS_KEY_PREFIX = "MKIA"
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_CACHE_MAX = 4096


@dataclass(frozen=True, slots=True)
class NewAccessKey:
    """A freshly created access key; the secret is shown once and never again."""

    access_key_id: str
    secret_access_key: str
    account_id: str


def new_access_key_id() -> str:
    """A 20-character access key id (`MKIA` + 16 base32 characters), AWS-shaped."""
    return ACCESS_KEY_PREFIX + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def new_secret() -> str:
    """A 40-character secret access key, AWS-shaped."""
    return base64.b64encode(os.urandom(30)).decode("ascii")


def _require_box(box: SecretBox | None) -> SecretBox:
    if box is None:
        raise Unavailable(
            "No credentials key is configured: set MINDKEEPER_AUTH_CREDENTIALS_KEY_FILE "
            "(`mindkeeper credentials generate-key` makes one)"
        )
    return box


async def create(uow: UnitOfWork, box: SecretBox | None, account_id: str) -> NewAccessKey:
    """Create an access key for the account and return it with its secret."""
    sealer = _require_box(box)
    if not ACCOUNT_PATTERN.fullmatch(account_id):
        raise Invalid("The account id must be 12 digits")
    key_id, secret = new_access_key_id(), new_secret()
    sealed = sealer.seal(secret.encode("ascii"), key_id.encode("ascii"))
    async with uow:
        await uow.auth.add_access_key(AccessKey(key_id, account_id, sealed, utcnow()))
        await uow.commit()
    return NewAccessKey(key_id, secret, account_id)


async def list(uow: UnitOfWork) -> builtins.list[AccessKey]:
    """Return every access key (secrets stay sealed), oldest first."""
    async with uow:
        return await uow.auth.list_access_keys()


async def revoke(uow: UnitOfWork, access_key_id: str) -> None:
    """Revoke an active access key; NotFound when there is none with that id."""
    async with uow:
        if not await uow.auth.revoke_access_key(access_key_id, utcnow()):
            raise NotFound(f"No active access key {access_key_id}")
        await uow.commit()


class CredentialResolver:
    """Looks up access keys for signature checks, remembering hits for `cache_seconds`.

    A revoked key stops working within `cache_seconds` in every server process. Misses are
    not remembered, so a key created a moment ago works at once.
    """

    def __init__(
        self,
        box: SecretBox | None,
        cache_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._box = box
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._hits: dict[str, tuple[float, Credential]] = {}

    async def resolve(
        self, open_uow: Callable[[], UnitOfWork], access_key_id: str
    ) -> Credential | None:
        """Return the active credential with that id, or None."""
        if self._box is None:
            return None
        now = self._monotonic()
        hit = self._hits.get(access_key_id)
        if hit is not None and now - hit[0] < self._cache_seconds:
            return hit[1]
        uow = open_uow()
        async with uow:
            stored = await uow.auth.get_access_key(access_key_id)
        if stored is None:
            self._hits.pop(access_key_id, None)
            return None
        try:
            secret = self._box.open(stored.sealed_secret, access_key_id.encode("ascii"))
        except ValueError:
            log.error(
                "access key %s does not open with the configured credentials key", access_key_id
            )
            return None
        credential = Credential(access_key_id, secret.decode("ascii"), stored.account_id)
        if len(self._hits) >= _CACHE_MAX:
            self._hits.clear()
        self._hits[access_key_id] = (now, credential)
        return credential
