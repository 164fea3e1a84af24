"""What the bearer-key guards of the Honcho surfaces share: reading the token and the body."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request


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
