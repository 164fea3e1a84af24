"""Signing in and out with a key, and the static files."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mindkeeper.errors import MindkeeperError
from mindkeeper.http.console.base import console_path
from mindkeeper.http.console.render import page, static
from mindkeeper.http.console.security import (
    SESSION_COOKIE,
    check_csrf,
    cookie_options,
    verifier,
    verify,
)


def _next(raw: str) -> str:
    return console_path(unquote(raw or ""), "/console")


async def login_form(request: Request) -> Response:
    """GET /console/login."""
    if verifier(request) is None:
        return RedirectResponse("/console", status_code=303)
    return page(request, "login.html", None, next=_next(request.query_params.get("next", "")))


async def login(request: Request) -> Response:
    """POST /console/login: verify the key like an API key, then keep it in the cookie."""
    if verifier(request) is None:
        return RedirectResponse("/console", status_code=303)
    form = await request.form()
    target = _next(str(form.get("next") or ""))
    try:
        check_csrf(request, form)
        token = str(form.get("key") or "").strip()
        if not token:
            raise ValueError("Paste a key to sign in.")
        await verify(request, token)
    except (MindkeeperError, ValueError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        return page(request, "login.html", None, 401, next=target, error=message)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, **cookie_options(request))
    return response


async def logout(request: Request) -> Response:
    """POST /console/logout: forget the key."""
    form = await request.form()
    try:
        check_csrf(request, form)
    except MindkeeperError:
        return RedirectResponse("/console", status_code=303)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


async def static_file(request: Request) -> Response:
    """GET /console/static/{name}."""
    return await static(request.path_params["name"])


def routes() -> list[Any]:
    """Sign-in, sign-out and static routes."""
    return [
        Route("/console/login", login_form, methods=["GET"]),
        Route("/console/login", login, methods=["POST"]),
        Route("/console/logout", logout, methods=["POST"]),
        Route("/console/static/{name}", static_file, methods=["GET"]),
    ]
