"""/openapi.json describes every response, and the server's real responses match it.

The checks walk the document's own paths (those of the Honcho v1 surface and of the
unversioned probes; the other versioned surfaces have suites of their own), so a route added
without a response model, or one the exercise below never reaches, fails the suite. Schemas
are made strict before validating (every object that lists its properties refuses others), so
a key the server sends without documenting it fails too.
"""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mindkeeper.bootstrap import build_runtime
from mindkeeper.core.ports.models import Completion, Prompt
from mindkeeper.core.services import keys
from mindkeeper.core.values import utcnow
from mindkeeper.providers.secrets import JwtCodec
from tests.conftest import LiveServer, make_settings, start_server
from tests.honcho.support import uid

JWT_SECRET = "openapi-test-secret-" + "x" * 40
DOCUMENT_URI = "urn:mindkeeper:openapi"
METHODS = ("get", "put", "post", "delete", "patch")

FORMATS = FormatChecker(())


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """RFC 3339 date-times carry a zone (`Z` or an offset)."""
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


class CannedChat:
    """A chat model that answers every prompt with the same words (whole or streamed)."""

    model_id = "fake:canned"

    async def complete(self, prompt: Prompt) -> Completion:
        """The whole answer."""
        return Completion("Nothing is known about the user yet.")

    async def stream(self, prompt: Prompt) -> AsyncIterator[str]:
        """The answer in two chunks."""
        yield "Nothing is known "
        yield "about the user yet."

    async def aclose(self) -> None:
        """Nothing to close."""


@pytest.fixture
def secured(database_url: str, embedder: Any) -> Iterator[LiveServer]:
    """A live server with authentication on (the keys route needs it) and a chat model."""
    settings = make_settings(
        database_url, auth_enabled=True, auth_jwt_secret=JWT_SECRET, worker_enabled=False
    )
    server, stop = start_server(
        settings, build_runtime(settings, embedder=embedder, chat_model=CannedChat())
    )
    yield server
    stop()


