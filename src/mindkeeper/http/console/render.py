"""Rendering: Jinja2 templates (autoescaped), the vendored static files, security headers."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from mindkeeper import __version__
from mindkeeper.http.console.registry import SECTIONS
from mindkeeper.http.console.security import CSRF_COOKIE, Viewer, cookie_options, csrf_token

#: Scripts and styles come from /console/static only; images may be inline (step images).
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
STATIC = {
    "htmx.min.js": "text/javascript; charset=utf-8",
    "htmx.LICENSE": "text/plain; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


@cache
def environment() -> jinja2.Environment:
    """The template environment (autoescape on for every template)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mindkeeper.http.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pretty"] = _pretty
    env.filters["when"] = _when
    return env


def page(
    request: Request,
    template: str,
    viewer: Viewer | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """Render a page with the navigation, the CSRF token and the security headers."""
    sections = [s for s in SECTIONS if viewer is not None and (viewer.admin or not s.admin_only)]
    token = csrf_token(request)
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            viewer=viewer,
            sections=sections,
            csrf=token,
            version=__version__,
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status_code, headers=HEADERS)
    if request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, **cookie_options(request))
    return response


@cache
def static_file(name: str) -> bytes:
    """A vendored file's bytes."""
    return (resources.files("mindkeeper.http.console") / "static" / name).read_bytes()


async def static(name: str) -> Response:
    """GET /console/static/{name}: the whitelisted vendored files."""
    media = STATIC.get(name)
    if media is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    return Response(
        static_file(name),
        media_type=media,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
