"""Tenant isolation on the Honcho surface, as a tested property.

Every route of the application (enumerated from `app.routes`: a new route without an entry
here fails the test) is called with a key of each scope against resources inside and outside
that scope. The expected outcome of each cell follows from the key hierarchy (admin > app >
user > session / collection) and from the level each route touches, written down by hand
below. Denied calls must answer 401 with upstream's detail and change nothing in the
database; allowed calls must succeed.
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
from mindkeeper.http.app import create_app
from tests.conftest import LiveServer
from tests.security.conftest import bearer, uid

ADMIN, APP, USER, SESSION, COLLECTION = "admin", "app", "user", "session", "collection"
NOT_PERMITTED = {"detail": "JWT not permissioned for this resource"}
ADMIN_ONLY = {"detail": "Resource requires admin privileges"}
#: Routes that are public on purpose (every other route needs a matrix entry).
PUBLIC = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/healthz", "/readyz"}
TABLES = ("workspaces", "peers", "sessions", "messages", "notes", "collections", "documents")


@dataclass
class Place:
    """One corner of the data: an app, a user, a session and a collection, with children."""

    app: str
    app_name: str
    user: str
    user_name: str
    session: str
    message: str
    session_note: str
    user_note: str
    collection: str
    collection_name: str
    document: str

    @property
    def base(self) -> str:
        return f"/v1/apps/{self.app}/users/{self.user}"


@dataclass
class Key:
    """A minted key and what it was minted for."""

    name: str
    token: str
    kind: str
    app: str | None = None
    user: str | None = None
    session: str | None = None
    collection: str | None = None


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None


@dataclass
class Case:
    """One way to call a route: the level it touches and how to build the call at a place."""

    level: str
    build: Callable[[Place, Callable[[str, Place], str]], Call]
    ok: frozenset[int] = frozenset({200})
    note: str = ""


def _s(p: Place) -> str:
    return f"{p.base}/sessions/{p.session}"


def _c(p: Place) -> str:
    return f"{p.base}/collections/{p.collection}"


def _meta(body: dict[str, Any]) -> dict[str, Any]:
    return {"label": "l", "content": "c", **body}


CHAT = "/v1/apps/{app_id}/users/{user_id}/sessions/{session_id}/chat"
U = "/v1/apps/{app_id}/users"
S = U + "/{user_id}/sessions"
M = S + "/{session_id}/messages"
MM = U + "/{user_id}/metamessages"
C = U + "/{user_id}/collections"
D = C + "/{collection_id}/documents"

#: (method, route path) -> the cases that exercise it.
MATRIX: dict[tuple[str, str], list[Case]] = {
    ("GET", "/v1/apps"): [Case(APP, lambda p, f: Call("GET", "/v1/apps", {"app_id": p.app}))],
    ("POST", "/v1/apps"): [
        Case(ADMIN, lambda p, f: Call("POST", "/v1/apps", json={"name": uid()}))
    ],
    ("POST", "/v1/apps/list"): [Case(ADMIN, lambda p, f: Call("POST", "/v1/apps/list", json={}))],
    ("GET", "/v1/apps/name/{name}"): [
        Case(ADMIN, lambda p, f: Call("GET", f"/v1/apps/name/{p.app_name}"))
    ],
    ("GET", "/v1/apps/get_or_create/{name}"): [
        Case(ADMIN, lambda p, f: Call("GET", f"/v1/apps/get_or_create/{p.app_name}"))
    ],
    ("PUT", "/v1/apps/{app_id}"): [
        Case(APP, lambda p, f: Call("PUT", f"/v1/apps/{p.app}", json={"metadata": {"k": uid()}}))
    ],
    ("POST", U): [
        Case(APP, lambda p, f: Call("POST", f"/v1/apps/{p.app}/users", json={"name": uid()})),
        Case(
            APP,
            lambda p, f: Call(
                "POST", f"/v1/apps/{p.app}/users", {"user_id": p.user}, {"name": uid()}
            ),
            note="upstream leak: ?user_id= satisfied the check",
        ),
    ],
    ("GET", U): [
        Case(USER, lambda p, f: Call("GET", f"/v1/apps/{p.app}/users", {"user_id": p.user}))
    ],
    ("POST", U + "/list"): [
        Case(APP, lambda p, f: Call("POST", f"/v1/apps/{p.app}/users/list", json={})),
        Case(
            APP,
            lambda p, f: Call("POST", f"/v1/apps/{p.app}/users/list", {"user_id": p.user}, {}),
            note="upstream leak: ?user_id= satisfied the check",
        ),
    ],
    ("GET", U + "/name/{name}"): [
        Case(APP, lambda p, f: Call("GET", f"/v1/apps/{p.app}/users/name/{p.user_name}"))
    ],
    ("GET", U + "/get_or_create/{name}"): [
        Case(APP, lambda p, f: Call("GET", f"/v1/apps/{p.app}/users/get_or_create/{p.user_name}"))
    ],
    ("PUT", U + "/{user_id}"): [
        Case(USER, lambda p, f: Call("PUT", p.base, json={"metadata": {"k": uid()}}))
    ],
    ("GET", S): [
        Case(SESSION, lambda p, f: Call("GET", f"{p.base}/sessions", {"session_id": p.session}))
    ],
    ("POST", S): [Case(USER, lambda p, f: Call("POST", f"{p.base}/sessions", json={}))],
    ("POST", S + "/list"): [
        Case(USER, lambda p, f: Call("POST", f"{p.base}/sessions/list", json={})),
        Case(
            USER,
            lambda p, f: Call("POST", f"{p.base}/sessions/list", {"session_id": p.session}, {}),
        ),
    ],
    ("PUT", S + "/{session_id}"): [
        Case(SESSION, lambda p, f: Call("PUT", _s(p), json={"metadata": {"k": uid()}}))
    ],
    ("DELETE", S + "/{session_id}"): [Case(SESSION, lambda p, f: Call("DELETE", _s(p)))],
    ("GET", S + "/{session_id}/clone"): [
        Case(SESSION, lambda p, f: Call("GET", f"{_s(p)}/clone", {"deep_copy": "true"}))
    ],
    ("POST", CHAT): [
        Case(
            SESSION,
            lambda p, f: Call("POST", f"{_s(p)}/chat", json={"queries": "hi"}),
            ok=frozenset({200, 503}),
        )
    ],
    ("POST", M): [
        Case(
            SESSION,
            lambda p, f: Call("POST", f"{_s(p)}/messages", json={"content": "x", "is_user": True}),
        )
    ],
    ("POST", M + "/batch"): [
        Case(
            SESSION,
            lambda p, f: Call(
                "POST",
                f"{_s(p)}/messages/batch",
                json={"messages": [{"content": "x", "is_user": False}]},
            ),
        )
    ],
    ("POST", M + "/list"): [
        Case(SESSION, lambda p, f: Call("POST", f"{_s(p)}/messages/list", json={}))
    ],
    ("GET", M + "/{message_id}"): [
        Case(SESSION, lambda p, f: Call("GET", f"{_s(p)}/messages/{p.message}"))
    ],
    ("PUT", M + "/{message_id}"): [
        Case(
            SESSION,
            lambda p, f: Call("PUT", f"{_s(p)}/messages/{p.message}", json={"metadata": {"k": 1}}),
        )
    ],
    ("POST", MM): [
        Case(
            SESSION,
            lambda p, f: Call(
                "POST",
                f"{p.base}/metamessages",
                json=_meta({"session_id": p.session, "message_id": p.message}),
            ),
            note="tied to a session in the body",
        ),
        Case(USER, lambda p, f: Call("POST", f"{p.base}/metamessages", json=_meta({}))),
    ],
    ("POST", MM + "/list"): [
        Case(
            SESSION,
            lambda p, f: Call(
                "POST", f"{p.base}/metamessages/list", json={"session_id": p.session}
            ),
        ),
        Case(USER, lambda p, f: Call("POST", f"{p.base}/metamessages/list", json={})),
    ],
    ("GET", MM + "/{metamessage_id}"): [
        Case(SESSION, lambda p, f: Call("GET", f"{p.base}/metamessages/{p.session_note}")),
        Case(USER, lambda p, f: Call("GET", f"{p.base}/metamessages/{p.user_note}")),
    ],
    ("PUT", MM + "/{metamessage_id}"): [
        Case(
            SESSION,
            lambda p, f: Call(
                "PUT", f"{p.base}/metamessages/{p.session_note}", json={"metadata": {"k": 1}}
            ),
        ),
        Case(
            USER,
            lambda p, f: Call(
                "PUT", f"{p.base}/metamessages/{p.user_note}", json={"metadata": {"k": 1}}
            ),
        ),
    ],
    ("GET", C): [
        Case(
            COLLECTION,
            lambda p, f: Call("GET", f"{p.base}/collections", {"collection_id": p.collection}),
        )
    ],
    ("POST", C): [
        Case(USER, lambda p, f: Call("POST", f"{p.base}/collections", json={"name": uid()}))
    ],
    ("POST", C + "/list"): [
        Case(USER, lambda p, f: Call("POST", f"{p.base}/collections/list", json={}))
    ],
    ("GET", C + "/name/{name}"): [
        Case(USER, lambda p, f: Call("GET", f"{p.base}/collections/name/{p.collection_name}"))
    ],
    ("PUT", C + "/{collection_id}"): [
        Case(COLLECTION, lambda p, f: Call("PUT", _c(p), json={"metadata": {"k": 1}}))
    ],
    ("DELETE", C + "/{collection_id}"): [
        Case(
            COLLECTION,
            lambda p, f: Call("DELETE", f"{p.base}/collections/{f('collection', p)}"),
            note="a fresh collection of the place's user: no key below the user reaches it",
        )
    ],
    ("POST", D): [
        Case(COLLECTION, lambda p, f: Call("POST", f"{_c(p)}/documents", json={"content": "d"}))
    ],
    ("POST", D + "/list"): [
        Case(COLLECTION, lambda p, f: Call("POST", f"{_c(p)}/documents/list", json={}))
    ],
    ("POST", D + "/query"): [
        Case(COLLECTION, lambda p, f: Call("POST", f"{_c(p)}/documents/query", json={"query": "d"}))
    ],
    ("GET", D + "/{document_id}"): [
        Case(COLLECTION, lambda p, f: Call("GET", f"{_c(p)}/documents/{p.document}"))
    ],
    ("PUT", D + "/{document_id}"): [
        Case(
            COLLECTION,
            lambda p, f: Call(
                "PUT", f"{_c(p)}/documents/{p.document}", json={"metadata": {"k": 1}}
            ),
        )
    ],
    ("DELETE", D + "/{document_id}"): [
        Case(COLLECTION, lambda p, f: Call("DELETE", f"{_c(p)}/documents/{f('document', p)}"))
    ],
    ("POST", "/v1/keys"): [Case(ADMIN, lambda p, f: Call("POST", "/v1/keys", {"app_id": p.app}))],
    ("GET", "/queue/status"): [
        Case(ADMIN, lambda p, f: Call("GET", "/queue/status", {"session_id": p.session}))
    ],
    ("GET", "/metrics"): [Case(ADMIN, lambda p, f: Call("GET", "/metrics"))],
}


def expected(key: Key, level: str, p: Place, call: Call, fresh: dict[str, str]) -> bool:
    """Does the key reach what the call touches? (The specification, independent of the code.)"""
    if key.kind == ADMIN:
        return True
    if level == ADMIN or key.app != p.app:
        return False
    if key.kind == APP:
        return True
    if level == APP or key.user != p.user:
        return False
    if key.kind == USER:
        return True
    if level == SESSION:
        return key.session == p.session
    if level == COLLECTION:
        collection = fresh.get(call.path, p.collection)
        return key.collection == collection
    return False


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (
        response.request.method,
        response.request.url,
        response.text,
    )
    return response.json()


def _place(http: httpx.Client, app: dict[str, str], user: dict[str, str]) -> Place:
    base = f"/v1/apps/{app['id']}/users/{user['id']}"
    session = _ok(http.post(f"{base}/sessions", json={}))["id"]
    message = _ok(
        http.post(f"{base}/sessions/{session}/messages", json={"content": "m", "is_user": True})
    )["id"]
    session_note = _ok(
        http.post(
            f"{base}/metamessages",
            json=_meta({"session_id": session, "message_id": message}),
        )
    )["id"]
    user_note = _ok(http.post(f"{base}/metamessages", json=_meta({})))["id"]
    collection = _ok(http.post(f"{base}/collections", json={"name": uid()}))
    document = _ok(
        http.post(f"{base}/collections/{collection['id']}/documents", json={"content": "doc"})
    )["id"]
    return Place(
        app["id"],
        app["name"],
        user["id"],
        user["name"],
        session,
        message,
        session_note,
        user_note,
        collection["id"],
        collection["name"],
        document,
    )


def _build_world(http: httpx.Client) -> tuple[dict[str, Place], list[Key]]:
    apps = [_ok(http.post("/v1/apps", json={"name": uid("app")})) for _ in range(2)]
    users = [
        _ok(http.post(f"/v1/apps/{apps[0]['id']}/users", json={"name": uid("u")})),
        _ok(http.post(f"/v1/apps/{apps[0]['id']}/users", json={"name": uid("u")})),
        _ok(http.post(f"/v1/apps/{apps[1]['id']}/users", json={"name": uid("v")})),
    ]
    places = {
        "home": _place(http, apps[0], users[0]),
        "sibling leaf": _place(http, apps[0], users[0]),
        "sibling user": _place(http, apps[0], users[1]),
        "other app": _place(http, apps[1], users[2]),
    }

    def mint(name: str, kind: str, p: Place, **params: str) -> Key:
        token = _ok(http.post("/v1/keys", params=params))["key"]
        return Key(
            name,
            token,
            kind,
            p.app,
            p.user if kind in (USER, SESSION, COLLECTION) else None,
            p.session if kind == SESSION else None,
            p.collection if kind == COLLECTION else None,
        )

    token = http.headers["authorization"].split(" ", 1)[1]
    keys = [Key("admin", token, ADMIN)]
    for prefix, p in (("A", places["home"]), ("B", places["other app"])):
        keys += [
            mint(f"app {prefix}", APP, p, app_id=p.app),
            mint(f"user of {prefix}", USER, p, user_id=p.user),
            mint(f"session of {prefix}", SESSION, p, session_id=p.session),
            mint(f"collection of {prefix}", COLLECTION, p, collection_id=p.collection),
        ]
    return places, keys


def _places_for(key: Key, places: dict[str, Place]) -> tuple[str, ...]:
    """Where a key is tried: app A's keys everywhere (inside, beside and outside their scope);
    the admin and app B's keys at home in each app (the sibling places add nothing for them)."""
    if key.kind != ADMIN and key.app == places["home"].app:
        return tuple(places)
    return ("home", "other app")


