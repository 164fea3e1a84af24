"""The console without a browser: remote clients while authentication is off, sign-in
redirects, and the static files (the vendored htmx and its licence)."""

from __future__ import annotations

import httpx

from mindkeeper.http.app import create_app
from tests.conftest import LiveServer


async def test_remote_clients_are_refused_while_auth_is_off(server: LiveServer) -> None:
    """With authentication off the console answers loopback clients only."""
    app = create_app(server.settings, server.runtime)
    remote = httpx.ASGITransport(app=app, client=("10.1.2.3", 4000))
    async with httpx.AsyncClient(transport=remote, base_url="http://mk") as http:
        response = await http.get("/console/workspaces")
        assert response.status_code == 403
        assert "this host only" in response.text
    local = httpx.ASGITransport(app=app, client=("127.0.0.1", 4000))
    async with httpx.AsyncClient(transport=local, base_url="http://mk") as http:
        assert (await http.get("/console/workspaces")).status_code == 200


def test_static_files_and_sign_in_redirect(server: LiveServer) -> None:
    """htmx and its licence are served; with auth off there is nothing to sign in to."""
    with server.client() as http:
        script = http.get("/console/static/htmx.min.js")
        assert script.status_code == 200 and "htmx" in script.text
        assert "Zero-Clause BSD" in http.get("/console/static/htmx.LICENSE").text
        assert http.get("/console/static/../app.py").status_code == 404
        assert http.get("/console/login").headers["location"] == "/console"
