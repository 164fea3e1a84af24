"""Bad input that once reached a 500: each case answers as documented and stores nothing.

Bodies are sent as raw bytes where a JSON client would refuse to write them (lone surrogate
escapes, NaN, nesting beyond what the standard library's encoder accepts).
"""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from mindkeeper.http.json_input import MAX_DEPTH
from tests.conftest import LiveServer
from tests.honcho.support import World, detail, new_world, ok, uid

BIG = 2**70 + 3
JSON_HEADERS = {"content-type": "application/json"}
SURROGATE_MSG = "Value error, Text must not contain unpaired surrogates (\\ud800-\\udfff)"
NOT_FINITE_MSG = (
    "Value error, Numbers must be finite (NaN, Infinity and numbers beyond 1.8e308 are not JSON)"
)
TOO_DEEP_MSG = f"Value error, JSON must not be nested more than {MAX_DEPTH} levels deep"


def send(http: httpx.Client, method: str, path: str, raw: str) -> httpx.Response:
    """Send a JSON body written by hand (the text is sent as it is, escapes included)."""
    return http.request(method, path, content=raw.encode(), headers=JSON_HEADERS)


def body_error(response: httpx.Response, msg: str) -> dict[str, Any]:
    """Assert a 422 holding one body-level `value_error` with that message; return it."""
    errors = detail(response, 422)
    assert len(errors) == 1, errors
    [error] = errors
    assert (error["type"], error["loc"], error["msg"]) == ("value_error", ["body"], msg), error
    return error  # type: ignore[no-any-return]


def nested(levels: int) -> str:
    """A JSON array `levels` deep (one level is `[1]`)."""
    return "[" * levels + "1" + "]" * levels


def listed(http: httpx.Client, path: str) -> tuple[int, list[dict[str, Any]]]:
    """The total and the first 100 items of a list route (no filter)."""
    page = ok(http.post(f"{path}/list", json={}, params={"size": 100}))
    return page["total"], page["items"]


# -- integers beyond 64 bits in a list filter ---------------------------------------------------


def _seven_lists(http: httpx.Client, world: World, metadata: dict[str, Any]) -> dict[str, str]:
    """One resource holding `metadata` under each of the seven list routes: {list path: id}."""
    collection = world.new_collection(http, metadata=metadata)["id"]
    created = {
        "/v1/apps": ok(http.post("/v1/apps", json={"name": uid("app"), "metadata": metadata})),
        world.users: ok(http.post(world.users, json={"name": uid("u"), "metadata": metadata})),
        world.sessions: ok(http.post(world.sessions, json={"metadata": metadata})),
        world.messages: ok(
            http.post(world.messages, json={"content": "m", "is_user": True, "metadata": metadata})
        ),
        world.metamessages: ok(
            http.post(world.metamessages, json={"label": "l", "content": "c", "metadata": metadata})
        ),
        world.collections: {"id": collection},
        world.documents(collection): ok(
            http.post(world.documents(collection), json={"content": "d", "metadata": metadata})
        ),
    }
    return {path: item["id"] for path, item in created.items()}


@pytest.mark.parametrize(
    ("filter", "matches"),
    [
        ({"n": BIG}, True),
        ({"m": -BIG}, True),
        ({"l": [BIG]}, True),
        ({"l": [-BIG, BIG]}, True),
        ({"n": BIG + 1}, False),
        ({"n": -BIG}, False),
        ({"n": [BIG]}, False),
        ({"l": [BIG - 1]}, False),
        ({"l": [2**64]}, False),
        ({"n": float(BIG)}, False),
    ],
)
def test_big_integer_filters_match_exactly_on_all_seven_lists(
    http: httpx.Client, filter: dict[str, Any], matches: bool
) -> None:
    """As any other value: the rows holding it match, a filter matching nothing gives []."""
    world = new_world(http)
    ids = _seven_lists(http, world, {"n": BIG, "m": -BIG, "l": [BIG, -BIG]})
    raw = json.dumps({"filter": filter})
    for path, created in ids.items():
        page = ok(send(http, "POST", f"{path}/list?size=100", raw))
        found = [item["id"] for item in page["items"]]
        assert (created in found) is matches, (path, filter, page)
        if path != "/v1/apps":
            assert page["total"] == len(found) == int(matches), (path, page)
    query = json.dumps({"query": "d", "filter": filter})
    collection = ids[world.collections]
    found = ok(send(http, "POST", f"{world.documents(collection)}/query", query))
    assert [d["id"] for d in found] == ([ids[world.documents(collection)]] if matches else [])