def _describe(key: Key, place: str, route: str, response: httpx.Response) -> str:
    return f"{key.name} @ {place}: {route} -> {response.status_code} {response.text[:160]}"


async def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return {
                table: [
                    tuple(row)
                    for row in await conn.execute(text(f"SELECT * FROM {table} ORDER BY id"))
                ]
                for table in TABLES
            }
    finally:
        await engine.dispose()


def _route_table(url: str) -> set[tuple[str, str]]:
    """Every non-public (method, path) the application serves, read from `app.routes`."""
    from tests.conftest import make_settings

    settings = make_settings(url, worker_enabled=False)
    asgi: Any = create_app(settings, build_runtime(settings, embedder=None))
    while not hasattr(asgi, "routes"):
        asgi = asgi.app
    served: set[tuple[str, str]] = set()
    for route in asgi.routes:
        assert isinstance(route, Route)
        # The v3 surface has a matrix of its own (test_scope_matrix_v3.py); the console signs
        # people in with a cookie and asks these guards (tests/console).
        if route.path in PUBLIC or route.path.startswith(("/v3/", "/console")):
            continue
        for method in route.methods or ():
            if method != "HEAD":
                served.add((method, route.path))
    return served


def test_every_route_has_matrix_entries(database_url: str) -> None:
    served = _route_table(database_url)
    missing = sorted(served - MATRIX.keys())
    assert not missing, f"routes without a scope-matrix entry: {missing}"
    stale = sorted(set(MATRIX) - served)
    assert not stale, f"matrix entries for routes that do not exist: {stale}"


