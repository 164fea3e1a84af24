"""ASGI middleware that refuses request bodies above a configured size with 413."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: Builds (status, headers, body) for a too-large request on a given path.
TooLargeResponder = Callable[[Scope, int], tuple[int, list[tuple[bytes, bytes]], bytes]]


async def read_body(receive: Receive) -> bytes | None:
    """Read the whole request body; None when the client went away."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands out an already-read body once, then defers to the real one."""
    sent = False

    async def receive_again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again


def honcho_too_large(scope: Scope, limit: int) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """A 413 in Honcho's `detail` shape."""
    body = orjson.dumps({"detail": f"Request body too large (limit {limit} bytes)"})
    return 413, [(b"content-type", b"application/json")], body


class BodySizeLimit:
    """Checks Content-Length up front; counts (and buffers) bodies sent without one."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, responders: list[tuple[str, TooLargeResponder]]
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.responders = responders

    def _responder(self, scope: Scope) -> TooLargeResponder:
        path = scope.get("path", "")
        for prefix, responder in self.responders:
            if path.startswith(prefix):
                return responder
        return honcho_too_large

    async def _refuse(self, scope: Scope, send: Send) -> None:
        status, headers, body = self._responder(scope)(scope, self.max_bytes)
        headers = [
            *headers,
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length: int | None = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = None
                break
        if length is not None:
            if length > self.max_bytes:
                await self._refuse(scope, send)
                return
            await self.app(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD", "DELETE", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before its body was complete: nothing to run
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, replay(b"".join(chunks), receive), send)
