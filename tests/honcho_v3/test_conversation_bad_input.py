"""Bad input on the workspace, peer, session and message routes: a 4xx in Honcho's shape,
never a 500, and nothing stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.honcho_v3.support import expect, new_workspace, post_messages, ws_url

ODD_NAMES = ["a%00b", "a%20b", "%C3%A9", "x" * 600, "a.b", "%F0%9F%98%80", "..%2F.."]

BODIES: list[Any] = [
    None,
    [],
    "text",
    1,
    {"id": None},
    {"id": 5},
    {"id": "\u0000"},
    {"metadata": "x"},
    {"configuration": []},
    {"peers": {"": {}}},
    {"messages": [{"peer_id": "a", "content": 5}]},
    {"messages": [{"peer_id": "a\u0000", "content": "x"}]},
    {"messages": [{"peer_id": "a", "content": "x", "created_at": "0001-01-01T00:00:00+01:00"}]},
    {"messages": [{"peer_id": "a", "content": "x", "created_at": "9999-12-31T23:59:59-01:00"}]},
    {"messages": [{"peer_id": "a", "content": "x", "created_at": 10**30}]},
    {"filters": {"metadata": {"a": {"gt": "\u0000"}}}},
    {"filters": {"id": {"in": [None, 1.5]}}},
]

#: What a list route answers for a name that nothing has.
EMPTY_PAGE = {"items": [], "total": 0, "page": 1, "size": 50, "pages": 0}


def _routes(workspace: str, name: str) -> list[tuple[str, str]]:
    s = ws_url(workspace, "sessions", name)
    return [
        ("PUT", f"/v3/workspaces/{name}"),
        ("DELETE", f"/v3/workspaces/{name}"),
        ("POST", ws_url(name, "peers")),
        ("POST", ws_url(name, "peers", "list")),
        ("PUT", ws_url(workspace, "peers", name)),
        ("POST", ws_url(workspace, "peers", name, "sessions")),
        ("POST", ws_url(name, "sessions")),
        ("POST", ws_url(name, "sessions", "list")),
        ("PUT", s),
        ("DELETE", s),
        ("POST", f"{s}/clone"),
        ("POST", f"{s}/peers"),
        ("PUT", f"{s}/peers"),
        ("DELETE", f"{s}/peers"),
        ("GET", f"{s}/peers"),
        ("GET", f"{s}/peers/{name}/config"),
        ("PUT", f"{s}/peers/{name}/config"),
        ("POST", f"{s}/messages"),
        ("POST", f"{s}/messages/list"),
        ("GET", f"{s}/messages/{name}"),
        ("PUT", f"{s}/messages/{name}"),
        ("POST", f"{s}/messages/upload"),
    ]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_names_in_paths(http: httpx.Client, name: str) -> None:
    workspace = new_workspace(http)
    post_messages(http, workspace, "s1", ("alice", "hi"))
    for method, url in _routes(workspace, name):
        response = http.request(method, url, json={})
        if response.status_code == 200:  # a list: empty, since nothing has the name
            assert response.json() == EMPTY_PAGE, (method, url, response.text)
        else:
            assert 400 <= response.status_code < 500, (method, url, response.text)
            assert list(response.json()) == ["detail"], (method, url, response.text)
    # Nothing with an odd name was created.
    page = expect(http.post(ws_url(workspace, "peers", "list")), 200)
    assert [p["id"] for p in page["items"]] == ["alice"]


def test_odd_bodies(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    post_messages(http, workspace, "s1", ("alice", "hi"))
    for body in BODIES:
        for method, url in _routes(workspace, "s1"):
            if method == "DELETE" and url.endswith(("/s1", f"/{workspace}")):
                continue  # a valid delete would succeed
            response = http.request(method, url, json=body)
            assert response.status_code < 500, (method, url, body, response.text)
        raw = http.post(
            ws_url(workspace, "sessions", "s1", "messages"),
            content=b'{"messages": [{"peer_id": "a", "content": "\\ud800"}]}',
            headers={"content-type": "application/json"},
        )
        assert raw.status_code == 422
    page = expect(http.post(ws_url(workspace, "sessions", "s1", "messages", "list")), 200)
    assert [m["content"] for m in page["items"]] == ["hi"]


def test_page_parameters(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    url = ws_url(workspace, "sessions", "list")
    for page in (10**20, 2**31):  # far past the end: an empty page, not an overflow
        body = expect(http.post(url, params={"page": page}), 200)
        assert (body["items"], body["page"]) == ([], page)
    for params in ({"page": "x"}, {"size": -1}, {"size": 0}):
        [error] = expect(http.post(url, params=params), 422)["detail"]
        assert error["loc"] == ["query", next(iter(params))], (params, error)
    assert expect(http.post(url, params={"page": 2**31 - 1}), 200)["items"] == []
