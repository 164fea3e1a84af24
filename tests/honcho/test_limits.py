"""Limits (reference §6), each at its boundary and one past it, plus the request body limit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from honcho import APIStatusError, Honcho

from tests.conftest import LiveServer
from tests.honcho.support import World, detail, error_types, new_app, new_world, ok, uid


def _too_long(field: tuple[Any, ...], limit: int, value: str) -> dict[str, Any]:
    return {
        "type": "string_too_long",
        "loc": ["body", *field],
        "msg": f"String should have at most {limit} characters",
        "input": value,
        "ctx": {"max_length": limit},
    }


def _too_short(field: tuple[Any, ...], value: str = "") -> dict[str, Any]:
    return {
        "type": "string_too_short",
        "loc": ["body", *field],
        "msg": "String should have at least 1 character",
        "input": value,
        "ctx": {"min_length": 1},
    }


def _name(length: int) -> str:
    """A unique name of exactly `length` characters."""
    base = uid("n")
    return (base * (length // len(base) + 1))[:length] if length >= len(base) else base[-length:]


# --- names -----------------------------------------------------------------------------------


def _name_targets(http: httpx.Client, world: World) -> list[str]:
    return ["/v1/apps", world.users, world.collections]


def test_names_on_create(http: httpx.Client, world: World) -> None:
    for path in _name_targets(http, world):
        assert detail(http.post(path, json={"name": ""}), 422) == [_too_short(("name",))]
        for length in (1, 100):
            name = _name(length)
            assert ok(http.post(path, json={"name": name}))["name"] == name
        name = _name(101)
        assert detail(http.post(path, json={"name": name}), 422) == [
            _too_long(("name",), 100, name)
        ]
        if path != "/v1/apps":
            assert detail(http.get(f"{path}/name/{name}"), 404).endswith(f"'{name}' not found")


def test_names_on_update(http: httpx.Client, world: World) -> None:
    collection = world.new_collection(http)["id"]
    targets = [
        (f"/v1/apps/{world.app}", f"/v1/apps?app_id={world.app}"),
        (f"{world.users}/{world.user}", f"{world.users}?user_id={world.user}"),
        (f"{world.collections}/{collection}", f"{world.collections}?collection_id={collection}"),
    ]
    for path, read in targets:
        # As upstream: update names are not held to the create limits ...
        for length in (101, 512):
            name = _name(length)
            assert ok(http.put(path, json={"name": name}))["name"] == name
        before = ok(http.get(read))
        # ... but past the storage limit it is a 422 (upstream: 409 from a DB check).
        name = _name(513)
        r = http.put(path, json={"name": name, "metadata": {"changed": True}})
        assert detail(r, 422) == [_too_long(("name",), 512, name)]
        assert ok(http.get(read)) == before


def test_empty_name_on_update_is_accepted(http: httpx.Client) -> None:
    app = new_app(http)
    assert ok(http.put(f"/v1/apps/{app['id']}", json={"name": ""}))["name"] == ""


@pytest.mark.parametrize("length", [101, 512, 513, 2000])
def test_get_or_create_names(http: httpx.Client, world: World, length: int) -> None:
    name = _name(length)
    assert isinstance(detail(http.get(f"/v1/apps/get_or_create/{name}"), 422), str)
    assert isinstance(detail(http.get(f"{world.users}/get_or_create/{name}"), 422), str)
    assert detail(http.get(f"/v1/apps/name/{name}"), 404) == f"App with name '{name}' not found"


def test_get_or_create_at_the_limit(http: httpx.Client, world: World) -> None:
    name = _name(100)
    assert ok(http.get(f"/v1/apps/get_or_create/{name}"))["name"] == name
    assert ok(http.get(f"{world.users}/get_or_create/{name}"))["name"] == name


# --- messages and metamessages ---------------------------------------------------------------


def test_message_content(http: httpx.Client, world: World) -> None:
    content = "m" * 50_000
    assert (
        ok(http.post(world.messages, json={"content": content, "is_user": True}))["content"]
        == content
    )
    content += "m"
    r = http.post(world.messages, json={"content": content, "is_user": True})
    assert detail(r, 422) == [_too_long(("content",), 50_000, content)]
    assert ok(http.post(f"{world.messages}/list"))["total"] == 1


def test_metamessage_content(http: httpx.Client, world: World) -> None:
    content = "c" * 50_000
    assert (
        ok(http.post(world.metamessages, json={"label": "l", "content": content}))["content"]
        == content
    )
    content += "c"
    r = http.post(world.metamessages, json={"label": "l", "content": content})
    assert detail(r, 422) == [_too_long(("content",), 50_000, content)]


@pytest.mark.parametrize("key", ["label", "metamessage_type"])
def test_metamessage_label_on_create(http: httpx.Client, world: World, key: str) -> None:
    assert detail(http.post(world.metamessages, json={key: "", "content": "c"}), 422) == [
        _too_short((key,))
    ]
    for length in (1, 50):
        assert (
            ok(http.post(world.metamessages, json={key: "l" * length, "content": "c"}))["label"]
            == "l" * length
        )
    r = http.post(world.metamessages, json={key: "l" * 51, "content": "c"})
    assert detail(r, 422) == [_too_long((key,), 50, "l" * 51)]
    assert ok(http.post(f"{world.metamessages}/list"))["total"] == 2


def test_metamessage_label_on_update(http: httpx.Client, world: World) -> None:
    created = ok(http.post(world.metamessages, json={"label": "l", "content": "c"}))
    path = f"{world.metamessages}/{created['id']}"
    assert ok(http.put(path, json={"label": "x" * 512}))["label"] == "x" * 512
    # Upstream: 500 from the database check.
    r = http.put(path, json={"label": "y" * 513})
    assert error_types(r) == [("string_too_long", ("body", "label"))]
    assert ok(http.get(path))["label"] == "x" * 512


def test_batch_size(http: httpx.Client, world: World) -> None:
    path = f"{world.messages}/batch"
    one = {"content": "x", "is_user": True}
    assert len(ok(http.post(path, json={"messages": [one] * 100}))) == 100
    r = http.post(path, json={"messages": [one] * 101})
    assert detail(r, 422) == [
        {
            "type": "too_long",
            "loc": ["body", "messages"],
            "msg": "List should have at most 100 items after validation, not 101",
            "input": [one] * 101,
            "ctx": {"field_type": "List", "max_length": 100, "actual_length": 101},
        }
    ]
    # Upstream answers 500 for an empty batch.
    r = http.post(path, json={"messages": []})
    assert detail(r, 422) == [
        {
            "type": "too_short",
            "loc": ["body", "messages"],
            "msg": "List should have at least 1 item after validation, not 0",
            "input": [],
            "ctx": {"field_type": "List", "min_length": 1, "actual_length": 0},
        }
    ]
    assert ok(http.post(f"{world.messages}/list"))["total"] == 100


def test_page_size_and_page(http: httpx.Client, world: World) -> None:
    world.add_messages(http, *"abc")
    path = f"{world.messages}/list"
    assert len(ok(http.post(path, params={"size": 1}))["items"]) == 1
    assert len(ok(http.post(path, params={"size": 100}))["items"]) == 3
    assert ok(http.post(path, params={"page": 1}))["page"] == 1
    assert error_types(http.post(path, params={"size": 0})) == [
        ("greater_than_equal", ("query", "size"))
    ]
    assert error_types(http.post(path, params={"size": 101})) == [
        ("less_than_equal", ("query", "size"))
    ]
    assert error_types(http.post(path, params={"page": 0})) == [
        ("greater_than_equal", ("query", "page"))
    ]


# --- documents -------------------------------------------------------------------------------

CONTENT_LIMIT = "Document content must be at most 65535 characters"


@pytest.fixture
def documents(http: httpx.Client, world: World) -> str:
    return world.documents(world.new_collection(http)["id"])


def test_document_content_on_create(http: httpx.Client, documents: str) -> None:
    assert detail(http.post(documents, json={"content": ""}), 422) == [_too_short(("content",))]
    assert ok(http.post(documents, json={"content": "a"}))["content"] == "a"
    longest = "word " * 13_107  # 65,535 characters
    stored = ok(http.post(documents, json={"content": longest}))
    assert ok(http.get(f"{documents}/{stored['id']}"))["content"] == longest
    # Upstream passes validation and fails in the database (500); we refuse with a 422.
    for length in (65_536, 100_000):
        assert detail(http.post(documents, json={"content": "b" * length}), 422) == CONTENT_LIMIT
    content = "c" * 100_001
    assert detail(http.post(documents, json={"content": content}), 422) == [
        _too_long(("content",), 100_000, content)
    ]
    assert ok(http.post(f"{documents}/list"))["total"] == 2


def test_document_content_on_update(http: httpx.Client, documents: str) -> None:
    created = ok(http.post(documents, json={"content": "original"}))
    path = f"{documents}/{created['id']}"
    assert ok(http.put(path, json={"content": "d" * 65_535}))["content"] == "d" * 65_535
    before = ok(http.get(path))
    assert (
        detail(http.put(path, json={"content": "e" * 65_536, "metadata": {"x": 1}}), 422)
        == CONTENT_LIMIT
    )
    content = "f" * 100_001
    assert detail(http.put(path, json={"content": content}), 422) == [
        _too_long(("content",), 100_000, content)
    ]
    assert ok(http.get(path)) == before


def test_document_update_metadata_keys(http: httpx.Client, documents: str) -> None:
    created = ok(http.post(documents, json={"content": "x"}))
    path = f"{documents}/{created['id']}"
    at_limit = {f"k{i}": i for i in range(10_000)}
    assert len(ok(http.put(path, json={"metadata": at_limit}))["metadata"]) == 10_000
    over = {**at_limit, "one_more": 1}
    errors = detail(http.put(path, json={"metadata": over}), 422)
    assert [(e["type"], e["loc"], e["msg"], e["ctx"]) for e in errors] == [
        (
            "too_long",
            ["body", "metadata"],
            "Dictionary should have at most 10000 items after validation, not 10001",
            {"field_type": "Dictionary", "max_length": 10_000, "actual_length": 10_001},
        )
    ]
    assert len(ok(http.get(path))["metadata"]) == 10_000


def test_document_query_text(http: httpx.Client, documents: str) -> None:
    ok(http.post(documents, json={"content": "x"}))
    assert detail(http.post(f"{documents}/query", json={"query": ""}), 422) == [
        _too_short(("query",))
    ]
    for length in (1, 1000):
        assert len(ok(http.post(f"{documents}/query", json={"query": "q" * length}))) == 1
    query = "q" * 1001
    assert detail(http.post(f"{documents}/query", json={"query": query}), 422) == [
        _too_long(("query",), 1000, query)
    ]


def test_document_query_top_k(http: httpx.Client, documents: str) -> None:
    for i in range(3):
        ok(http.post(documents, json={"content": f"doc {i}"}))
    for top_k, count in ((1, 1), (50, 3)):
        assert (
            len(ok(http.post(f"{documents}/query", json={"query": "doc", "top_k": top_k}))) == count
        )
    assert detail(http.post(f"{documents}/query", json={"query": "doc", "top_k": 0}), 422) == [
        {
            "type": "greater_than_equal",
            "loc": ["body", "top_k"],
            "msg": "Input should be greater than or equal to 1",
            "input": 0,
            "ctx": {"ge": 1},
        }
    ]
    assert detail(http.post(f"{documents}/query", json={"query": "doc", "top_k": 51}), 422) == [
        {
            "type": "less_than_equal",
            "loc": ["body", "top_k"],
            "msg": "Input should be less than or equal to 50",
            "input": 51,
            "ctx": {"le": 50},
        }
    ]


# --- request body size -----------------------------------------------------------------------

LIMIT = 4096
TOO_LARGE = f"Request body too large (limit {LIMIT} bytes)"


def _app_body(size: int) -> bytes:
    """A valid app-create body of exactly `size` bytes."""
    name = uid()
    empty = json.dumps({"name": name, "metadata": {"pad": ""}}).encode()
    body = json.dumps({"name": name, "metadata": {"pad": "p" * (size - len(empty))}}).encode()
    assert len(body) == size
    return body


def _chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.fixture
def small(server_factory: Callable[..., LiveServer]) -> LiveServer:
    return server_factory(max_body_bytes=LIMIT)


def _total(c: httpx.Client) -> int:
    return ok(c.post("/v1/apps/list"))["total"]  # type: ignore[no-any-return]


def test_body_limit_with_content_length(small: LiveServer) -> None:
    headers = {"content-type": "application/json"}
    with small.client() as c:
        assert ok(c.post("/v1/apps", content=_app_body(LIMIT), headers=headers))
        r = c.post("/v1/apps", content=_app_body(LIMIT + 1), headers=headers)
        assert r.request.headers["content-length"] == str(LIMIT + 1)
        assert detail(r, 413) == TOO_LARGE
    with small.client() as c:
        assert _total(c) == 1


def test_body_limit_with_chunked_bodies(small: LiveServer) -> None:
    headers = {"content-type": "application/json"}
    with small.client() as c:
        r = c.post("/v1/apps", content=_chunks(_app_body(LIMIT)), headers=headers)
        assert r.request.headers["transfer-encoding"] == "chunked"
        assert ok(r)
    with small.client() as c:
        r = c.post("/v1/apps", content=_chunks(_app_body(LIMIT + 1)), headers=headers)
        assert "content-length" not in r.request.headers
        assert detail(r, 413) == TOO_LARGE
    with small.client() as c:
        assert _total(c) == 1


def test_body_limit_through_the_client(small: LiveServer) -> None:
    with Honcho(base_url=small.url, max_retries=0) as client:
        with pytest.raises(APIStatusError) as caught:
            client.apps.create(name=uid(), metadata={"pad": "x" * LIMIT})
        assert caught.value.status_code == 413
        assert caught.value.body == {"detail": TOO_LARGE}
    with Honcho(base_url=small.url, max_retries=0) as client:
        assert client.apps.list().total == 0


def test_body_limit_on_a_batch_stores_nothing(small: LiveServer) -> None:
    with small.client() as c:
        world = new_world(c)
        batch = [{"content": "x" * 1000, "is_user": True}] * 5
        assert detail(c.post(f"{world.messages}/batch", json={"messages": batch}), 413) == TOO_LARGE
    with small.client() as c:
        assert ok(c.post(f"{world.messages}/list"))["total"] == 0
        assert len(ok(c.post(f"{world.messages}/batch", json={"messages": batch[:3]}))) == 3