def _in_scope(path: str) -> bool:
    """A path of the v1 surface, or one outside every versioned surface (the probes)."""
    return path.startswith("/v1/") or not re.fullmatch(r"v\d+", path.strip("/").split("/")[0])


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        if not _in_scope(path):
            continue
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def _strict(node: Any) -> Any:
    """A copy of a schema tree where objects with listed properties refuse any others."""
    if isinstance(node, list):
        return [_strict(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items()}
    if isinstance(node.get("properties"), dict) and "additionalProperties" not in node:
        out["additionalProperties"] = False
    return out


class Recorder:
    """An HTTP client that keeps every response it gets."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.seen: list[httpx.Response] = []

    def call(self, method: str, url: str, status: int = 200, **kwargs: Any) -> Any:
        """Send a request, check its status, keep the response, return the JSON body."""
        response = self.client.request(method, url, **kwargs)
        assert response.status_code == status, (method, url, response.status_code, response.text)
        self.seen.append(response)
        if response.headers["content-type"].startswith("application/json"):
            return response.json()
        return response.text


def exercise(r: Recorder) -> None:
    """Call every route once (and a few twice for a second shape), all answering 200."""
    r.call("GET", "/healthz")
    r.call("GET", "/readyz")
    app_name = uid("app")
    app = r.call("POST", "/v1/apps", json={"name": app_name})
    a = f"/v1/apps/{app['id']}"
    r.call("GET", "/v1/apps", params={"app_id": app["id"]})
    r.call("POST", "/v1/apps/list", json={"filter": {}})
    r.call("GET", f"/v1/apps/name/{app_name}")
    r.call("GET", f"/v1/apps/get_or_create/{uid('app')}")
    r.call("PUT", a, json={"metadata": {"plan": "free", "tags": ["a", 1, None]}})

    user_name = uid("user")
    user = r.call("POST", f"{a}/users", json={"name": user_name})
    u = f"{a}/users/{user['id']}"
    r.call("GET", f"{a}/users", params={"user_id": user["id"]})
    r.call("POST", f"{a}/users/list", json={})
    r.call("GET", f"{a}/users/name/{user_name}")
    r.call("GET", f"{a}/users/get_or_create/{uid('user')}")
    r.call("PUT", u, json={"metadata": {"tier": 2}})

    session = r.call("POST", f"{u}/sessions", json={"metadata": {"topic": "x"}})
    s = f"{u}/sessions/{session['id']}"
    r.call("GET", f"{u}/sessions", params={"session_id": session["id"]})
    r.call("POST", f"{u}/sessions/list", json={"is_active": True})
    r.call("PUT", s, json={"metadata": {"topic": "y"}})

    message = r.call("POST", f"{s}/messages", json={"content": "hello", "is_user": True})
    batch = [{"content": "hi", "is_user": False}, {"content": "bye", "is_user": True}]
    r.call("POST", f"{s}/messages/batch", json={"messages": batch})
    r.call("POST", f"{s}/messages/list", json={})
    r.call("GET", f"{s}/messages/{message['id']}")
    r.call("PUT", f"{s}/messages/{message['id']}", json={"metadata": {"seen": True}})

    clone = r.call("GET", f"{s}/clone", params={"deep_copy": "true"})
    r.call("DELETE", f"{u}/sessions/{clone['id']}")
    r.call("POST", f"{s}/chat", json={"queries": "What does the user like?"})
    r.call("POST", f"{s}/chat", json={"queries": ["Who?", "Why?"], "stream": True})

    m = f"{u}/metamessages"
    linked = {"label": "note", "content": "c", "session_id": session["id"]}
    meta = r.call("POST", m, json={**linked, "message_id": message["id"]})
    r.call("POST", m, json={"label": "free", "content": "unlinked"})  # null links
    r.call("POST", f"{m}/list", json={"label": "note"})
    r.call("GET", f"{m}/{meta['id']}")
    r.call("PUT", f"{m}/{meta['id']}", json={"label": "renamed", "metadata": {"k": "v"}})

    col_name = uid("col")
    col = r.call("POST", f"{u}/collections", json={"name": col_name})
    c = f"{u}/collections/{col['id']}"
    r.call("GET", f"{u}/collections", params={"collection_id": col["id"]})
    r.call("POST", f"{u}/collections/list", json={})
    r.call("GET", f"{u}/collections/name/{col_name}")
    r.call("PUT", c, json={"metadata": {"kind": "facts"}})

    doc = r.call("POST", f"{c}/documents", json={"content": "The user likes tea."})
    r.call("POST", f"{c}/documents/list", json={})
    r.call("POST", f"{c}/documents/query", json={"query": "drinks", "top_k": 1})
    r.call("GET", f"{c}/documents/{doc['id']}")
    r.call("PUT", f"{c}/documents/{doc['id']}", json={"content": "The user likes coffee."})
    r.call("DELETE", f"{c}/documents/{doc['id']}")
    r.call("DELETE", c)

    r.call("POST", "/v1/keys", params={"app_id": app["id"], "user_id": user["id"]})
    r.call("GET", "/queue/status", params={"session_id": session["id"]})
    # A request the validation layer refuses: its 422 is described too.
    r.call("POST", "/v1/apps", status=422, json={"metadata": {}})


def _matcher(document: dict[str, Any]) -> list[tuple[str, re.Pattern[str], str, int]]:
    """(method, pattern, path template, literal segments) of every documented operation."""
    out = []
    for method, path, _ in _operations(document):
        segments = path.strip("/").split("/")
        regex = "/".join("[^/]+" if s.startswith("{") else re.escape(s) for s in segments)
        literals = sum(not s.startswith("{") for s in segments)
        out.append((method, re.compile(f"^/{regex}$"), path, literals))
    return out


def _template(matchers: list[tuple[str, re.Pattern[str], str, int]], method: str, path: str) -> str:
    """The documented path a request was routed to (literal segments win, as in routing)."""
    found = [(lit, tpl) for m, rx, tpl, lit in matchers if m == method and rx.match(path)]
    assert found, f"{method} {path} is not in the document"
    return max(found)[1]


def test_every_operation_documents_its_success_response(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    operations = list(_operations(document))
    assert sum(path.startswith("/v1/") for _, path, _ in operations) >= 41  # upstream has 41
    missing = []
    for method, path, operation in operations:
        success = [
            operation["responses"][c] for c in ("200", "201", "204") if c in operation["responses"]
        ]
        schemas = [x.get("content", {}).get("application/json", {}).get("schema") for x in success]
        if not any(schemas):
            missing.append(f"{method} {path}")
    assert missing == []


def test_document_uses_upstream_schema_names(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    responses = document["paths"][
        "/v1/apps/{app_id}/users/{user_id}/sessions/{session_id}/messages/list"
    ]
    schema = responses["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Page_Message_"}
    components = document["components"]["schemas"]
    for name in ("App", "User", "Session", "Message", "Metamessage", "Collection", "Document"):
        assert f"Page_{name}_" in components
    metamessage = components["Metamessage"]
    assert metamessage["properties"]["session_id"]["anyOf"] == [
        {"type": "string"},
        {"type": "null"},
    ]
    assert "metadata" not in metamessage["required"]
    assert components["Page_App_"]["required"] == ["items", "total", "page", "size"]


def test_real_responses_validate_against_the_document(secured: LiveServer) -> None:
    token = keys.mint_admin(JwtCodec(JWT_SECRET), utcnow()).token
    with secured.client(headers={"Authorization": f"Bearer {token}"}) as client:
        document = client.get("/openapi.json").json()
        recorder = Recorder(client)
        exercise(recorder)

    strict = _strict(copy.deepcopy(document))
    registry = Registry().with_resource(
        DOCUMENT_URI, Resource(contents=strict, specification=DRAFT202012)
    )
    matchers = _matcher(document)
    answered: set[tuple[str, str]] = set()
    for response in recorder.seen:
        method, path = response.request.method, response.request.url.path
        template = _template(matchers, method, path)
        status = str(response.status_code)
        described = document["paths"][template][method.lower()]["responses"]
        assert status in described, (method, template, status)
        media = response.headers["content-type"].split(";")[0]
        content = described[status].get("content", {})
        assert media in content, (method, template, media)
        if media == "application/json":
            where = _pointer(
                "paths", template, method.lower(), "responses", status, "content", media
            )
            validator = Draft202012Validator(
                {"$ref": f"{DOCUMENT_URI}#{where}/schema"},
                registry=registry,
                format_checker=FORMATS,
            )
            errors = [
                f"{list(e.absolute_path)}: {e.message}"
                for e in validator.iter_errors(response.json())
            ]
            assert errors == [], (method, template, errors)
        if status == "200":
            answered.add((method, template))

    documented = {(method, path) for method, path, _ in _operations(document)}
    assert documented - answered == set(), "operations the exercise never reached"