# -- lone surrogates ---------------------------------------------------------------------------


def _bodies(world: World, collection: str, s: str) -> list[tuple[str, str, str, str]]:
    """(method, path, raw body, list path to read back) with the string `s` in one field."""
    return [
        ("POST", "/v1/apps", f'{{"name": "{s}"}}', "/v1/apps"),
        ("POST", "/v1/apps", f'{{"name": "x", "metadata": {{"{s}": 1}}}}', "/v1/apps"),
        ("PUT", f"/v1/apps/{world.app}", f'{{"name": "{s}"}}', "/v1/apps"),
        ("POST", world.users, f'{{"name": "{s}"}}', world.users),
        ("POST", world.sessions, f'{{"metadata": {{"k": ["{s}"]}}}}', world.sessions),
        ("PUT", f"{world.sessions}/{world.session}", f'{{"metadata": {{"k": "{s}"}}}}', ""),
        ("POST", world.messages, f'{{"content": "{s}", "is_user": true}}', world.messages),
        (
            "POST",
            f"{world.messages}/batch",
            f'{{"messages": [{{"content": "ok", "is_user": true}}, '
            f'{{"content": "{s}", "is_user": false}}]}}',
            world.messages,
        ),
        ("POST", world.metamessages, f'{{"label": "{s}", "content": "c"}}', world.metamessages),
        ("POST", world.collections, f'{{"name": "{s}"}}', world.collections),
        ("POST", world.documents(collection), f'{{"content": "{s}"}}', world.documents(collection)),
        ("POST", f"{world.messages}/list", f'{{"filter": {{"k": "{s}"}}}}', ""),
        ("POST", f"{world.documents(collection)}/query", f'{{"query": "{s}"}}', ""),
        ("POST", f"{world.sessions}/{world.session}/chat", f'{{"queries": ["{s}"]}}', ""),
        ("POST", f"{world.sessions}/{world.session}/chat", f'{{"queries": {{"{s}": 1}}}}', ""),
        (
            "POST",
            world.messages,
            f'{{"content": "x", "is_user": true, "extra": "{s}"}}',
            world.messages,
        ),
    ]


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "a\\ud83d", "\\ude00b"])
def test_lone_surrogates_are_refused_everywhere(http: httpx.Client, escape: str) -> None:
    world = new_world(http)
    collection = world.new_collection(http)["id"]
    session = ok(http.get(world.sessions, params={"session_id": world.session}))
    for method, path, raw, read_back in _bodies(world, collection, escape):
        before = listed(http, read_back) if read_back else None
        error = body_error(send(http, method, path, raw), SURROGATE_MSG)
        assert "\\ud" in json.dumps(error["input"]), error  # echoed, escaped as text
        if read_back:
            assert listed(http, read_back) == before, (path, raw)
    assert ok(http.get(world.sessions, params={"session_id": world.session})) == session


def test_surrogate_pairs_are_text_and_round_trip(http: httpx.Client) -> None:
    world = new_world(http)
    raw = '{"content": "\\ud83d\\ude00", "is_user": true, "metadata": {"\\ud83d\\ude00": 1}}'
    created = ok(send(http, "POST", world.messages, raw))
    assert created["content"] == "\U0001f600"
    assert created["metadata"] == {"\U0001f600": 1}
    assert listed(http, world.messages) == (1, [created])


# -- nesting depth -----------------------------------------------------------------------------


def _deep_bodies(world: World, levels: int) -> list[tuple[str, str, str, str, bool]]:
    """Bodies whose depth (the body object is level 1) is `levels + 2`: (method, path, raw,
    list path to read back, whether the body stores `{"k": <the nested value>}`)."""
    inner = nested(levels)
    meta = f'{{"k": {inner}}}'
    return [
        ("POST", "/v1/apps", f'{{"name": "{uid()}", "metadata": {meta}}}', "/v1/apps", True),
        ("PUT", f"/v1/apps/{world.app}", f'{{"metadata": {meta}}}', "", True),
        ("POST", world.users, f'{{"name": "{uid()}", "metadata": {meta}}}', world.users, True),
        ("POST", world.sessions, f'{{"metadata": {meta}}}', world.sessions, True),
        (
            "POST",
            f"{world.messages}/batch",
            '{"messages": [{"content": "c", "is_user": true, "metadata": '
            f'{{"k": {nested(levels - 2)}}}}}]}}',
            world.messages,
            False,
        ),
        (
            "POST",
            world.metamessages,
            f'{{"label": "l", "content": "c", "metadata": {meta}}}',
            world.metamessages,
            True,
        ),
        ("POST", world.messages, f'{{"content": "c", "is_user": true, "x": {meta}}}', "", False),
        ("POST", f"{world.messages}/list", f'{{"filter": {meta}}}', "", False),
    ]


