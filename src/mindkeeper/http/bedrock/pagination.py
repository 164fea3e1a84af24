"""Opaque `nextToken`s of the Bedrock listings: a keyset cursor bound to the listing it came
from, in the shared AWS token format (`http/aws/pagination.py`) under this surface's key.

The position is `[time, key, high_water]`. Tokens of another listing, session or filter, or
that do not decode, raise Invalid (ValidationException). Every token encodes the position
after its page's last row, so two pages never share one.
"""

from __future__ import annotations

from datetime import datetime

from mindkeeper.core.agents import ListCursor
from mindkeeper.errors import Invalid
from mindkeeper.http.aws.pagination import BadToken, Tokens

TOKENS = Tokens(b"mindkeeper/bedrock/next-token")


def encode(listing: str, scope: str, cursor: ListCursor) -> str:
    """Return the token for the page after `cursor` of a listing in a scope."""
    position = [cursor.time.isoformat(timespec="microseconds"), cursor.key, cursor.high_water]
    return TOKENS.encode(listing, scope, position)


def decode(token: str, listing: str, scope: str) -> ListCursor:
    """Return the cursor of a token issued for this listing and scope; Invalid otherwise."""
    try:
        time, key, high_water = TOKENS.decode(token, listing, scope)
        cursor = ListCursor(datetime.fromisoformat(time), int(key), int(high_water))
    except (BadToken, ValueError, TypeError):
        raise Invalid(BadToken.message) from None
    if cursor.time.tzinfo is None:
        raise Invalid(BadToken.message)
    return cursor
