"""Bearer keys on the v3 surface over real HTTP: verification and its 401s, expiry, revocation,
`POST /v3/keys`, keys of one surface on the other, the body checks of the get-or-create
routes, member reads, and the honcho-ai 2.7.0 SDK holding scoped keys."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import LiveServer
from tests.honcho_v3.sdk import SdkRunner, ensure_sdk
from tests.security.conftest import (
    AUTH_SETTINGS,
    JWT_SECRET,
    ManualClock,
    admin_token,
    bearer,
    revoke_key,
    uid,
)
from tests.security.test_cli_security import _cli, _env
from tests.security.v3 import (
    ADMIN_ONLY,
    EXPIRED,
    INVALID,
    MISSING_WORKSPACE,
    NO_TOKEN,
    NOT_PERMITTED,
    REVOKED,
    UNAUTHORIZED,
    World,
    build_world,
    ok,
    refused,
    sign,
)


@pytest.fixture
def world(admin_http: httpx.Client) -> World:
    """Two workspaces of the standard world."""
    return build_world(admin_http)


def mint(admin: httpx.Client, **params: str) -> str:
    """A key from POST /v3/keys."""
    token: str = ok(admin.post("/v3/keys", params=params), 200)["key"]
    return token


@pytest.fixture
def as_key(secure: LiveServer) -> Iterator[Callable[[str], httpx.Client]]:
    """Clients carrying a given key."""
    clients: list[httpx.Client] = []

    def make(token: str) -> httpx.Client:
        client = secure.client(headers=bearer(token))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_missing_and_malformed_tokens(secure: LiveServer) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT wants longer keys for HS512
        hs512 = sign({"ad": True}, algorithm="HS512")
    with secure.client() as http:
        refused(http.post("/v3/workspaces/list"), NO_TOKEN)
        for header in ("Basic abc", "Bearer", "Token abc", "abc"):
            refused(http.post("/v3/workspaces/list", headers={"Authorization": header}), NO_TOKEN)
        bad = [
            "not-a-jwt",
            sign({"ad": True}, secret="another-secret-" + "y" * 40),
            hs512,
            # upstream's minted expiry is an ISO string: never accepted (nor a 500)
            sign({"ad": True, "exp": "2099-01-01T00:00:00Z"}),
            sign({"ad": True, "exp": True}),
            sign({"w": 5}),
            sign({"w": "x", "p": ["a"]}),
            jwt.encode({"ad": True}, "", algorithm="none"),
        ]
        for token in bad:
            refused(http.post("/v3/workspaces/list", headers=bearer(token)), INVALID)
        # non-finite numbers are JSON to Python's parser: still only "Invalid JWT"
        nan = jwt.api_jws.encode(b'{"ad":true,"exp":NaN}', JWT_SECRET, algorithm="HS256")
        refused(http.post("/v3/workspaces/list", headers=bearer(nan)), INVALID)


def test_peer_or_session_claim_without_workspace(secure: LiveServer) -> None:
    with secure.client() as http:
        for claims in ({"p": "alice"}, {"s": "s1"}, {"p": "a", "s": "b"}, {"ad": True, "p": "a"}):
            response = http.post("/v3/workspaces", json={"id": "w"}, headers=bearer(sign(claims)))
            refused(response, MISSING_WORKSPACE)
        # empty claims count as absent
        response = http.post(
            "/v3/workspaces/list", headers=bearer(sign({"ad": True, "w": "", "p": ""}))
        )
        ok(response, 200)


def test_only_ad_true_is_admin(secure: LiveServer) -> None:
    with secure.client() as http:
        for value in ("yes", 1, "true", [1]):
            token = sign({"ad": value})
            refused(http.post("/v3/workspaces/list", headers=bearer(token)), ADMIN_ONLY)
        ok(http.post("/v3/workspaces/list", headers=bearer(sign({"ad": True}))), 200)


def test_integer_exp_is_honoured(server_factory: Callable[..., LiveServer]) -> None:
    clock = ManualClock()
    server = server_factory(clock=clock, **AUTH_SETTINGS)
    now = int(clock().timestamp())
    with server.client() as http:
        ws = uid("ws")
        ok(http.post("/v3/workspaces", json={"id": ws}, headers=bearer(admin_token())))
        live = sign({"w": ws, "exp": now + 60})
        ok(http.post(f"/v3/workspaces/{ws}/peers/list", headers=bearer(live)), 200)
        refused(
            http.post(
                f"/v3/workspaces/{ws}/peers/list", headers=bearer(sign({"w": ws, "exp": now}))
            ),
            EXPIRED,
        )
        clock.advance(seconds=61)
        refused(http.post(f"/v3/workspaces/{ws}/peers/list", headers=bearer(live)), EXPIRED)
        # an expiry far away is no overflow
        far = sign({"w": ws, "exp": 10**30})
        ok(http.post(f"/v3/workspaces/{ws}/peers/list", headers=bearer(far)), 200)


def test_keys_minted_with_expires_at_work_until_then(
    server_factory: Callable[..., LiveServer],
) -> None:
    clock = ManualClock()
    server = server_factory(clock=clock, **AUTH_SETTINGS)
    with server.client(headers=bearer(admin_token(timedelta(days=365)))) as admin:
        ws = uid("ws")
        ok(admin.post("/v3/workspaces", json={"id": ws}))
        until = (clock() + timedelta(hours=1)).isoformat()
        key = mint(admin, workspace_id=ws, expires_at=until)
        claims = jwt.decode(key, JWT_SECRET, algorithms=["HS256"], options={"verify_exp": False})
        assert list(claims) == ["t", "exp", "w", "jti"]
        assert isinstance(claims["exp"], int)
        path = f"/v3/workspaces/{ws}/peers/list"
        ok(admin.post(path, headers=bearer(key)), 200)
        clock.advance(minutes=59)
        ok(admin.post(path, headers=bearer(key)), 200)
        clock.advance(minutes=2)
        refused(admin.post(path, headers=bearer(key)), EXPIRED)
        # a date alone is midnight UTC
        dated = mint(
            admin, workspace_id=ws, expires_at=(clock() + timedelta(days=3)).date().isoformat()
        )
        ok(admin.post(path, headers=bearer(dated)), 200)


def test_keys_endpoint(secure: LiveServer, admin_http: httpx.Client) -> None:
    def detail(params: dict[str, str]) -> Any:
        response = admin_http.post("/v3/keys", params=params)
        assert response.status_code == 422, response.text
        return response.json()["detail"]

    assert detail({}) == "At least one of workspace_id, peer_id, or session_id must be provided"
    assert detail({"workspace_id": ""}) == (
        "At least one of workspace_id, peer_id, or session_id must be provided"
    )
    for params in ({"peer_id": "p"}, {"session_id": "s"}, {"peer_id": "p", "session_id": "s"}):
        assert detail(params) == "workspace_id is required when scoping a key to a peer or session"
    bad = detail({"workspace_id": "w", "expires_at": "soon"})
    assert [(e["type"], e["loc"]) for e in bad] == [
        ("datetime_from_date_parsing", ["query", "expires_at"])
    ]
    assert detail({"workspace_id": "w", "expires_at": "2001-01-01T00:00:00Z"}) == (
        "expires_at must be in the future"
    )
    key = mint(admin_http, workspace_id="w", peer_id="p", session_id="s")
    claims = jwt.decode(key, JWT_SECRET, algorithms=["HS256"])
    assert list(claims) == ["t", "w", "p", "s", "jti"]
    assert (claims["w"], claims["p"], claims["s"]) == ("w", "p", "s")
    # every key has its own id, so identical requests give different keys
    assert mint(admin_http, workspace_id="w") != mint(admin_http, workspace_id="w")
    # only admin keys mint
    refused(
        admin_http.post("/v3/keys", params={"workspace_id": "w"}, headers=bearer(key)), ADMIN_ONLY
    )
    refused(
        admin_http.post("/v3/keys", params={"workspace_id": "w"}, headers=bearer(sign({"w": "w"}))),
        ADMIN_ONLY,
    )


def test_keys_endpoint_with_authentication_off(server: LiveServer) -> None:
    with server.client() as http:
        response = http.post("/v3/keys", params={"workspace_id": "w"})
        assert (response.status_code, response.json()) == (405, {"detail": "Feature is disabled"})
        # any header is ignored, every request is admin
        ok(http.post("/v3/workspaces/list", headers=bearer("junk")), 200)


def test_revoked_keys_are_refused(secure: LiveServer, admin_http: httpx.Client) -> None:
    ws = uid("ws")
    ok(admin_http.post("/v3/workspaces", json={"id": ws}))
    key = mint(admin_http, workspace_id=ws)
    path = f"/v3/workspaces/{ws}/peers/list"
    ok(admin_http.post(path, headers=bearer(key)), 200)
    revoke_key(secure, key)
    refused(admin_http.post(path, headers=bearer(key)), REVOKED)
    ok(admin_http.post(path, headers=bearer(mint(admin_http, workspace_id=ws))), 200)


def test_keys_of_one_surface_do_not_work_on_the_other(
    secure: LiveServer, admin_http: httpx.Client
) -> None:
    ws = uid("ws")
    ok(admin_http.post("/v3/workspaces", json={"id": ws}))
    app = ok(admin_http.post("/v1/apps", json={"name": uid("app")}))
    v1_key = ok(admin_http.post("/v1/keys", params={"app_id": app["id"]}), 200)["key"]
    v3_key = mint(admin_http, workspace_id=ws)
    # a v1 app key names no v3 workspace: it reaches nothing on v3
    refused(
        admin_http.post(f"/v3/workspaces/{ws}/peers/list", headers=bearer(v1_key)), NOT_PERMITTED
    )
    refused(
        admin_http.post("/v3/workspaces", json={"id": ws}, headers=bearer(v1_key)), UNAUTHORIZED
    )
    refused(
        admin_http.post(f"/v3/workspaces/{ws}/peers", json={"id": "x"}, headers=bearer(v1_key)),
        UNAUTHORIZED,
    )
    # a v3 key names no v1 app: it reaches nothing on v1
    response = admin_http.post(f"/v1/apps/{app['id']}/users/list", json={}, headers=bearer(v3_key))
    refused(response, NOT_PERMITTED)
    # an admin key works on both
    token = admin_token()
    ok(admin_http.post("/v1/apps/list", json={}, headers=bearer(token)), 200)
    ok(admin_http.post("/v3/workspaces/list", headers=bearer(token)), 200)


def test_authentication_comes_before_field_validation(secure: LiveServer) -> None:
    with secure.client() as http:
        refused(http.post("/v3/workspaces", json={"id": "not a name"}), NO_TOKEN)
        refused(http.post("/v3/workspaces", json={}), NO_TOKEN)
        response = http.post(
            "/v3/workspaces", content=b"{bad", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["type"] == "json_invalid"
        ws_key = bearer(sign({"w": "w1"}))
        refused(
            http.post("/v3/workspaces/w2/peers", json={"id": "bad name"}, headers=ws_key),
            UNAUTHORIZED,
        )
        response = http.post("/v3/workspaces/w1/peers", json={"id": "bad name"}, headers=ws_key)
        assert response.status_code == 422, response.text


def test_workspace_get_or_create_checks_the_body(
    world: World, as_key: Callable[[str], httpx.Client]
) -> None:
    a, b = world.workspaces
    for claims in ({"w": a}, {"w": a, "p": "alice"}, {"w": a, "s": "s1"}):
        http = as_key(sign(claims))
        ok(http.post("/v3/workspaces", json={"id": a}), 200)
        ok(http.post("/v3/workspaces", json={"name": a}), 200)
        refused(http.post("/v3/workspaces", json={"id": b}), UNAUTHORIZED)
        refused(http.post("/v3/workspaces", json={"name": b}), UNAUTHORIZED)
        refused(http.post("/v3/workspaces", json={"id": uid("new")}), UNAUTHORIZED)


def test_session_keys_get_members_and_create_new_peers_only(
    world: World, as_key: Callable[[str], httpx.Client]
) -> None:
    a, b = world.workspaces
    http = as_key(sign({"w": a, "s": "s1"}))
    peers = f"/v3/workspaces/{a}/peers"
    assert ok(http.post(peers, json={"id": "alice"}), 200)["id"] == "alice"
    ok(http.post(peers, json={"name": "bob"}), 200)
    # carol exists and is not in s1: upstream let any session key read and rewrite her
    refused(http.post(peers, json={"id": "carol"}), UNAUTHORIZED)
    refused(http.post(peers, json={"id": "alice", "metadata": {"x": 1}}), UNAUTHORIZED)
    refused(http.post(peers, json={"id": "alice", "configuration": {}}), UNAUTHORIZED)
    ok(http.post(peers, json={"id": "alice", "metadata": None}), 200)
    ok(http.post(peers, json={"id": "dave", "metadata": {"new": True}}), 201)
    refused(http.post(f"/v3/workspaces/{b}/peers", json={"id": "eve"}), UNAUTHORIZED)
    # alice left s3: a key of s3 cannot read her any more
    refused(as_key(sign({"w": a, "s": "s3"})).post(peers, json={"id": "alice"}), UNAUTHORIZED)
    # its own session: get, create, change
    sessions = f"/v3/workspaces/{a}/sessions"
    ok(http.post(sessions, json={"id": "s1", "metadata": {"k": 1}}), 200)
    refused(http.post(sessions, json={"id": "s2"}), UNAUTHORIZED)
    # scopes are the workspace's: joining one takes a workspace key
    refused(http.post(sessions, json={"id": "s1", "scopes": ["sc"]}), UNAUTHORIZED)
    # peer routes and workspace routes are out of reach
    refused(http.put(f"{peers}/alice", json={"metadata": {}}), NOT_PERMITTED)
    refused(http.post(f"{sessions}/list"), NOT_PERMITTED)


def test_peer_keys_read_their_sessions_and_create_sessions_of_their_own(
    world: World, as_key: Callable[[str], httpx.Client]
) -> None:
    a, _ = world.workspaces
    http = as_key(sign({"w": a, "p": "alice"}))
    sessions = f"/v3/workspaces/{a}/sessions"
    assert ok(http.post(sessions, json={"id": "s1"}), 200)["id"] == "s1"
    refused(http.post(sessions, json={"id": "s2"}), UNAUTHORIZED)
    refused(http.post(sessions, json={"id": "s3"}), UNAUTHORIZED)  # left
    for change in ({"metadata": {}}, {"configuration": {}}, {"peers": {"alice": {}}}):
        refused(http.post(sessions, json={"id": "s1", **change}), UNAUTHORIZED)
    ok(http.post(sessions, json={"id": uid("mine")}), 201)
    mine = uid("mine")
    ok(http.post(sessions, json={"id": mine, "peers": {"alice": {}}, "metadata": {"k": 1}}), 201)
    ok(http.post(f"{sessions}/{mine}/messages/list"), 200)
    refused(http.post(sessions, json={"id": uid("x"), "peers": {"bob": {}}}), UNAUTHORIZED)
    refused(
        http.post(sessions, json={"id": uid("x"), "peers": {"alice": {}, "carol": {}}}),
        UNAUTHORIZED,
    )
    refused(http.post(sessions, json={"id": uid("x"), "scopes": ["sc"]}), UNAUTHORIZED)
    # itself: get or create and change
    peers = f"/v3/workspaces/{a}/peers"
    ok(http.post(peers, json={"id": "alice", "metadata": {"mood": "ok"}}), 200)
    refused(http.post(peers, json={"id": "bob"}), UNAUTHORIZED)


def test_member_reads(world: World, as_key: Callable[[str], httpx.Client]) -> None:
    a, b = world.workspaces
    alice = as_key(sign({"w": a, "p": "alice"}))
    s1, s2, s3 = (f"/v3/workspaces/{a}/sessions/{s}" for s in ("s1", "s2", "s3"))
    page = ok(alice.get(f"{s1}/peers"), 200)
    assert sorted(p["id"] for p in page["items"]) == ["alice", "bob"]
    ok(alice.post(f"{s1}/messages/list"), 200)
    ok(alice.get(f"{s1}/messages/{world.messages[(a, 's1')]}"), 200)
    assert ok(alice.get(f"{s1}/peers/alice/config"), 200) == {
        "observe_me": None,
        "observe_others": None,
    }
    refused(alice.get(f"{s1}/peers/bob/config"), NOT_PERMITTED)
    for path in (f"{s2}/peers", f"{s3}/peers", f"{s3}/messages/list", f"{s3}/peers/alice/config"):
        refused(
            alice.request("GET" if path.endswith(("peers", "config")) else "POST", path),
            NOT_PERMITTED,
        )
    # reads only: a peer key writes nothing in its sessions
    refused(alice.put(s1, json={"metadata": {}}), NOT_PERMITTED)
    message = {"messages": [{"peer_id": "alice", "content": "x"}]}
    refused(alice.post(f"{s1}/messages", json=message), NOT_PERMITTED)
    refused(alice.put(f"{s1}/peers/alice/config", json={}), NOT_PERMITTED)
    # same names in another workspace are another session
    refused(alice.get(f"/v3/workspaces/{b}/sessions/s1/peers"), NOT_PERMITTED)
    # membership is read live: after leaving, the reads stop
    admin = as_key(admin_token())
    ok(admin.request("DELETE", f"{s1}/peers", json=["alice"]), 200)
    refused(alice.get(f"{s1}/peers"), NOT_PERMITTED)
    ok(admin.post(f"{s1}/peers", json={"alice": {}}), 200)
    ok(alice.get(f"{s1}/peers"), 200)


def test_sdk_with_scoped_keys(secure: LiveServer, world: World, admin_http: httpx.Client) -> None:
    a, _ = world.workspaces
    sdk = SdkRunner(secure.url, ensure_sdk())
    keys = {
        "workspace": mint(admin_http, workspace_id=a),
        "peer": mint(admin_http, workspace_id=a, peer_id="alice"),
        "session": mint(admin_http, workspace_id=a, session_id="s1"),
    }
    result = sdk.run(
        """
        ws = client(api_key=PARAMS["keys"]["workspace"])
        peer = client(api_key=PARAMS["keys"]["peer"])
        sess = client(api_key=PARAMS["keys"]["session"])
        out = {}
        out["ws peers"] = sorted(p.id for p in ws.peers())
        out["ws workspaces"] = errors(lambda: ws.workspaces())
        alice = peer.peer("alice")
        s1 = peer.session("s1")
        out["peer reads"] = [m.content for m in s1.messages()]
        out["peer members"] = sorted(p.id for p in s1.peers())
        out["peer writes"] = errors(lambda: s1.add_messages([alice.message("no")]))
        out["peer other session"] = errors(lambda: peer.session("s2"))
        out["peer other peer"] = errors(lambda: peer.peer("bob"))
        session = sess.session("s1")
        bob = sess.peer("bob")
        newcomer = sess.peer("dave")
        session.add_messages([bob.message("from bob"), newcomer.message("from dave")])
        out["session members"] = sorted(p.id for p in session.peers())
        out["session outsider"] = errors(lambda: sess.peer("carol"))
        out["session other"] = errors(lambda: sess.session("s2"))
        out["session lists"] = errors(lambda: sess.sessions())
        out["no key"] = errors(lambda: client().peers())
        emit(out)
        """,
        workspace=a,
        keys=keys,
    )
    auth_error = ["AuthenticationError", 401]
    assert result == {
        "ws peers": ["alice", "bob", "carol"],
        "ws workspaces": auth_error,
        "peer reads": ["hi from alice"],
        "peer members": ["alice", "bob"],
        "peer writes": auth_error,
        "peer other session": auth_error,
        "peer other peer": auth_error,
        "session members": ["alice", "bob", "dave"],
        "session outsider": auth_error,
        "session other": auth_error,
        "session lists": auth_error,
        "no key": auth_error,
    }, json.dumps(result, indent=1)


def test_cli_mints_v3_keys(
    tmp_path: Path, secure: LiveServer, world: World, admin_http: httpx.Client
) -> None:
    a, _ = world.workspaces
    env = _env(
        tmp_path,
        MINDKEEPER_AUTH_JWT_SECRET=JWT_SECRET,
        MINDKEEPER_DATABASE_URL=secure.settings.database_url,
    )
    made = _cli(env, "keys", "create", "--workspace", a, "--peer", "alice", "--expires-in", "1h")
    assert made.returncode == 0, made.stderr
    assert f"key for workspace {a}, peer alice" in made.stderr
    token = made.stdout.strip()
    claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"])
    assert (claims["w"], claims["p"], "s" in claims, "ap" in claims) == (a, "alice", False, False)
    alice = bearer(token)
    ok(admin_http.get(f"/v3/workspaces/{a}/sessions/s1/peers", headers=alice), 200)
    refused(admin_http.get(f"/v3/workspaces/{a}/sessions/s2/peers", headers=alice), NOT_PERMITTED)
    revoked = _cli(env, "keys", "revoke", token)
    assert revoked.returncode == 0, revoked.stderr
    refused(admin_http.get(f"/v3/workspaces/{a}/sessions/s1/peers", headers=alice), REVOKED)
    no_workspace = _cli(env, "keys", "create", "--peer", "alice")
    assert no_workspace.returncode == 2
    assert "--workspace is required when scoping a key to a peer or session" in no_workspace.stderr
    mixed = _cli(env, "keys", "create", "--workspace", a, "--app-id", "x")
    assert mixed.returncode == 2 and "either --admin" in mixed.stderr


def test_recall_through_a_scope_needs_a_workspace_key(
    admin_http: httpx.Client, as_key: Callable[[str], httpx.Client]
) -> None:
    world = build_world(admin_http, count=1, scopes=True)
    ws = world.workspaces[0]
    base = f"/v3/workspaces/{ws}"
    peer = as_key(mint(admin_http, workspace_id=ws, peer_id="alice"))
    session = as_key(mint(admin_http, workspace_id=ws, session_id="s1"))
    workspace = as_key(mint(admin_http, workspace_id=ws))
    # A narrower key may recall without a scope, but naming one (known or not) is refused
    # before anything could tell whether it exists.
    ok(peer.post(f"{base}/peers/alice/search", json={"query": "x"}), 200)
    for scope in ("sc", "no-such-scope", ["sc"]):
        body = {"query": "x", "scope": scope}
        refused(peer.post(f"{base}/peers/alice/search", json=body), NOT_PERMITTED)
        refused(peer.post(f"{base}/peers/alice/representation", json=body), NOT_PERMITTED)
        refused(session.post(f"{base}/sessions/s1/search", json=body), NOT_PERMITTED)
    refused(session.get(f"{base}/sessions/s1/context", params={"scope": "sc"}), NOT_PERMITTED)
    ok(session.get(f"{base}/sessions/s1/context"), 200)
    # A workspace key recalls through the scope; an unknown one is its 404.
    ok(workspace.post(f"{base}/peers/alice/search", json={"query": "x", "scope": "sc"}), 200)
    missing = workspace.post(f"{base}/search", json={"query": "x", "scope": "no-such-scope"})
    assert missing.status_code == 404, missing.text
