"""Errors in the shape botocore parses: `x-amzn-ErrorType` header plus `{"message": ...}`.

Domain errors map to the modelled exceptions and their statuses; anything unexpected becomes
InternalServerException (500, with `reason`). The body also carries `__type` for SDKs that read
only the body.
"""

from __future__ import annotations

import logging
from uuid import uuid4

import orjson

from mindkeeper import errors
from mindkeeper.core.ports.agents import SealBroken

log = logging.getLogger("mindkeeper.http.bedrock")

VALIDATION = "ValidationException"
NOT_FOUND = "ResourceNotFoundException"
CONFLICT = "ConflictException"
QUOTA = "ServiceQuotaExceededException"
ACCESS_DENIED = "AccessDeniedException"
THROTTLING = "ThrottlingException"
INTERNAL = "InternalServerException"
UNKNOWN_OPERATION = "UnknownOperationException"
UNRECOGNIZED_CLIENT = "UnrecognizedClientException"

STATUS = {
    VALIDATION: 400,
    NOT_FOUND: 404,
    CONFLICT: 409,
    QUOTA: 400,
    ACCESS_DENIED: 403,
    THROTTLING: 429,
    INTERNAL: 500,
    UNKNOWN_OPERATION: 404,
    UNRECOGNIZED_CLIENT: 403,
}

_CODES: dict[type[errors.MindkeeperError], str] = {
    errors.Invalid: VALIDATION,
    errors.NotFound: NOT_FOUND,
    errors.AlreadyExists: CONFLICT,
    errors.Conflict: CONFLICT,
    errors.QuotaExceeded: QUOTA,
    errors.Forbidden: ACCESS_DENIED,
    errors.Unauthorized: UNRECOGNIZED_CLIENT,
    errors.Unavailable: THROTTLING,
}


class WireError(Exception):
    """An error raised by the adapter itself with an explicit AWS code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def code_for(exc: errors.MindkeeperError) -> str:
    """Return the AWS error code for a domain error."""
    for cls in type(exc).__mro__:
        code = _CODES.get(cls)
        if code is not None:
            return code
    return INTERNAL


def render(exc: BaseException) -> tuple[int, str, bytes]:
    """Return (status, code, JSON body) for any exception; logs the unexpected ones."""
    if isinstance(exc, WireError):
        code, body = exc.code, {"message": exc.message}
    elif isinstance(exc, errors.MindkeeperError):
        code, body = code_for(exc), {"message": exc.message}
    elif isinstance(exc, SealBroken):
        log.error("sealed data failed authentication: %s", exc)
        code = INTERNAL
        body = {"message": "Stored data failed its integrity check", "reason": "DataIntegrity"}
    else:
        log.exception("unhandled error on the Bedrock surface", exc_info=exc)
        code = INTERNAL
        body = {"message": "The server had an unexpected error", "reason": "UnexpectedError"}
    return STATUS[code], code, orjson.dumps({"__type": code, **body})


def too_large(
    _scope: dict[str, object], limit: int
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The BodySizeLimit responder for /sessions and /tags: a ValidationException (400)."""
    body = orjson.dumps(
        {
            "__type": VALIDATION,
            "message": f"1 validation error detected: Request body exceeds {limit} bytes",
        }
    )
    headers = [
        (b"content-type", b"application/json"),
        (b"x-amzn-errortype", VALIDATION.encode()),
        (b"x-amzn-requestid", str(uuid4()).encode()),
    ]
    return STATUS[VALIDATION], headers, body
