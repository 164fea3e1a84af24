"""Tenant isolation on the v3 surface, as a tested property.

Every /v3 route of the application (enumerated from `app.routes`: a route without an entry in
`MATRIX` fails the test) is called with keys of every kind — admin, workspace, peer, session,
peer-and-session, a v1 key, a non-admin `ad`, a peer claim without a workspace — against
resources inside and outside their scope, in two workspaces that use the same peer and session
names. The expected outcome of each cell follows from the rules written down in `refusal`
(the specification, independent of the code: reference §5.3-§5.5 and the narrowings of
docs/security.md). Refused calls must answer 401 with the expected detail and change nothing
in the database; allowed calls must get past authentication with the statuses listed.

Adding a route is one line in `MATRIX`: its kind and how to call it at a target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from starlette.routing import Route

from mindkeeper.bootstrap import build_runtime
from mindkeeper.core.ports.auth import KeyScope
from mindkeeper.core.values import utcnow
from mindkeeper.http.app import create_app
from mindkeeper.http.honcho_v3.auth import ROUTES, shape
from tests.conftest import LiveServer, make_settings
from tests.security.conftest import admin_token, bearer, codec, uid
from tests.security.v3 import (
    ADMIN_ONLY,
    MEMBERS,
    MISSING_WORKSPACE,
    NOT_PERMITTED,
    UNAUTHORIZED,
    World,
    build_world,
    ok,
    sign,
)

# Kinds of route: what a route is scoped by (reference §5.4) and its body checks (§5.5).
ADMIN, WS, PEER, CHAT = "admin", "workspace", "peer", "chat"
S_WRITE, S_READ, OWN_CONFIG = "session write", "session read", "own config"
NEW_WS, NEW_PEER, NEW_SESSION = "new workspace", "new peer", "new session"
#: Which targets each kind is tried at: workspaces, peers, sessions, or (session, peer).
AXIS = {
    ADMIN: "w",
    WS: "w",
    NEW_WS: "w",
    NEW_PEER: "w",
    NEW_SESSION: "w",
    PEER: "p",
    CHAT: "p",
    S_WRITE: "s",
    S_READ: "s",
    OWN_CONFIG: "sp",
}
#: Tables a refused call must leave alone.
TABLES = (
    "workspaces",
    "peers",
    "sessions",
    "session_peers",
    "messages",
    "collections",
    "documents",
    "peer_cards",
    "webhook_endpoints",
    "jobs",
)
#: Statuses that mean "authentication let it through" where the outcome depends on the order
#: of the calls or on a model being configured: anything but 401 and 500.
ANY = frozenset(range(200, 600)) - {401, 500}
TWO = frozenset({200, 201, 202, 204})


@dataclass(frozen=True)
class Target:
    """Where a call goes: a workspace, a peer and a session of it, a message of the session."""

    ws: str
    peer: str = "alice"
    session: str = "s1"
    message: str = ""

    @property
    def w(self) -> str:
        return f"/v3/workspaces/{self.ws}"

    @property
    def p(self) -> str:
        return f"{self.w}/peers/{self.peer}"

    @property
    def s(self) -> str:
        return f"{self.w}/sessions/{self.session}"

    @property
    def member(self) -> str:
        """An active member of the session (writes as it change no membership)."""
        return sorted(MEMBERS[self.session])[0]

    @property
    def members(self) -> dict[str, Any]:
        return {m: {} for m in sorted(MEMBERS[self.session])}


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    files: dict[str, Any] | None = None
    data: dict[str, str] | None = None


@dataclass
class Case:
    """One way to call a route: its kind, how to call it at a target, what success is."""

    kind: str
    build: Callable[[Target], Call]
    ok: frozenset[int] = frozenset({200})


def c(
    kind: str, build: Callable[[Target], Call], ok: frozenset[int] | set[int] = frozenset({200})
) -> Case:
    return Case(kind, build, frozenset(ok))


def post(path: str, body: Any = None, **params: str) -> Call:
    return Call("POST", path, params, body)


def get(path: str, **params: str) -> Call:
    return Call("GET", path, params)


def put(path: str, body: Any) -> Call:
    return Call("PUT", path, json=body)


def delete(path: str, body: Any = None) -> Call:
    return Call("DELETE", path, json=body)


def upload(t: Target) -> Call:
    files = {"file": ("note.txt", b"a note", "text/plain")}
    return Call("POST", f"{t.s}/messages/upload", files=files, data={"peer_id": t.member})


W = "/v3/workspaces/{workspace_id}"
P = W + "/peers/{peer_id}"
S = W + "/sessions/{session_id}"
M = S + "/messages"
SC = W + "/scopes"
HOOK = "https://example.com/hook"
FACT = {"observer_id": "alice", "observed_id": "alice", "content": "likes tea"}
BATCH: Callable[[Target], dict[str, Any]] = lambda t: {  # noqa: E731
    "messages": [{"peer_id": t.member, "content": "x"}]
}

#: (method, route path) -> the cases that exercise it.
MATRIX: dict[tuple[str, str], list[Case]] = {
    # workspaces
    ("POST", "/v3/workspaces"): [
        c(NEW_WS, lambda t: post("/v3/workspaces", {"id": t.ws})),
        c(NEW_WS, lambda t: post("/v3/workspaces", {"name": t.ws})),
        c(NEW_WS, lambda t: post("/v3/workspaces", {"id": uid("new")}), {201}),
    ],
    ("POST", "/v3/workspaces/list"): [c(ADMIN, lambda t: post("/v3/workspaces/list"))],
    ("PUT", W): [c(WS, lambda t: put(t.w, {"metadata": {"k": 1}}))],
    ("DELETE", W): [c(WS, lambda t: delete(t.w), {202, 409})],
    ("POST", W + "/search"): [c(WS, lambda t: post(f"{t.w}/search", {"query": "hi"}))],
    ("GET", W + "/queue/status"): [c(WS, lambda t: get(f"{t.w}/queue/status"))],
    ("POST", W + "/schedule_dream"): [
        c(
            WS,
            lambda t: post(f"{t.w}/schedule_dream", {"observer": "alice", "dream_type": "omni"}),
            ANY,
        )
    ],
    ("POST", W + "/chat"): [c(WS, lambda t: post(f"{t.w}/chat", {"query": "hi"}), ANY)],
    # peers
    ("POST", W + "/peers/list"): [c(WS, lambda t: post(f"{t.w}/peers/list"))],
    ("POST", W + "/peers"): [
        c(NEW_PEER, lambda t: post(f"{t.w}/peers", {"id": "alice"})),
        c(NEW_PEER, lambda t: post(f"{t.w}/peers", {"id": "carol"})),
        c(NEW_PEER, lambda t: post(f"{t.w}/peers", {"name": "bob"})),
        c(NEW_PEER, lambda t: post(f"{t.w}/peers", {"id": uid("new")}), {201}),
        c(NEW_PEER, lambda t: post(f"{t.w}/peers", {"id": "alice", "metadata": {"k": 1}})),
    ],
    ("PUT", P): [c(PEER, lambda t: put(t.p, {"metadata": {"k": 1}}))],
    ("POST", P + "/sessions"): [c(PEER, lambda t: post(f"{t.p}/sessions"))],
    ("POST", P + "/chat"): [
        c(CHAT, lambda t: post(f"{t.p}/chat", {"query": "hi"}), ANY),
        c(CHAT, lambda t: post(f"{t.p}/chat", {"query": "hi", "session_id": "s1"}), ANY),
        c(CHAT, lambda t: post(f"{t.p}/chat", {"query": "hi", "session_id": "s2"}), ANY),
        c(
            CHAT,
            lambda t: post(f"{t.p}/chat", {"query": "hi", "filters": {"session_id": ["s1", "s3"]}}),
            ANY,
        ),
    ],
    ("POST", P + "/representation"): [c(PEER, lambda t: post(f"{t.p}/representation", {}))],
    ("GET", P + "/card"): [c(PEER, lambda t: get(f"{t.p}/card"))],
    ("PUT", P + "/card"): [c(PEER, lambda t: put(f"{t.p}/card", {"peer_card": ["x"]}))],
    ("GET", P + "/context"): [c(PEER, lambda t: get(f"{t.p}/context"))],
    ("POST", P + "/search"): [c(PEER, lambda t: post(f"{t.p}/search", {"query": "hi"}))],
    # sessions
    ("POST", W + "/sessions/list"): [c(WS, lambda t: post(f"{t.w}/sessions/list"))],
    ("POST", W + "/sessions"): [
        c(NEW_SESSION, lambda t: post(f"{t.w}/sessions", {"id": "s1"}), {200, 404}),
        c(NEW_SESSION, lambda t: post(f"{t.w}/sessions", {"name": "s2"}), {200, 404}),
        c(
            NEW_SESSION,
            lambda t: post(f"{t.w}/sessions", {"id": "s1", "metadata": {"k": 1}}),
            {200, 404},
        ),
        c(NEW_SESSION, lambda t: post(f"{t.w}/sessions", {"id": uid("new")}), {201}),
        c(
            NEW_SESSION,
            lambda t: post(f"{t.w}/sessions", {"id": uid("new"), "peers": {"alice": {}}}),
            {201},
        ),
        c(
            NEW_SESSION,
            lambda t: post(f"{t.w}/sessions", {"id": uid("new"), "peers": {"carol": {}}}),
            {201},
        ),
    ],
    ("PUT", S): [c(S_WRITE, lambda t: put(t.s, {"metadata": {"k": 1}}), {200, 404})],
    ("DELETE", S): [c(S_WRITE, lambda t: delete(t.s), {202, 404})],
    ("POST", S + "/clone"): [c(S_WRITE, lambda t: post(f"{t.s}/clone"), {201, 404})],
    ("POST", S + "/peers"): [c(S_WRITE, lambda t: post(f"{t.s}/peers", t.members), {200, 404})],
    ("PUT", S + "/peers"): [c(S_WRITE, lambda t: put(f"{t.s}/peers", t.members), {200, 404})],
    ("DELETE", S + "/peers"): [
        c(S_WRITE, lambda t: delete(f"{t.s}/peers", ["nobody"]), {200, 404})
    ],
    ("GET", S + "/peers"): [c(S_READ, lambda t: get(f"{t.s}/peers"))],
    ("GET", S + "/peers/{peer_id}/config"): [
        c(OWN_CONFIG, lambda t: get(f"{t.s}/peers/{t.peer}/config"))
    ],
    ("PUT", S + "/peers/{peer_id}/config"): [
        c(S_WRITE, lambda t: put(f"{t.s}/peers/{t.member}/config", {}), {204, 404})
    ],
    ("GET", S + "/context"): [c(S_READ, lambda t: get(f"{t.s}/context"))],
    ("GET", S + "/summaries"): [c(S_READ, lambda t: get(f"{t.s}/summaries"))],
    ("POST", S + "/search"): [c(S_READ, lambda t: post(f"{t.s}/search", {"query": "hi"}))],
    # messages
    ("POST", M): [c(S_WRITE, lambda t: post(f"{t.s}/messages", BATCH(t)), {201, 404})],
    ("POST", M + "/"): [c(S_WRITE, lambda t: post(f"{t.s}/messages/", BATCH(t)), {201, 404})],
    ("POST", M + "/upload"): [c(S_WRITE, upload, {201, 404})],
    ("POST", M + "/list"): [c(S_READ, lambda t: post(f"{t.s}/messages/list"))],
    ("GET", M + "/{message_id}"): [c(S_READ, lambda t: get(f"{t.s}/messages/{t.message}"))],
    ("PUT", M + "/{message_id}"): [
        c(S_WRITE, lambda t: put(f"{t.s}/messages/{t.message}", {"metadata": {"k": 1}}))
    ],
    # conclusions
    ("POST", W + "/conclusions"): [
        c(WS, lambda t: post(f"{t.w}/conclusions", {"conclusions": [FACT]}), {201})
    ],
    ("POST", W + "/conclusions/list"): [c(WS, lambda t: post(f"{t.w}/conclusions/list"))],
    ("POST", W + "/conclusions/query"): [
        c(
            WS,
            lambda t: post(
                f"{t.w}/conclusions/query",
                {"query": "tea", "filters": {"observer_id": "alice", "observed_id": "alice"}},
            ),
            ANY,
        )
    ],
    ("GET", W + "/conclusions/{id}"): [c(WS, lambda t: get(f"{t.w}/conclusions/nothere"), {404})],
    ("DELETE", W + "/conclusions/{id}"): [
        c(WS, lambda t: delete(f"{t.w}/conclusions/nothere"), {404})
    ],
    # webhooks
    ("POST", W + "/webhooks"): [
        c(WS, lambda t: post(f"{t.w}/webhooks", {"url": HOOK}), {200, 201})
    ],
    ("GET", W + "/webhooks"): [c(WS, lambda t: get(f"{t.w}/webhooks"))],
    ("GET", W + "/webhooks/test"): [c(WS, lambda t: get(f"{t.w}/webhooks/test"))],
    ("DELETE", W + "/webhooks/{id}"): [
        c(WS, lambda t: delete(f"{t.w}/webhooks/nothere"), {204, 404})
    ],
    # scopes
    ("POST", SC): [c(WS, lambda t: post(f"{t.w}/scopes", {"id": "sc"}), {200, 201})],
    ("POST", SC + "/list"): [c(WS, lambda t: post(f"{t.w}/scopes/list"))],
    ("GET", SC + "/{id}"): [c(WS, lambda t: get(f"{t.w}/scopes/sc"))],
    ("GET", SC + "/{id}/status"): [c(WS, lambda t: get(f"{t.w}/scopes/sc/status"))],
    ("POST", SC + "/{id}/sessions"): [
        c(WS, lambda t: post(f"{t.w}/scopes/sc/sessions", {"session_ids": ["s2"]}), {204, 404})
    ],
    ("POST", SC + "/{id}/sessions/list"): [c(WS, lambda t: post(f"{t.w}/scopes/sc/sessions/list"))],
    ("DELETE", SC + "/{id}/sessions/{session_id}"): [
        c(WS, lambda t: delete(f"{t.w}/scopes/sc/sessions/s3"), {204, 404})
    ],
    # keys
    ("POST", "/v3/keys"): [c(ADMIN, lambda t: post("/v3/keys", workspace_id=t.ws))],
}


@dataclass
class Key:
    """A key and what it claims (None: absent)."""

    name: str
    token: str
    admin: bool = False
    w: str | None = None
    p: str | None = None
    s: str | None = None
    missing_workspace: bool = False


def refusal(key: Key, kind: str, t: Target, call: Call, world: World) -> str | None:
    """The 401 detail the call must get with this key, or None when it must be let through."""
    if key.missing_workspace:
        return MISSING_WORKSPACE
    if key.admin:
        return None
    if kind == ADMIN:
        return ADMIN_ONLY
    body = call.json if isinstance(call.json, dict) else {}
    name = body.get("id", body.get("name"))
    if kind == NEW_WS:
        return None if key.w is not None and name == key.w else UNAUTHORIZED
    if kind in (NEW_PEER, NEW_SESSION) and (key.w is None or key.w != t.ws):
        return UNAUTHORIZED
    changes = {k for k in body if k not in ("id", "name")}
    if kind == NEW_PEER:
        if key.p is not None and name != key.p:
            return UNAUTHORIZED
        if key.s is not None:
            if name in world.active(t.ws, key.s):
                return UNAUTHORIZED if changes else None
            return UNAUTHORIZED if name in world.peers[t.ws] else None
        return None
    if kind == NEW_SESSION:
        if key.s is not None:
            return None if name == key.s else UNAUTHORIZED
        if key.p is not None:
            if any(m != key.p for m in body.get("peers") or {}):
                return UNAUTHORIZED
            if name not in world.sessions[t.ws]:
                return None
            return None if not changes and key.p in world.active(t.ws, name) else UNAUTHORIZED
        return None
    # routes scoped by their path
    if key.w is None or key.w != t.ws:
        return NOT_PERMITTED
    if key.s is not None:
        reach = kind in (S_WRITE, S_READ, OWN_CONFIG) and t.session == key.s
        return None if reach else NOT_PERMITTED
    if key.p is not None:
        if kind in (PEER, CHAT) and t.peer == key.p:
            if kind == CHAT:
                wanted = list((body.get("filters") or {}).get("session_id", []))
                if "session_id" in body:
                    wanted.append(body["session_id"])
                if any(key.p not in world.active(t.ws, s) for s in wanted):
                    return NOT_PERMITTED
            return None
        if kind in (S_READ, OWN_CONFIG) and key.p in world.active(t.ws, t.session):
            return None if kind == S_READ or t.peer == key.p else NOT_PERMITTED
        return NOT_PERMITTED
    return None


def targets(axis: str, world: World) -> list[Target]:
    """Where routes of an axis are tried: inside and beside a key's scope, and in the other
    workspace under the same names."""
    a, b = world.workspaces

    def at(ws: str, session: str = "s1", peer: str = "alice") -> Target:
        return Target(ws, peer, session, world.messages[(ws, session)])

    if axis == "w":
        return [at(a), at(b)]
    if axis == "p":
        return [at(a), at(a, peer="carol"), at(b)]
    if axis == "s":
        return [at(a), at(a, "s2"), at(a, "s3"), at(b)]
    return [at(a), at(a, peer="bob"), at(a, "s3"), at(b)]


def mint_keys(admin: httpx.Client, world: World) -> list[Key]:
    """Keys of every kind, minted by POST /v3/keys where v3 can mint them."""

    def minted(name: str, w: str, p: str | None = None, s: str | None = None) -> Key:
        params = {"workspace_id": w, "peer_id": p, "session_id": s}
        given = {k: v for k, v in params.items() if v is not None}
        token = ok(admin.post("/v3/keys", params=given), 200)["key"]
        return Key(name, token, w=w, p=p, s=s)

    keys = [Key("admin", admin_token(), admin=True)]
    for label, ws in zip(("A", "B"), world.workspaces, strict=True):
        keys += [
            minted(f"workspace {label}", w=ws),
            minted(f"peer alice of {label}", w=ws, p="alice"),
            minted(f"session s1 of {label}", w=ws, s="s1"),
        ]
    a = world.workspaces[0]
    keys += [
        minted("peer carol + session s1 of A", w=a, p="carol", s="s1"),
        Key("v1 app key", codec().encode(KeyScope(workspace_id="x" * 21, key_id="k"), utcnow())),
        Key("ad 'yes'", sign({"ad": "yes"})),
        Key("ad 'yes' of A", sign({"ad": "yes", "w": a}), w=a),
        Key("peer without workspace", sign({"p": "alice"}), missing_workspace=True),
    ]
    return keys


def served_routes(url: str) -> set[tuple[str, str]]:
    """Every (method, path) under /v3 that the application serves, read from `app.routes`."""
    settings = make_settings(url, worker_enabled=False)
    asgi: Any = create_app(settings, build_runtime(settings, embedder=None))
    while not hasattr(asgi, "routes"):
        asgi = asgi.app
    served: set[tuple[str, str]] = set()
    for route in asgi.routes:
        assert isinstance(route, Route)
        if not route.path.startswith("/v3/"):
            continue
        for method in route.methods or ():
            if method != "HEAD":
                served.add((method, route.path))
    return served


def _entries() -> dict[tuple[str, str], list[Case]]:
    return {(method, shape(path)): cases for (method, path), cases in MATRIX.items()}


def test_every_v3_route_has_matrix_entries_and_a_rule(database_url: str) -> None:
    served = served_routes(database_url)
    entries = _entries()
    missing = sorted(r for r in served if (r[0], shape(r[1])) not in entries)
    assert not missing, f"/v3 routes without a scope-matrix entry: {missing}"
    no_rule = sorted(r for r in served if (r[0], shape(r[1])) not in ROUTES)
    assert not no_rule, f"/v3 routes without a rule in honcho_v3/auth.py (admin-only): {no_rule}"
    unserved = sorted(set(entries) - {(m, shape(p)) for m, p in served})
    assert not unserved, f"matrix entries for routes the application does not serve: {unserved}"


async def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return {
                table: [
                    tuple(row)
                    for row in await conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
                ]
                for table in TABLES
            }
    finally:
        await engine.dispose()


def _describe(key: Key, t: Target, route: str, call: Call, response: httpx.Response) -> str:
    return (
        f"{key.name} @ {t.ws[:9]}/{t.peer}/{t.session}: {route} {call.json} -> "
        f"{response.status_code} {response.text[:160]}"
    )


async def test_scope_matrix_v3(secure: LiveServer, admin_http: httpx.Client) -> None:
    world = build_world(admin_http, scopes=True)
    keys = mint_keys(admin_http, world)

    plan: list[tuple[Key, Target, str, Case, Call, str | None]] = []
    for (method, path), cases in _entries().items():
        for case in cases:
            for t in targets(AXIS[case.kind], world):
                for key in keys:
                    call = case.build(t)
                    why = refusal(key, case.kind, t, call, world)
                    plan.append((key, t, f"{method} {path}", case, call, why))

    def send(key: Key, call: Call) -> httpx.Response:
        return admin_http.request(
            call.method,
            call.path,
            params=call.params,
            json=call.json,
            files=call.files,
            data=call.data,
            headers=bearer(key.token),
        )

    before = await _snapshot(secure.settings.database_url)
    failures: list[str] = []
    refused = [row for row in plan if row[5] is not None]
    for key, t, route, _, call, why in refused:
        response = send(key, call)
        if response.status_code != 401 or response.json() != {"detail": why}:
            failures.append(f"(want {why}) " + _describe(key, t, route, call, response))
    assert not failures, "calls that should have been refused:\n" + "\n".join(failures)
    assert await _snapshot(secure.settings.database_url) == before, "a refused call changed data"

    allowed = [row for row in plan if row[5] is None]
    for key, t, route, case, call, _ in allowed:
        response = send(key, call)
        if response.status_code not in case.ok:
            failures.append(_describe(key, t, route, call, response))
    assert not failures, "calls that should have been allowed:\n" + "\n".join(failures)
    assert len(refused) > 1000 and len(allowed) > 300, (len(refused), len(allowed))
