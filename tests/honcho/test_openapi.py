"""/openapi.json describes every response, and the server's real responses match it.

The checks walk the document's own paths (those of the Honcho v1 surface and of the
unversioned probes; the other versioned surfaces have suites of their own), so a route added
without a response model, or one the exercise below never reaches, fails the suite. The
checks themselves (strict schemas, media types, statuses) are in `tests/openapi_checks.py`.
"""

from __future__ import annotations

import re

import httpx

from tests.conftest import LiveServer
from tests.honcho.support import uid
from tests.openapi_checks import Recorder, exercise_and_check, operations, undescribed


def _in_scope(path: str) -> bool:
    """A path of the v1 surface, or one outside every versioned surface (the probes)."""
    return path.startswith("/v1/") or not re.fullmatch(r"v\d+", path.strip("/").split("/")[0])


def exercise(r: Recorder) -> None:
    """Call every route once (and a few twice for a second shape), all answering 200."""
    r.call("GET", "/healthz")
    r.call("GET", "/readyz")
    r.call("GET", "/metrics")
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


def test_every_operation_documents_its_success_response(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    paths = [path for _, path, _ in operations(document, _in_scope)]
    assert sum(path.startswith("/v1/") for path in paths) >= 41  # upstream has 41
    assert undescribed(document, _in_scope) == []


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


def test_real_responses_validate_against_the_document(openapi_server: LiveServer) -> None:
    exercise_and_check(openapi_server, exercise, _in_scope)
