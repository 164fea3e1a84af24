"""Bearer keys on the Honcho surface: formats, minting, expiry, revocation, limits, CORS."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta

import httpx
import orjson
import pytest

from mindkeeper.core.ports.auth import KeyScope
from mindkeeper.core.values import utcnow
from tests.conftest import LiveServer
from tests.security.conftest import (
    AUTH_SETTINGS,
    JWT_SECRET,
    ManualClock,
    admin_token,
    bearer,
    codec,
    revoke_key,
    uid,
)


def _world(http: httpx.Client) -> dict[str, str]:
    """An app with a user, a session and a collection (admin calls)."""
    app = http.post("/v1/apps", json={"name": uid()}).json()
    user = http.post(f"/v1/apps/{app['id']}/users", json={"name": uid()}).json()
    base = f"/v1/apps/{app['id']}/users/{user['id']}"
    session = http.post(f"{base}/sessions", json={}).json()
    collection = http.post(f"{base}/collections", json={"name": uid()}).json()
    return {
        "app": app["id"],
        "user": user["id"],
        "session": session["id"],
        "collection": collection["id"],
        "base": base,
    }


def _mint(http: httpx.Client, **params: str) -> str:
    response = http.post("/v1/keys", params=params)
    assert response.status_code == 200, response.text
    return str(response.json()["key"])


def _claims(token: str) -> dict[str, object]:
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def _forge(claims: dict[str, object], secret: str = JWT_SECRET, alg: str = "HS256") -> str:
    import hashlib
    import hmac

    def enc(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = enc(orjson.dumps({"alg": alg, "typ": "JWT"}))
    body = enc(orjson.dumps(claims))
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{enc(signature)}"


def test_missing_and_malformed_credentials(secure: LiveServer) -> None:
    with secure.client() as http:
        for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}):
            response = http.post("/v1/apps/list", headers=headers, json={})
            assert response.status_code == 401
            assert response.json() == {"detail": "No access token provided"}
        for token in (
            "garbage",
            _forge({"ad": True}, secret="another secret of enough length........."),
            _forge({"ad": True}, alg="none"),
            _forge({"ad": True, "exp": "2999-01-01T00:00:00+00:00"}),  # upstream's string exp
            admin_token() + "x",
        ):
            response = http.post("/v1/apps/list", headers=bearer(token), json={})
            assert response.status_code == 401, token
            assert response.json() == {"detail": "Invalid JWT"}
        lower = {"Authorization": f"bearer {admin_token()}"}
        assert http.post("/v1/apps/list", headers=lower, json={}).status_code == 200


def test_auth_comes_after_json_parsing_and_before_validation(secure: LiveServer) -> None:
    with secure.client() as http:
        invalid = http.post("/v1/apps", json={"name": ""})
        assert invalid.status_code == 401
        assert invalid.json() == {"detail": "No access token provided"}
        broken = http.post("/v1/apps", content=b"{", headers={"content-type": "application/json"})
        assert broken.status_code == 422
        assert broken.json()["detail"][0]["type"] == "json_invalid"
        admin = http.post("/v1/apps", json={"name": ""}, headers=bearer(admin_token()))
        assert admin.status_code == 422
        assert admin.json()["detail"][0]["type"] == "string_too_short"


def test_keys_endpoint_is_admin_only_and_resolves_the_chain(admin_http: httpx.Client) -> None:
    world = _world(admin_http)
    assert admin_http.post("/v1/keys").json() == {
        "detail": "At least one of app_id, user_id, session_id, or collection_id must be provided"
    }
    assert admin_http.post("/v1/keys").status_code == 422
    assert admin_http.post("/v1/keys", params={"expires_at": "2999-01-01"}).status_code == 422

    user_key = _mint(admin_http, user_id=world["user"])
    claims = _claims(user_key)
    assert claims["ap"] == world["app"] and claims["us"] == world["user"]
    assert "ad" not in claims and isinstance(claims["jti"], str)
    session_claims = _claims(_mint(admin_http, session_id=world["session"]))
    assert (session_claims["ap"], session_claims["us"], session_claims["se"]) == (
        world["app"],
        world["user"],
        world["session"],
    )
    collection_claims = _claims(_mint(admin_http, collection_id=world["collection"]))
    assert collection_claims["us"] == world["user"]
    assert _mint(admin_http, app_id=world["app"]) != _mint(admin_http, app_id=world["app"])

    unknown = admin_http.post("/v1/keys", params={"user_id": "no-such-user-000000000"})
    assert unknown.status_code == 404
    other = _world(admin_http)
    mismatch = admin_http.post(
        "/v1/keys", params={"app_id": other["app"], "user_id": world["user"]}
    )
    assert mismatch.status_code == 422
    assert isinstance(mismatch.json()["detail"], str)

    for key in (user_key, _mint(admin_http, app_id=world["app"])):
        refused = admin_http.post("/v1/keys", params={"app_id": world["app"]}, headers=bearer(key))
        assert refused.status_code == 401
        assert refused.json() == {"detail": "Resource requires admin privileges"}


def test_keys_endpoint_is_disabled_without_auth(server: LiveServer) -> None:
    with server.client() as http:
        response = http.post("/v1/keys", params={"app_id": "x"})
        assert response.status_code == 405
        assert response.json() == {"detail": "Feature is disabled"}
        # with auth off any header is ignored and every request is admin, as upstream
        listed = http.post("/v1/apps/list", headers=bearer("not even a jwt"), json={})
        assert listed.status_code == 200


def test_expiry_is_honoured(server_factory: Callable[..., LiveServer]) -> None:
    clock = ManualClock()
    server = server_factory(clock=clock, **AUTH_SETTINGS)
    with server.client(headers=bearer(admin_token())) as admin:
        world = _world(admin)
        expires = (clock() + timedelta(hours=1)).isoformat()
        key = _mint(admin, app_id=world["app"], expires_at=expires)
        assert isinstance(_claims(key)["exp"], int)
        past = (clock() - timedelta(hours=1)).isoformat()
        assert (
            admin.post("/v1/keys", params={"app_id": world["app"], "expires_at": past}).status_code
            == 422
        )
    with server.client(headers=bearer(key)) as http:
        assert http.get("/v1/apps", params={"app_id": world["app"]}).status_code == 200
        clock.advance(hours=2)
        expired = http.get("/v1/apps", params={"app_id": world["app"]})
        assert expired.status_code == 401
        assert expired.json() == {"detail": "JWT has expired"}
    forged_future = _forge({"ap": world["app"], "exp": int(clock().timestamp()) + 60})
    with server.client(headers=bearer(forged_future)) as http:
        assert http.get("/v1/apps", params={"app_id": world["app"]}).status_code == 200


def test_revocation_by_key_and_by_id(secure: LiveServer, admin_http: httpx.Client) -> None:
    world = _world(admin_http)
    first, second = (_mint(admin_http, user_id=world["user"]) for _ in range(2))
    url = f"{world['base']}/sessions/list"
    for key in (first, second):
        assert admin_http.post(url, json={}, headers=bearer(key)).status_code == 200
    revoke_key(secure, first)
    revoke_key(secure, str(_claims(second)["jti"]))
    for key in (first, second):
        refused = admin_http.post(url, json={}, headers=bearer(key))
        assert refused.status_code == 401
        assert refused.json() == {"detail": "JWT has been revoked"}
    assert admin_http.post(url, json={}).status_code == 200  # other keys are unaffected


def test_single_gets_resolve_ids_from_the_key(admin_http: httpx.Client) -> None:
    world = _world(admin_http)
    base = world["base"]
    app_key = _mint(admin_http, app_id=world["app"])
    user_key = _mint(admin_http, user_id=world["user"])
    session_key = _mint(admin_http, session_id=world["session"])
    collection_key = _mint(admin_http, collection_id=world["collection"])
    cases = [
        (app_key, "/v1/apps", world["app"]),
        (user_key, f"/v1/apps/{world['app']}/users", world["user"]),
        (session_key, f"{base}/sessions", world["session"]),
        (collection_key, f"{base}/collections", world["collection"]),
    ]
    for key, path, expected in cases:
        response = admin_http.get(path, headers=bearer(key))
        assert response.status_code == 200, (path, response.text)
        assert response.json()["id"] == expected
        empty = admin_http.get(
            path, params={path.rsplit("/", 1)[-1][:-1] + "_id": ""}, headers=bearer(key)
        )
        assert empty.status_code == 200, (path, empty.text)
    no_app = admin_http.get("/v1/apps")
    assert no_app.status_code == 401
    assert no_app.json() == {"detail": "App ID not found in query parameter or JWT"}
    no_session = admin_http.get(f"{base}/sessions", headers=bearer(user_key))
    assert no_session.json() == {"detail": "Session ID not found in query parameter or JWT"}


def test_upstream_leaks_are_closed(admin_http: httpx.Client) -> None:
    """Reference §4.3 / §15 items 3-4: query ids and claim-less tokens reach nothing."""
    world = _world(admin_http)
    other = _world(admin_http)
    base = world["base"]
    user_key = bearer(_mint(admin_http, user_id=world["user"]))
    session_key = bearer(_mint(admin_http, session_id=world["session"]))
    users = f"/v1/apps/{world['app']}/users"
    denied = [
        ("POST", users, {"user_id": world["user"]}, {"name": uid()}, user_key),
        ("POST", f"{users}/list", {"user_id": world["user"]}, {}, user_key),
        ("GET", users, {"user_id": world["user"]}, None, session_key),
        ("GET", f"{base}/collections", {"collection_id": world["collection"]}, None, session_key),
        ("GET", "/v1/apps", {"app_id": world["app"]}, None, user_key),
        ("GET", f"{other['base']}/sessions", {"session_id": other["session"]}, None, user_key),
    ]
    only_t = bearer(_forge({"t": ""}))
    user_without_app = bearer(_forge({"us": world["user"]}))
    for token in (only_t, user_without_app):
        denied += [
            ("GET", users, {"user_id": world["user"]}, None, token),
            ("GET", f"{base}/sessions", {"session_id": world["session"]}, None, token),
            ("GET", f"{base}/collections", {"collection_id": world["collection"]}, None, token),
            ("POST", f"{base}/sessions/list", {}, {}, token),
        ]
    for method, path, params, body, headers in denied:
        response = admin_http.request(method, path, params=params, json=body, headers=headers)
        assert response.status_code == 401, (method, path, params, response.text)
        assert response.json() == {"detail": "JWT not permissioned for this resource"}
    # Repeated parameters and keys: the check reads the value the handler will use (the last).
    session_key_s = _mint(admin_http, session_id=world["session"])
    sibling = admin_http.post(f"{base}/sessions", json={}).json()["id"]
    repeated = admin_http.get(
        f"{base}/sessions?session_id={world['session']}&session_id={sibling}",
        headers=bearer(session_key_s),
    )
    assert repeated.status_code == 401
    duplicated = admin_http.post(
        f"{base}/metamessages",
        content=(
            f'{{"session_id": "{world["session"]}", "label": "l", "content": "c", '
            f'"session_id": "{sibling}"}}'
        ).encode(),
        headers={**bearer(session_key_s), "content-type": "application/json"},
    )
    assert duplicated.status_code == 401
    listed = admin_http.post(f"{users}/list", json={}).json()
    assert len(listed["items"]) == 1  # nothing was created by the refused calls
    assert admin_http.post(f"{base}/metamessages/list", json={}).json()["total"] == 0


def test_metamessage_bodies_are_checked(admin_http: httpx.Client) -> None:
    world = _world(admin_http)
    base = world["base"]
    sibling = admin_http.post(f"{base}/sessions", json={}).json()["id"]
    mine = admin_http.post(
        f"{base}/metamessages",
        json={"session_id": world["session"], "label": "a", "content": "x"},
    ).json()["id"]
    key = bearer(_mint(admin_http, session_id=world["session"]))
    meta = f"{base}/metamessages"
    allowed = [
        ("POST", meta, {"session_id": world["session"], "label": "b", "content": "y"}),
        ("POST", f"{meta}/list", {"session_id": world["session"]}),
        ("PUT", f"{meta}/{mine}", {"metadata": {"k": 1}}),
    ]
    for method, path, body in allowed:
        assert admin_http.request(method, path, json=body, headers=key).status_code == 200
    denied = [
        ("POST", meta, {"session_id": sibling, "label": "b", "content": "y"}),
        ("POST", meta, {"label": "b", "content": "user level"}),
        ("POST", f"{meta}/list", {"session_id": sibling}),
        ("POST", f"{meta}/list", {}),
        ("PUT", f"{meta}/{mine}", {"session_id": sibling}),
    ]
    for method, path, body in denied:
        response = admin_http.request(method, path, json=body, headers=key)
        assert response.status_code == 401, (method, path, body, response.text)
    note = admin_http.get(f"{meta}/{mine}").json()
    assert note["session_id"] == world["session"]
    assert admin_http.post(f"{meta}/list", json={}).json()["total"] == 2


def test_rate_limit_per_key(server_factory: Callable[..., LiveServer]) -> None:
    server = server_factory(**AUTH_SETTINGS, rate_limit_per_second=0.5, rate_limit_burst=2)
    first, second = admin_token(), admin_token()
    with server.client() as http:
        statuses = [
            http.post("/v1/apps/list", json={}, headers=bearer(first)).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        limited = http.post("/v1/apps/list", json={}, headers=bearer(first))
        assert limited.json() == {"detail": "Rate limit exceeded"}
        assert 1 <= int(limited.headers["retry-after"]) <= 2
        assert http.post("/v1/apps/list", json={}, headers=bearer(second)).status_code == 200


def test_rate_limit_per_address_without_auth(server_factory: Callable[..., LiveServer]) -> None:
    server = server_factory(rate_limit_per_second=0.5, rate_limit_burst=1)
    with server.client() as http:
        assert http.post("/v1/apps/list", json={}).status_code == 200
        response = http.post("/v1/apps/list", json={}, headers=bearer(admin_token()))
        assert response.status_code == 429 and "retry-after" in response.headers


def test_cors_is_off_by_default_and_opt_in(server_factory: Callable[..., LiveServer]) -> None:
    preflight = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    closed = server_factory()
    with closed.client() as http:
        response = http.options("/v1/apps/list", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
        plain = http.post("/v1/apps/list", json={}, headers={"Origin": "https://app.example"})
        assert "access-control-allow-origin" not in plain.headers
    opened = server_factory(cors_origins=["https://app.example"])
    with opened.client() as http:
        response = http.options("/v1/apps/list", headers=preflight)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://app.example"
        other = http.options(
            "/v1/apps/list", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers


def test_request_size_limits_on_both_surfaces(server_factory: Callable[..., LiveServer]) -> None:
    server = server_factory(max_body_bytes=2048)
    big = b"{" + b" " * 4096 + b"}"
    with server.client() as http:
        honcho = http.post("/v1/apps", content=big, headers={"content-type": "application/json"})
        assert honcho.status_code == 413
        bedrock = http.put("/sessions/", content=big, headers={"content-type": "application/json"})
        assert bedrock.status_code == 400
        assert bedrock.headers["x-amzn-errortype"] == "ValidationException"


def test_codec_round_trip_and_strictness() -> None:
    now = utcnow()
    scope = KeyScope(workspace_id="a" * 21, peer_id="b" * 21, key_id="k", expires_at=4102444800)
    token = codec().encode(scope, now)
    assert codec().decode(token) == scope
    head, body, signature = token.split(".")
    for bad in (f"{head}.{body}.{signature}=", f"{head}.{body}!.{signature}", f"{head}.{body}"):
        with pytest.raises(Exception, match="Invalid JWT"):
            codec().decode(bad)
