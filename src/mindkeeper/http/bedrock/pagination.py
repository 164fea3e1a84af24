"""Opaque `nextToken`s: a keyset cursor bound to the listing it came from.

A token is unpadded base64url of `[version, listing, scope, time, key, high_water]` as JSON
plus a 6-byte keyed BLAKE2b check. The check detects garbling, not forgery: a forged token can
only reposition a walk inside the caller's own listing, whose scope it must name. Tokens of
another listing, session or filter, or that do not decode, raise Invalid (ValidationException).
Every token encodes the position after its page's last row, so two pages never share one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime

import orjson

from mindkeeper.core.agents import ListCursor
from mindkeeper.errors import Invalid

VERSION = 1
_CHECK_BYTES = 6
_CHECK_KEY = b"mindkeeper/bedrock/next-token"


def _check(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=_CHECK_BYTES, key=_CHECK_KEY).digest()


def encode(listing: str, scope: str, cursor: ListCursor) -> str:
    """Return the token for the page after `cursor` of a listing in a scope."""
    body = orjson.dumps(
        [
            VERSION,
            listing,
            scope,
            cursor.time.isoformat(timespec="microseconds"),
            cursor.key,
            cursor.high_water,
        ]
    )
    return base64.urlsafe_b64encode(body + _check(body)).rstrip(b"=").decode("ascii")


def decode(token: str, listing: str, scope: str) -> ListCursor:
    """Return the cursor of a token issued for this listing and scope; Invalid otherwise."""
    problem = Invalid(
        "The nextToken is invalid, expired or was issued for a different request; "
        "start the listing again without it"
    )
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise problem from None
    body, check = raw[:-_CHECK_BYTES], raw[-_CHECK_BYTES:]
    if len(raw) <= _CHECK_BYTES or _check(body) != check:
        raise problem
    try:
        version, kind, token_scope, time, key, high_water = orjson.loads(body)
        cursor = ListCursor(datetime.fromisoformat(time), int(key), int(high_water))
    except (ValueError, TypeError):
        raise problem from None
    if version != VERSION or kind != listing or token_scope != scope:
        raise problem
    if cursor.time.tzinfo is None:
        raise problem
    return cursor
