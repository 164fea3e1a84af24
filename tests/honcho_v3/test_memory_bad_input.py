"""Odd input on the derived-memory routes: names and texts with NUL characters, wrong JSON
types; always a clear answer, never a 500, on both databases."""

from __future__ import annotations

from typing import Any

import httpx

from tests.honcho_v3.memory_support import make_peers
from tests.honcho_v3.support import new_workspace, post_messages, ws_url


def test_nul_characters_never_fail(http: httpx.Client) -> None:
    ws = new_workspace(http)
    make_peers(http, ws, "a")
    post_messages(http, ws, "s", ("a", "hello"))
    pair = {"observer_id": "a\x00", "observed_id": "a"}
    calls: list[tuple[str, str, Any, int]] = [
        ("POST", ws_url(ws, "search"), {"query": "he\x00llo"}, 200),
        (
            "POST",
            ws_url(ws, "search"),
            {"query": "x", "filters": {"peer_perspective": "a\x00"}},
            200,
        ),
        ("POST", ws_url(f"{ws}%00", "search"), {"query": "x"}, 200),
        ("POST", ws_url(ws, "sessions", "s%00", "search"), {"query": "x"}, 200),
        ("POST", ws_url(ws, "peers", "a%00", "search"), {"query": "x"}, 200),
        ("POST", ws_url(ws, "conclusions", "query"), {"query": "a\x00", "filters": pair}, 200),
        ("POST", ws_url(ws, "conclusions", "list"), {"filters": {"observer_id": "a\x00"}}, 200),
        ("GET", ws_url(ws, "conclusions", "x%00"), None, 404),
        ("DELETE", ws_url(ws, "conclusions", "x%00"), None, 404),
        (
            "POST",
            ws_url(ws, "peers", "a", "representation"),
            {"search_query": "a\x00", "target": "a\x00", "filters": {"session_id": ["s\x00"]}},
            200,
        ),
        ("GET", ws_url(ws, "peers", "a%00", "card") + "?target=b%00", None, 404),
        ("GET", ws_url(ws, "peers", "a", "card") + "?target=b%00", None, 200),
        ("GET", ws_url(ws, "peers", "a", "context") + "?target=b%00&search_query=x%00", None, 200),
        ("GET", ws_url(ws, "sessions", "s%00", "context") + "?peer_target=a%00", None, 404),
        ("GET", ws_url(ws, "sessions", "s%00", "context"), None, 200),
        ("GET", ws_url(ws, "sessions", "s%00", "summaries"), None, 200),
    ]
    for method, url, body, status in calls:
        response = http.request(method, url, json=body)
        assert response.status_code == status, (method, url, response.text)
    # NUL characters are dropped from the names and contents of new conclusions.
    body = {"conclusions": [{"observer_id": "a\x00", "observed_id": "a", "content": "x\x00y"}]}
    made = http.post(ws_url(ws, "conclusions"), json=body)
    assert made.status_code == 201, made.text
    assert (made.json()[0]["observer_id"], made.json()[0]["content"]) == ("a", "xy")


def test_wrong_json_types(http: httpx.Client) -> None:
    ws = new_workspace(http)
    calls: list[tuple[str, str, Any]] = [
        ("POST", ws_url(ws, "search"), []),
        ("POST", ws_url(ws, "search"), {"query": None}),
        ("POST", ws_url(ws, "search"), {"query": "x", "limit": 1.5}),
        ("POST", ws_url(ws, "conclusions"), {"conclusions": {"a": 1}}),
        ("POST", ws_url(ws, "conclusions"), {"conclusions": [1]}),
        ("POST", ws_url(ws, "conclusions", "list"), {"filters": {"AND": ["x"]}}),
        ("POST", ws_url(ws, "conclusions", "query"), {"query": ["x"]}),
        ("POST", ws_url(ws, "conclusions", "query"), {"query": "x", "filters": []}),
        ("POST", ws_url(ws, "peers", "a", "representation"), {"filters": "x"}),
        ("POST", ws_url(ws, "peers", "a", "representation"), {"max_conclusions": "x"}),
        ("PUT", ws_url(ws, "peers", "a", "card"), {"peer_card": None}),
        ("GET", ws_url(ws, "sessions", "s", "context") + "?tokens=abc", None),
        ("GET", ws_url(ws, "peers", "a", "context") + "?include_most_frequent=maybe", None),
    ]
    for method, url, body in calls:
        response = http.request(method, url, json=body)
        assert response.status_code == 422, (method, url, body, response.text)
