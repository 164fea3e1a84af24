"""What the bearer-key guards of the Honcho surfaces share: reading the token and the body,
and `BearerGuard`, which authenticates a request, applies its rate limit and finds its
route's rule before each surface checks the key's reach in its own words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from starlette.exceptions import HTTPException
from starlette.requests import Request

from mindkeeper.config import Settings
from mindkeeper.core.ports import Runtime, UnitOfWork
from mindkeeper.core.ports.auth import KeyScope
from mindkeeper.core.services.keys import KeyVerifier
from mindkeeper.errors import Unauthorized
from mindkeeper.http.ratelimit import TokenBuckets, client_address, retry_after

NO_TOKEN = "No access token provided"
RATE_LIMITED = "Rate limit exceeded"

R = TypeVar("R")


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (scheme case-insensitive)."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


async def json_body(request: Request) -> Any:
    """The body as the handler will see it (same parser, same cached object); None when the
    body is empty or not JSON."""
    if not await request.body():
        return None
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError):
        return None


async def json_object(request: Request) -> dict[str, Any]:
    """The body when it is a JSON object, else {}."""
    data = await json_body(request)
    return data if isinstance(data, dict) else {}


class BearerGuard(Generic[R]):
    """Authenticates and rate-limits Honcho requests; `R` is the surface's route rule, found
    by `rule_for(method, path template)` once per route."""

    def __init__(
        self,
        runtime: Runtime,
        settings: Settings,
        limiter: TokenBuckets,
        rule_for: Callable[[str, str], R],
    ) -> None:
        self.runtime = runtime
        self.limiter = limiter
        codec = runtime.security.codec
        self.enabled = runtime.security.enabled and codec is not None
        self.verifier = KeyVerifier(codec, settings.auth_cache_seconds) if codec else None
        self._rule_for = rule_for
        self._rules: dict[int, R] = {}

    def _read(self) -> UnitOfWork:
        return self.runtime.uow(write=False)

    def _throttle(self, caller: str) -> None:
        wait = self.limiter.take(caller)
        if wait > 0:
            raise HTTPException(429, RATE_LIMITED, headers={"Retry-After": retry_after(wait)})

    def _rule(self, request: Request) -> R:
        route = request.scope.get("route")
        cached = self._rules.get(id(route))
        if cached is None:
            cached = self._rule_for(request.method, str(getattr(route, "path", "")))
            self._rules[id(route)] = cached
        return cached

    async def authenticate(self, request: Request) -> KeyScope | None:
        """The request's verified key, after the key's rate limit; None when authentication
        is off (the client's address is rate-limited instead)."""
        if not self.enabled:
            if self.limiter.enabled:
                self._throttle(client_address(request.scope))
            return None
        token = bearer_token(request)
        if token is None:
            raise Unauthorized(NO_TOKEN)
        assert self.verifier is not None
        key = await self.verifier.verify(token, self._read, self.runtime.now())
        if self.limiter.enabled:
            self._throttle(f"key:{key.key_id or token}")
        return key
