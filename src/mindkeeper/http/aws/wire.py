"""Writing AWS responses: JSON with `x-amzn-RequestId`, errors with `x-amzn-ErrorType`.

botocore reads the error code from the `x-amzn-ErrorType` header first, then from the body's
`__type`/`code`; the body also carries `message` and any modelled members (for instance
`reason` and `fieldList` of a ValidationException), which botocore copies into the error
response.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from mindkeeper.http.limits import Send


class WireError(Exception):
    """An error with an explicit AWS code, HTTP status and extra body members."""

    def __init__(
        self, code: str, message: str, status: int = 400, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra or {}
        self.headers: list[tuple[bytes, bytes]] = []

    def body(self) -> bytes:
        """The JSON error body."""
        return orjson.dumps({"__type": self.code, "message": self.message, **self.extra})


async def respond(
    send: Send,
    status: int,
    body: bytes,
    request_id: str,
    error_code: str | None = None,
    extra_headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """Send a complete JSON response with the AWS headers (and the error type, if any)."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-amzn-requestid", request_id.encode()),
    ]
    if error_code is not None:
        headers.append((b"x-amzn-errortype", error_code.encode()))
    headers.extend(extra_headers)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def respond_error(send: Send, error: WireError, request_id: str) -> None:
    """Send an error in the AWS shape."""
    await respond(send, error.status, error.body(), request_id, error.code, error.headers)
