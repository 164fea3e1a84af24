"""Failures as AgentCore answers them: each domain error becomes the error code the operation
models (with that code's modelled HTTP status), so every answer is one botocore knows.

- A request that breaks its model, bad JSON, a bad `nextToken`, a domain `Invalid`:
  ValidationException (400) with `reason` (and `fieldList` for model failures).
- An unknown memory, event, record or job: ResourceNotFoundException (404).
- A state conflict: ConflictException (409) on the control plane; on the data plane
  RetryableConflictException (409) for CreateEvent, else ValidationException with
  `reason: ResourceConflict`.
- A quota: ServiceQuotaExceededException (402). A key the server does not hold:
  AccessDeniedException (403).
- A dependency unavailable or the rate limit: ThrottledException (429); ThrottlingException on
  the tagging operations.
- Anything unexpected or a broken seal: ServiceException (500); InternalServerException on the
  tagging operations.
"""

from __future__ import annotations

import logging

from mindkeeper import errors
from mindkeeper.core.ports.agentcore import OtherSession, TokenMismatch
from mindkeeper.core.ports.agents import SealBroken
from mindkeeper.http.aws.model import UNKNOWN_OPERATION, Operation
from mindkeeper.http.aws.pagination import BadToken
from mindkeeper.http.aws.shapes import RequestInvalid
from mindkeeper.http.aws.wire import WireError

log = logging.getLogger("mindkeeper.http.agentcore")

VALIDATION = "ValidationException"
NOT_FOUND = "ResourceNotFoundException"
QUOTA = "ServiceQuotaExceededException"
ACCESS_DENIED = "AccessDeniedException"
CONFLICT = "ConflictException"
RETRYABLE_CONFLICT = "RetryableConflictException"

#: Statuses of codes an operation may not model (the modelled status wins when it does).
STATUS = {
    VALIDATION: 400,
    NOT_FOUND: 404,
    QUOTA: 402,
    ACCESS_DENIED: 403,
    CONFLICT: 409,
    RETRYABLE_CONFLICT: 409,
    "ThrottledException": 429,
    "ThrottlingException": 429,
    "ServiceException": 500,
    "InternalServerException": 500,
    UNKNOWN_OPERATION: 404,
}


def _error(op: Operation | None, code: str, message: str, **extra: object) -> WireError:
    status = op.errors.get(code) if op is not None else None
    return WireError(code, message, status or STATUS.get(code, 400), dict(extra))


def _first(op: Operation | None, *codes: str) -> str:
    if op is None:
        return codes[-1]
    return next((c for c in codes if c in op.errors), codes[-1])


def unknown_operation(message: str) -> WireError:
    """No operation matches the request."""
    return WireError(UNKNOWN_OPERATION, message, 404)


def render(op: Operation | None, exc: BaseException) -> WireError:
    """The AWS error for any failure of an operation; unexpected ones are logged."""
    if isinstance(exc, WireError):
        return exc
    if isinstance(exc, RequestInvalid):
        fields = [{"name": name, "message": text} for name, text in exc.fields]
        return _error(op, VALIDATION, exc.message, reason=exc.reason, fieldList=fields)
    if isinstance(exc, BadToken):
        return _error(op, VALIDATION, exc.message, reason="FieldValidationFailed")
    if isinstance(exc, TokenMismatch):
        return _error(op, VALIDATION, exc.message, reason="IdempotentParameterMismatchException")
    if isinstance(exc, OtherSession):
        return _error(op, VALIDATION, exc.message, reason="EventInOtherSession")
    if isinstance(exc, errors.Invalid):
        return _error(op, VALIDATION, exc.message, reason="FieldValidationFailed")
    if isinstance(exc, errors.NotFound):
        return _error(op, NOT_FOUND, exc.message)
    if isinstance(exc, errors.AlreadyExists | errors.Conflict):
        code = _first(op, CONFLICT, RETRYABLE_CONFLICT, VALIDATION)
        if code == VALIDATION:
            return _error(op, code, exc.message, reason="ResourceConflict")
        return _error(op, code, exc.message)
    if isinstance(exc, errors.QuotaExceeded):
        return _error(op, QUOTA, exc.message)
    if isinstance(exc, errors.Forbidden | errors.Unauthorized):
        return _error(op, ACCESS_DENIED, exc.message)
    if isinstance(exc, errors.Unavailable):
        return _error(op, _first(op, "ThrottledException", "ThrottlingException"), exc.message)
    server = _first(op, "ServiceException", "InternalServerException")
    if isinstance(exc, SealBroken):
        log.error("sealed data failed authentication: %s", exc)
        return _error(op, server, "Stored data failed its integrity check")
    log.exception("unhandled error on the AgentCore surface", exc_info=exc)
    return _error(op, server, "The server had an unexpected error")


def safely_render(op: Operation | None, exc: BaseException) -> WireError:
    """`render`, falling back to a plain ServiceException should rendering itself fail."""
    try:
        return render(op, exc)
    except Exception:  # the answer must still be an AWS error
        log.exception("rendering an error failed", exc_info=exc)
        return WireError("ServiceException", "The server had an unexpected error", 500)
