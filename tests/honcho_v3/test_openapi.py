"""/openapi.json describes every /v3 response, and the server's real responses match it.

The checks walk the document's own /v3 paths (upstream's routes and the ones honcho-ai 2.7.0
adds: scopes, workspace chat, a single conclusion), so a route added without a response
model, or one the exercise below never reaches, fails the suite. The checks themselves are
in `tests/openapi_checks.py`, shared with the v1 suite.
"""

from __future__ import annotations

from typing import Any

import httpx

from mindkeeper.core.services.memory import summaries
from tests.conftest import LiveServer
from tests.honcho_v3.memory_support import run_async, summarise
from tests.honcho_v3.support import uid
from tests.openapi_checks import Recorder, exercise_and_check, operations, undescribed


def _in_scope(path: str) -> bool:
    """A path of the v3 surface."""
    return path.startswith("/v3/")


def _conversations(r: Recorder, w: str) -> tuple[str, str]:
    """Workspaces, peers, sessions, members and messages; returns a session and a message."""
    r.call("POST", "/v3/workspaces", status=201, json={"id": w, "metadata": {"k": [1, None]}})
    r.call("POST", "/v3/workspaces", json={"id": w})
    r.call("POST", "/v3/workspaces/list", json={"filters": {"id": w}})
    r.call("PUT", f"/v3/workspaces/{w}", json={"configuration": {"dream": {"enabled": True}}})
    empty = uid("ws")
    r.call("PUT", f"/v3/workspaces/{empty}", json={})
    r.call("DELETE", f"/v3/workspaces/{empty}", status=202)

    ws = f"/v3/workspaces/{w}"
    r.call("POST", f"{ws}/peers", status=201, json={"id": "alice", "metadata": {"a": 1}})
    r.call("POST", f"{ws}/peers", json={"id": "alice"})
    r.call("PUT", f"{ws}/peers/bob", json={"configuration": {"observe_me": True}})
    r.call("POST", f"{ws}/peers/list", json={"filters": {"metadata": {"a": 1}}})

    s = f"{ws}/sessions/chat"
    members = {"alice": {"observe_others": True}, "bob": {}}
    r.call("POST", f"{ws}/sessions", status=201, json={"id": "chat", "peers": members})
    r.call("POST", f"{ws}/sessions", json={"id": "chat"})
    r.call("POST", f"{ws}/sessions/list", json={})
    r.call("PUT", s, json={"metadata": {"topic": "tea"}})
    r.call("POST", f"{ws}/peers/alice/sessions", json={})
    r.call("POST", f"{s}/peers", json={"carol": {"observe_me": False}})
    r.call("DELETE", f"{s}/peers", json=["carol"])
    r.call("PUT", f"{s}/peers", json=members)
    r.call("GET", f"{s}/peers")
    r.call("GET", f"{s}/peers/alice/config")
    r.call("PUT", f"{s}/peers/alice/config", status=204, json={"observe_me": True})

    batch = [
        {"peer_id": "alice", "content": "I drink green tea every morning."},
        {"peer_id": "bob", "content": "Coffee for me.", "metadata": {"mood": "ok"}},
    ]
    made = r.call("POST", f"{s}/messages", status=201, json={"messages": batch})
    upload = {"file": ("notes.txt", b"Alice keeps a tea diary.", "text/plain")}
    r.call("POST", f"{s}/messages/upload", status=201, files=upload, data={"peer_id": "alice"})
    r.call("POST", f"{s}/messages/list", json={"filters": {"peer_id": "alice"}})
    message = made[0]["id"]
    r.call("GET", f"{s}/messages/{message}")
    r.call("PUT", f"{s}/messages/{message}", json={"metadata": {"seen": True}})

    clone = r.call("POST", f"{s}/clone", status=201)
    r.call("DELETE", f"{ws}/sessions/{clone['id']}", status=202)
    return "chat", message


def _memory(r: Recorder, server: LiveServer, w: str, session: str, message: str) -> None:
    """Conclusions, search, cards, representations, context, summaries and chat."""
    ws = f"/v3/workspaces/{w}"
    c = f"{ws}/conclusions"
    about = {"observer_id": "alice", "observed_id": "alice"}
    batch = [
        {**about, "content": "Alice drinks green tea.", "session_id": session},
        {**about, "content": "Alice keeps a diary."},
    ]
    made = r.call("POST", c, status=201, json={"conclusions": batch})
    r.call("POST", f"{c}/list", json={"filters": {"observer_id": "alice"}})
    r.call("POST", f"{c}/query", json={"query": "drinks", "top_k": 2, "filters": about})
    r.call("GET", f"{c}/{made[1]['id']}")
    r.call("DELETE", f"{c}/{made[1]['id']}", status=204)

    r.call("POST", f"{ws}/search", json={"query": "tea"})
    r.call("POST", f"{ws}/peers/alice/search", json={"query": "tea", "limit": 5})
    r.call("POST", f"{ws}/sessions/{session}/search", json={"query": "coffee"})

    p = f"{ws}/peers/alice"
    r.call("GET", f"{p}/card", params={"target": "bob"})  # none yet: null
    r.call("PUT", f"{p}/card", json={"peer_card": ["Drinks green tea"]})
    r.call("GET", f"{p}/card")
    r.call("POST", f"{p}/representation", json={"search_query": "tea"})
    r.call("GET", f"{p}/context")

    s = f"{ws}/sessions/{session}"
    r.call("GET", f"{s}/summaries")  # none yet: nulls
    run_async(summarise(server, w, session, summaries.SHORT, "Tea talk.", message, 3))
    r.call("GET", f"{s}/summaries")
    r.call("GET", f"{s}/context", params={"peer_target": "alice", "peer_perspective": "alice"})

    question = {"query": "What does Alice drink?", "session_id": session}
    r.call("POST", f"{p}/chat", json={**question, "include_evidence": True})
    r.call("POST", f"{p}/chat", json={**question, "stream": True})
    r.call("POST", f"{ws}/chat", json={"query": "Who drinks tea?"})
    r.call("POST", f"{ws}/chat", json={"query": "Who drinks tea?", "stream": True})


