"""The console without a browser: remote clients while authentication is off, sign-in
redirects, and the static files (the vendored htmx and its licence)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from mindkeeper.bootstrap import build_runtime
from mindkeeper.core.services import keys
from mindkeeper.http.app import create_app
from mindkeeper.providers.secrets import JwtCodec
from tests.conftest import LiveServer
from tests.console.conftest import CREDENTIALS_KEY, JWT_SECRET
from tests.fill import ok


async def test_remote_clients_are_refused_while_auth_is_off(server: LiveServer) -> None:
    """With authentication off the console answers loopback clients only."""
    runtime = build_runtime(server.settings, embedder=None)  # on this test's event loop
    app = create_app(server.settings, runtime)
    remote = httpx.ASGITransport(app=app, client=("10.1.2.3", 4000))
    async with httpx.AsyncClient(transport=remote, base_url="http://mk") as http:
        response = await http.get("/console/workspaces")
        assert response.status_code == 403
        assert "this host only" in response.text
    local = httpx.ASGITransport(app=app, client=("127.0.0.1", 4000))
    async with httpx.AsyncClient(transport=local, base_url="http://mk") as http:
        assert (await http.get("/console/workspaces")).status_code == 200
    await runtime.close()


def test_static_files_and_sign_in_redirect(server: LiveServer) -> None:
    """htmx and its licence are served; with auth off there is nothing to sign in to."""
    with server.client() as http:
        script = http.get("/console/static/htmx.min.js")
        assert script.status_code == 200 and "htmx" in script.text
        assert "Zero-Clause BSD" in http.get("/console/static/htmx.LICENSE").text
        assert http.get("/console/static/../app.py").status_code == 404
        assert http.get("/console/login").headers["location"] == "/console"


def test_keys_and_credentials_pages(server_factory: Any, tmp_path: Any) -> None:
    """An admin mints a scoped key that works on the API, revokes it, and creates and revokes
    an access key, all through the console's forms."""
    server = server_factory(
        auth_enabled=True,
        auth_jwt_secret=JWT_SECRET,
        auth_credentials_key=CREDENTIALS_KEY,
        auth_cache_seconds=0,
        worker_enabled=False,
    )
    admin = keys.mint_admin(JwtCodec(JWT_SECRET), server.runtime.now()).token
    with server.client() as api:
        api.headers["Authorization"] = f"Bearer {admin}"
        app = ok(api.post("/v1/apps", json={"name": "keys-page"}))["id"]
    with server.client() as http:
        http.get("/console/login")
        csrf = http.cookies["mk_console_csrf"]
        assert http.post("/console/login", data={"key": admin, "csrf": csrf}).status_code == 303
        page = http.post(
            "/console/keys/mint", data={"csrf": csrf, "kind": "ids", "workspace_id": app}
        )
        assert page.status_code == 200
        token = re.search(r'<pre id="minted">([^<]+)</pre>', page.text)
        assert token is not None
        scoped = {"Authorization": f"Bearer {token.group(1)}"}
        assert http.get(f"/v1/apps?app_id={app}", headers=scoped).status_code == 200
        revoked = http.post("/console/keys/revoke", data={"csrf": csrf, "key": token.group(1)})
        assert revoked.status_code == 200 and "Revoked key" in revoked.text
        assert http.get(f"/v1/apps?app_id={app}", headers=scoped).status_code == 401
        created = http.post(
            "/console/credentials/create", data={"csrf": csrf, "account_id": "123456789012"}
        )
        key_id = re.search(r"aws_access_key_id = (\S+)", created.text)
        assert key_id is not None and "aws_secret_access_key = " in created.text
        listed = http.get("/console/keys").text
        assert key_id.group(1) in listed and "aws_secret_access_key" not in listed
        done = http.post(
            "/console/credentials/revoke",
            data={"csrf": csrf, "access_key_id": key_id.group(1), "next": "/console/keys"},
        )
        assert done.status_code == 303
        after = http.get("/console/keys").text
        assert key_id.group(1) in after and f'value="{key_id.group(1)}"' not in after