@pytest.mark.parametrize(
    "levels",
    [
        MAX_DEPTH - 1,  # one past the limit, seen by the body check
        400,  # once a RecursionError in the NUL check
        5000,  # beyond what the JSON parser itself reads
    ],
)
def test_bodies_nested_beyond_the_limit_are_refused(http: httpx.Client, levels: int) -> None:
    world = new_world(http)
    app = ok(http.get("/v1/apps", params={"app_id": world.app}))
    for method, path, raw, read_back, _ in _deep_bodies(world, levels):
        before = listed(http, read_back) if read_back else None
        error = body_error(send(http, method, path, raw), TOO_DEEP_MSG)
        assert json.dumps(error["input"]).count("[") <= MAX_DEPTH, error
        if read_back:
            assert listed(http, read_back) == before, path
    assert ok(http.get("/v1/apps", params={"app_id": world.app})) == app
    assert listed(http, world.messages) == (0, [])


def test_bodies_at_the_depth_limit_are_accepted(http: httpx.Client) -> None:
    world = new_world(http)
    levels = MAX_DEPTH - 2  # the body object and `metadata` are the first two levels
    value = json.loads(nested(levels))
    for method, path, raw, read_back, stores in _deep_bodies(world, levels):
        body = ok(send(http, method, path, raw))
        if stores:
            assert body["metadata"] == {"k": value}, path
        if read_back and read_back != "/v1/apps":
            total, items = listed(http, read_back)
            assert total >= 1 and (body if stores else body[0]) in items, path
    assert ok(http.get("/v1/apps", params={"app_id": world.app}))["metadata"] == {"k": value}


# -- non-finite numbers ------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_non_finite_numbers_are_refused(http: httpx.Client, number: str) -> None:
    world = new_world(http)
    session = ok(http.get(world.sessions, params={"session_id": world.session}))
    cases = [
        ("POST", "/v1/apps", f'{{"name": "{uid()}", "metadata": {{"k": {number}}}}}', "/v1/apps"),
        ("POST", world.sessions, f'{{"metadata": {{"k": [1, {number}]}}}}', world.sessions),
        ("PUT", f"{world.sessions}/{world.session}", f'{{"metadata": {{"k": {number}}}}}', ""),
        (
            "POST",
            world.messages,
            f'{{"content": "c", "is_user": true, "metadata": {{"a": {{"b": {number}}}}}}}',
            world.messages,
        ),
        ("POST", f"{world.messages}/list", f'{{"filter": {{"k": {number}}}}}', ""),
    ]
    for method, path, raw, read_back in cases:
        before = listed(http, read_back) if read_back else None
        body_error(send(http, method, path, raw), NOT_FINITE_MSG)
        if read_back:
            assert listed(http, read_back) == before, path
    assert ok(http.get(world.sessions, params={"session_id": world.session})) == session


def test_the_largest_finite_numbers_are_stored(http: httpx.Client) -> None:
    world = new_world(http)
    raw = '{"metadata": {"max": 1.7976931348623157e308, "min": -1.7976931348623157e308}}'
    created = ok(send(http, "POST", world.sessions, raw))
    # PostgreSQL writes numerics without an exponent: compare as floats.
    stored = {k: float(v) for k, v in created["metadata"].items()}
    assert stored == {"max": 1.7976931348623157e308, "min": -1.7976931348623157e308}


# -- requests the HTTP parser refuses ----------------------------------------------------------


def raw_exchange(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes; read until the server closes; return status, headers and body."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body


def test_parser_refusals_on_honcho_paths_stay_plain_text(api: LiveServer) -> None:
    for request in (
        b"BREW /v1/apps HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/apps?app_id=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/apps HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n",
    ):
        status, headers, body = raw_exchange(api.url, request)
        assert status == 400
        assert headers["content-type"] == "text/plain; charset=utf-8"
        assert "x-amzn-errortype" not in headers
        assert body == b"Invalid HTTP request received."
