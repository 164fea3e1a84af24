"""What every console page shares: the viewer, errors as pages, paging links, form reads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

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


def back(form: Any, fallback: str) -> RedirectResponse:
    """After a form: to its `next` field when that is a console path, else to `fallback`."""
    target = str(form.get("next") or "")
    if not target.startswith("/console") or "//" in target or "\\" in target:
        target = fallback
    return RedirectResponse(target, status_code=303)
