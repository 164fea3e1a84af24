"""Opaque `nextToken`s holding a keyset position, bound to the listing they came from.

A token is unpadded base64url of `[version, listing, scope, position]` as JSON plus a 6-byte
keyed BLAKE2b check. `scope` names everything that selects the rows (resource, filters), so a
token replayed on another listing, resource or filter is refused (ValidationException) instead
of silently repositioning a walk. The check detects garbling, not forgery: a forged token can
only reposition a walk inside the caller's own listing, whose scope it must name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

import orjson

VERSION = 1
_CHECK_BYTES = 6


class BadToken(Exception):
    """A token that was not issued for this listing (or does not decode)."""

    message = (
        "The nextToken is invalid, expired or was issued for a different request; "
        "start the listing again without it"
    )


def scope_of(*parts: Any) -> str:
    """A short digest of the values that select a listing's rows."""
    return hashlib.blake2b(orjson.dumps(parts), digest_size=12).hexdigest()


def _check(key: bytes, body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=_CHECK_BYTES, key=key).digest()


class Tokens:
    """Encodes and decodes the page tokens of one surface (its key separates them)."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def encode(self, listing: str, scope: str, position: list[Any]) -> str:
        """The token for the page after `position` of a listing in a scope."""
        body = orjson.dumps([VERSION, listing, scope, position])
        return base64.urlsafe_b64encode(body + _check(self.key, body)).rstrip(b"=").decode()

    def decode(self, token: str, listing: str, scope: str) -> list[Any]:
        """The position of a token issued for this listing and scope; BadToken otherwise."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise BadToken from None
        body, check = raw[:-_CHECK_BYTES], raw[-_CHECK_BYTES:]
        if len(raw) <= _CHECK_BYTES or _check(self.key, body) != check:
            raise BadToken
        try:
            version, kind, token_scope, position = orjson.loads(body)
        except (ValueError, TypeError):
            raise BadToken from None
        if version != VERSION or kind != listing or token_scope != scope:
            raise BadToken
        if not isinstance(position, list):
            raise BadToken
        return position
