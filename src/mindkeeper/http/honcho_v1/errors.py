"""Domain errors and validation failures in Honcho's `{"detail": ...}` shapes."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from mindkeeper import errors
from mindkeeper.http import json_input
from mindkeeper.http.responses import JSONBytes

log = logging.getLogger("mindkeeper.http")

STATUS = {
    errors.NotFound: 404,
    errors.AlreadyExists: 409,
    errors.Conflict: 409,
    errors.Invalid: 422,
    errors.QuotaExceeded: 429,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.Unavailable: 503,
}


def status_for(exc: errors.MindkeeperError) -> int:
    """Pick the status for a domain error."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def _clean(error: dict[str, Any]) -> dict[str, Any]:
    """One validation error as upstream's FastAPI renders it.

    A literal `null` body reads as a missing one (as in FastAPI 0.115, which upstream pins).
    """
    out = {k: v for k, v in error.items() if k != "url"}
    if out.get("type") == "model_attributes_type" and tuple(out.get("loc", ())) == ("body",):
        if out.get("input") is None:
            out.update(type="missing", msg="Field required")
    ctx = out.get("ctx")
    if out.get("type") == "too_long" and isinstance(ctx, dict) and ctx.get("actual_length") is None:
        # Newer pydantic-core stops counting a too-long dict ("not more"); upstream names it.
        actual = len(out.get("input") or ())
        out["ctx"] = {**ctx, "actual_length": actual}
        out["msg"] = (
            f"{ctx.get('field_type')} should have at most {ctx.get('max_length')} items "
            f"after validation, not {actual}"
        )
    return out


async def _domain(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.MindkeeperError)
    return JSONBytes({"detail": exc.message}, status_code=status_for(exc))


async def _validation(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # jsonable_encoder, as FastAPI's own handler: raw bodies (bytes) become text, exceptions in
    # `ctx` become `{}`, while string contexts (e.g. json_invalid's message) stay as they are.
    # The echoed input is made printable first: it may hold what the body was refused for.
    errors_ = jsonable_encoder([json_input.printable(_clean(dict(e))) for e in exc.errors()])
    return JSONBytes({"detail": errors_}, status_code=422)


def _too_deep() -> Response:
    """The 422 of a body nested beyond what the JSON parser itself can read."""
    error = {
        "type": "value_error",
        "loc": ["body"],
        "msg": f"Value error, {json_input.TOO_DEEP}",
        "input": {},
        "ctx": {"error": {}},
    }
    return JSONBytes({"detail": [error]}, status_code=422)


async def _http(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, RecursionError):  # the body parser gave up on its nesting
        return _too_deep()
    headers = dict(exc.headers or {})
    return JSONBytes({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


async def _unexpected(_: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return JSONBytes({"detail": "An unexpected error occurred"}, status_code=500)


def install(app: FastAPI) -> None:
    """Register the Honcho error handlers on the app."""
    app.add_exception_handler(errors.MindkeeperError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