async def test_scope_matrix(secure: LiveServer, admin_http: httpx.Client) -> None:
    served = _route_table(secure.settings.database_url)
    places, keys = _build_world(admin_http)
    fresh: dict[str, str] = {}

    def make_fresh(kind: str, p: Place) -> str:
        if kind == "collection":
            made = _ok(admin_http.post(f"{p.base}/collections", json={"name": uid()}))["id"]
        else:
            made = _ok(admin_http.post(f"{_c(p)}/documents", json={"content": "fresh"}))["id"]
        return str(made)

    plan: list[tuple[Key, str, Case, str, Call, bool]] = []
    for (method, path), cases in MATRIX.items():
        if (method, path) not in served:
            continue
        for case in cases:
            for key in keys:
                for place_name, p in places.items():
                    if place_name not in _places_for(key, places):
                        continue
                    made: list[tuple[str, str]] = []

                    def factory(kind: str, at: Place, made: list[tuple[str, str]] = made) -> str:
                        new = make_fresh(kind, at)
                        made.append((kind, new))
                        return new

                    call = case.build(p, factory)
                    for kind, new in made:
                        if kind == "collection":
                            fresh[call.path] = new
                    allow = expected(key, case.level, p, call, fresh)
                    plan.append((key, place_name, case, f"{method} {path}", call, allow))

    def send(key: Key, call: Call) -> httpx.Response:
        return admin_http.request(
            call.method, call.path, params=call.params, json=call.json, headers=bearer(key.token)
        )

    before = await _snapshot(secure.settings.database_url)
    denied = [row for row in plan if not row[5]]
    failures: list[str] = []
    for key, place_name, case, route, call, _ in denied:
        response = send(key, call)
        want = ADMIN_ONLY if case.level == ADMIN else NOT_PERMITTED
        if response.status_code != 401 or response.json() != want:
            failures.append(_describe(key, place_name, route, response))
    assert not failures, "calls that should have been refused:\n" + "\n".join(failures)
    assert await _snapshot(secure.settings.database_url) == before, "a refused call changed data"

    # Allowed calls; collection keys last (their own collection is deleted at the very end).
    allowed = sorted((row for row in plan if row[5]), key=lambda row: row[0].kind == COLLECTION)
    for key, place_name, case, route, call, _ in allowed:
        response = send(key, call)
        if response.status_code not in case.ok:
            failures.append(_describe(key, place_name, route, response))
    assert not failures, "calls that should have been allowed:\n" + "\n".join(failures)
    assert len(denied) > 400 and len(allowed) > 250, (len(denied), len(allowed))

    for key in keys:
        if key.kind == COLLECTION:
            p = places["home"] if key.app == places["home"].app else places["other app"]
            gone = send(key, Call("DELETE", f"{p.base}/collections/{key.collection}"))
            assert gone.status_code == 200, gone.text