def _operations(r: Recorder, w: str, session: str) -> None:
    """Webhooks, queue status, dreams, keys and scopes."""
    ws = f"/v3/workspaces/{w}"
    hook = {"url": "https://hooks.example.com/honcho"}
    endpoint = r.call("POST", f"{ws}/webhooks", status=201, json=hook)
    r.call("POST", f"{ws}/webhooks", json=hook)
    r.call("GET", f"{ws}/webhooks")
    r.call("GET", f"{ws}/webhooks/test")
    r.call("DELETE", f"{ws}/webhooks/{endpoint['id']}", status=204)

    r.call("GET", f"{ws}/queue/status")
    r.call("GET", f"{ws}/queue/status", params={"session_id": session})
    dream = {"observer": "alice", "dream_type": "omni"}
    r.call("POST", f"{ws}/schedule_dream", status=204, json=dream)
    r.call("POST", "/v3/keys", params={"workspace_id": w, "peer_id": "alice"})

    sc = f"{ws}/scopes"
    r.call("POST", sc, status=201, json={"id": "team", "metadata": {"k": "v"}})
    r.call("POST", sc, json={"id": "team"})
    r.call("POST", f"{sc}/list")
    r.call("POST", f"{sc}/team/sessions", status=204, json={"session_ids": [session]})
    r.call("GET", f"{sc}/team")
    r.call("GET", f"{sc}/team/status")
    r.call("POST", f"{sc}/team/sessions/list")
    r.call("DELETE", f"{sc}/team/sessions/{session}", status=204)
    # A request the validation layer refuses: its 422 is described too.
    r.call("POST", "/v3/workspaces", status=422, json={"id": "no spaces"})


def exercise(r: Recorder, server: LiveServer) -> None:
    """Call every /v3 route at least once, with each success status it answers."""
    w = uid("ws")
    session, message = _conversations(r, w)
    _memory(r, server, w, session, message)
    _operations(r, w, session)


def test_every_operation_documents_its_success_response(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    # Upstream's 45, and the SDK's 7 scope routes, workspace chat and one conclusion's GET.
    assert len(list(operations(document, _in_scope))) >= 45 + 9
    assert undescribed(document, _in_scope) == []


def test_document_uses_upstream_schema_names(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    paths = document["paths"]

    def schema(path: str, method: str, status: str = "200") -> Any:
        content = paths[f"/v3/workspaces/{{workspace_id}}{path}"][method]["responses"][status]
        return content["content"]["application/json"]["schema"]

    assert schema("/peers/list", "post") == {"$ref": "#/components/schemas/Page_Peer_"}
    assert schema("/sessions/{session_id}/context", "get") == {
        "$ref": "#/components/schemas/SessionContext"
    }
    assert schema("/conclusions", "post", "201")["items"] == {
        "$ref": "#/components/schemas/Conclusion"
    }
    components = document["components"]["schemas"]
    for name in ("Workspace", "Peer", "Conclusion", "WebhookEndpoint", "Scope"):
        assert f"Page_{name}_" in components
    for name in ("SessionSummaries", "PeerContext", "PeerCardResponse", "SessionQueueStatus"):
        assert name in components
    # Names the v1 surface (or the probes) already hold take a prefix on v3.
    assert components["Page_V3Message_"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/V3Message"
    }
    assert "peer_id" in components["V3Message"]["required"]
    assert "is_user" in components["Message"]["required"]
    assert components["Conclusion"]["properties"]["level"]["enum"] == [
        "explicit",
        "deductive",
        "inductive",
        "contradiction",
    ]
    assert components["Workspace"]["required"] == ["id", "created_at", "uid"]
    chat = paths["/v3/workspaces/{workspace_id}/chat"]["post"]["responses"]["200"]["content"]
    assert set(chat) == {"application/json", "text/event-stream"}


def test_real_responses_validate_against_the_document(openapi_server: LiveServer) -> None:
    exercise_and_check(openapi_server, lambda r: exercise(r, openapi_server), _in_scope)
