"""What every console page shares: the viewer, errors as pages, paging links, form reads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mindkeeper.core.ports import Runtime
from mindkeeper.errors import (
    Conflict,
    Forbidden,
    Invalid,
    MindkeeperError,
    NotFound,
    QuotaExceeded,
    Unauthorized,
    Unavailable,
)
from mindkeeper.http.console.render import page
from mindkeeper.http.console.security import SignIn, Viewer, check_csrf, viewer

Handler = Callable[[Request, Viewer], Awaitable[Response]]
HIDDEN = "Not found, or not visible with this key."
_STATUS: dict[type[MindkeeperError], int] = {
    NotFound: 404,
    Forbidden: 403,
    Unauthorized: 401,
    Invalid: 422,
    Conflict: 409,
    QuotaExceeded: 413,
    Unavailable: 503,
}


def runtime_of(request: Request) -> Runtime:
    """The application's runtime."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def status_of(exc: MindkeeperError) -> int:
    """The HTTP status of a domain error."""
    for kind, status in _STATUS.items():
        if isinstance(exc, kind):
            return status
    return 400


def endpoint(handler: Handler, *, admin: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint: resolve the viewer (or ask to sign in), render errors as pages."""

    async def run(request: Request) -> Response:
        try:
            who = await viewer(request)
        except SignIn:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/console/login?next={quote(target)}", status_code=303)
        except Forbidden as exc:
            return page(request, "error.html", None, 403, message=exc.message)
        if admin and not who.admin:
            return page(request, "error.html", who, 404, message=HIDDEN)
        try:
            if request.method == "POST":
                check_csrf(request, await request.form())
            return await handler(request, who)
        except NotFound:
            return page(request, "error.html", who, 404, message=HIDDEN)
        except MindkeeperError as exc:
            return page(request, "error.html", who, status_of(exc), message=exc.message)

    return run


def hidden() -> NotFound:
    """The error of a page the key may not see (told apart from a missing one by no one)."""
    return NotFound(HIDDEN)


def before_of(request: Request, name: str = "before") -> int | None:
    """A keyset bound from the query string (None when absent or not a number)."""
    raw = request.query_params.get(name, "")
    return int(raw) if raw.isdigit() else None


def link(path: str, **params: Any) -> str:
    """A console URL with query parameters (None values left out)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{path}?{query}" if query else path


def console_path(target: str, fallback: str) -> str:
    """`target` when it is a path of the console, else `fallback` (no open redirects)."""
    if not target.startswith("/console") or "//" in target or "\\" in target:
        return fallback
    return target


def back(form: Any, fallback: str) -> RedirectResponse:
    """After a form: to its `next` field when that is a console path, else to `fallback`."""
    return RedirectResponse(console_path(str(form.get("next") or ""), fallback), status_code=303)


def instant(raw: str) -> datetime:
    """A date and time typed into a form (UTC when no zone is given); Invalid otherwise."""
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"Not a date and time: {raw!r} (use YYYY-MM-DDTHH:MM)") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
