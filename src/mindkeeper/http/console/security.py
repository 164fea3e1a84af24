"""Who is looking, and what they may see: sign-in with a key, the cookie, CSRF, scope checks.

With authentication on, a person signs in with a key (the same bearer keys as the API); the
key is kept in an HttpOnly, SameSite=Strict cookie scoped to /console and verified on every
request like an API key (signature, expiry, revocation). Every page names the API route that
reads the same resource, and the surface's own guard decides, with the key, exactly as it
decides for that route: there is no second implementation of the scope rules. With
authentication off, the console answers loopback clients only.

Forms carry a CSRF token equal to a random cookie of this browser (double submit; the cookie
is SameSite=Strict, so a page of another site can neither read it nor send it).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from mindkeeper.core.ports.auth import KeyScope
from mindkeeper.core.services.keys import KeyVerifier
from mindkeeper.errors import Forbidden, MindkeeperError

SESSION_COOKIE = "mk_console"
CSRF_COOKIE = "mk_console_csrf"
CSRF_FIELD = "csrf"
ADMIN = KeyScope(admin=True)

#: Console pages -> the API route that reads the same resource, per key kind.
V1 = "v1"
V3 = "v3"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person looking: their key's scope and the token (None with authentication off)."""

    scope: KeyScope
    token: str | None

    @property
    def admin(self) -> bool:
        """True for admin keys (and with authentication off)."""
        return self.scope.admin


class SignIn(Exception):
    """The request needs a signed-in key (the console redirects to the sign-in page)."""


def is_loopback(request: Request) -> bool:
    """True when the TCP peer is this host."""
    client = request.client
    if client is None:
        return False
    try:
        return ipaddress.ip_address(client.host).is_loopback
    except ValueError:
        return client.host == "localhost"


def verifier(request: Request) -> KeyVerifier | None:
    """The console's key verifier (one per application), or None with authentication off."""
    state = request.app.state
    found: KeyVerifier | None = getattr(state, "console_verifier", None)
    if found is None:
        runtime = state.runtime
        codec = runtime.security.codec
        if not (runtime.security.enabled and codec is not None):
            return None
        found = KeyVerifier(codec, state.settings.auth_cache_seconds)
        state.console_verifier = found
    return found


async def verify(request: Request, token: str) -> KeyScope:
    """The scope of a presented key; Unauthorized when it is forged, expired or revoked."""
    check = verifier(request)
    assert check is not None
    runtime = request.app.state.runtime
    return await check.verify(token, lambda: runtime.uow(write=False), runtime.now())


async def viewer(request: Request) -> Viewer:
    """The viewer of a console request; SignIn when a key is needed, Forbidden for a remote
    client while authentication is off."""
    if verifier(request) is None:
        if not is_loopback(request):
            raise Forbidden(
                "The console answers this host only while authentication is off "
                "(MINDKEEPER_AUTH_ENABLED=true lets people sign in with a key)"
            )
        return Viewer(ADMIN, None)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignIn()
    try:
        return Viewer(await verify(request, token), token)
    except MindkeeperError:
        raise SignIn() from None


def csrf_token(request: Request) -> str:
    """This browser's CSRF token (made on first use; the response sets the cookie)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf", None)
    if not token:
        token = secrets.token_urlsafe(24)
        request.state.csrf = token
    return str(token)


def check_csrf(request: Request, form: Any) -> None:
    """Forbidden unless the form's token equals the browser's cookie."""
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    given = str(form.get(CSRF_FIELD) or "")
    if not cookie or not hmac.compare_digest(cookie.encode(), given.encode()):
        raise Forbidden("The form has expired or did not come from this console: reload the page")


def cookie_options(request: Request) -> dict[str, Any]:
    """HttpOnly, SameSite=Strict, /console only; Secure over HTTPS."""
    return {
        "httponly": True,
        "samesite": "strict",
        "path": "/console",
        "secure": request.url.scheme == "https",
    }


def _route_index(app: Any) -> dict[tuple[str, str], Any]:
    index: dict[tuple[str, str], Any] | None = getattr(app.state, "console_routes", None)
    if index is None:
        index = {}
        for route in app.router.routes:
            for method in getattr(route, "methods", None) or ():
                index[(method, getattr(route, "path", ""))] = route
        app.state.console_routes = index
    return index


async def _empty_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def reaches(
    request: Request, viewer: Viewer, api: str, method: str, path: str, params: dict[str, str]
) -> bool:
    """True when the viewer's key may call the API route `method path` with these path
    parameters: the surface's own guard decides, as for a request of that route."""
    if viewer.admin:
        return True
    if viewer.token is None:
        return False
    guard = request.app.state.honcho_guard if api == V1 else request.app.state.honcho_v3_guard
    route = _route_index(request.app).get((method, path))
    if route is None:
        return False
    concrete = path
    for name, value in params.items():
        concrete = concrete.replace("{" + name + "}", value)
    scope = {
        "type": "http",
        "method": method,
        "path": concrete,
        "raw_path": concrete.encode(),
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {viewer.token}".encode())],
        "path_params": dict(params),
        "route": route,
        "app": request.app,
        "client": request.scope.get("client"),
    }
    try:
        await guard.check(Request(scope, _empty_body))
    except MindkeeperError:
        return False
    except Exception as exc:  # the guard's 429 (rate limit) is an HTTPException
        if getattr(exc, "status_code", None) == 429:
            return False
        raise
    return True


def kind(viewer: Viewer) -> str | None:
    """Which surface's keys the viewer holds: v1 (ids), v3 (names), None for admin."""
    if viewer.admin:
        return None
    return V3 if viewer.scope.workspace_name else V1
