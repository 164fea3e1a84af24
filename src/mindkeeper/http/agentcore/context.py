"""What every AgentCore handler receives and returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mindkeeper.core.ports import Runtime
from mindkeeper.core.services.agentcore.common import Idempotency
from mindkeeper.http.agentcore.ids import Home
from mindkeeper.http.aws.pagination import BadToken, Tokens

JSON = dict[str, Any]
#: Default page size of the data-plane listings (the model's documented default).
DEFAULT_PAGE = 20

TOKENS = Tokens(b"mindkeeper/agentcore/next-token")


@dataclass(frozen=True, slots=True)
class Context:
    """The runtime, the caller's home and the limits of this server."""

    runtime: Runtime
    home: Home
    max_memories: int

    @property
    def account(self) -> str:
        """The caller's account id."""
        return self.home.account_id


@dataclass(frozen=True, slots=True)
class Reply:
    """A success: the output value (shaped by the operation's output shape)."""

    body: JSON | None


Handler = Callable[[Context, JSON], Awaitable[Reply]]


def idempotency(params: JSON, member: str = "clientToken") -> Idempotency | None:
    """The token of a request and the fingerprint of its other parameters."""
    token = params.get(member)
    rest = {k: v for k, v in params.items() if k != member}
    return Idempotency.of(token, rest)


def position(token: str | None, listing: str, scope: str) -> list[Any] | None:
    """The position a `nextToken` holds (None without one)."""
    return None if token is None else TOKENS.decode(token, listing, scope)


def time_position(raw: list[Any] | None) -> tuple[datetime, int] | None:
    """A (time, key) position from a token."""
    if raw is None:
        return None
    try:
        at, key = raw
        moment = datetime.fromisoformat(str(at))
        if moment.tzinfo is None:
            raise ValueError
        return moment, int(key)
    except (TypeError, ValueError):
        raise BadToken from None


def next_token(listing: str, scope: str, after: Any) -> str | None:
    """The token of the page after a position (None on the last page)."""
    if after is None:
        return None
    if isinstance(after, tuple):
        at, key = after
        return TOKENS.encode(listing, scope, [at.isoformat(), key])
    return TOKENS.encode(listing, scope, [after])
