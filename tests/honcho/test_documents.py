"""Documents (reference §5.7) with the packaged MiniLM embedder: CRUD, semantic query,
re-embedding on content updates and the reserved `honcho` collection."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from honcho import Honcho, NotFoundError, UnprocessableEntityError

from tests.conftest import LiveServer
from tests.honcho.support import (
    CREATED_AT,
    DOCUMENT_KEYS,
    World,
    detail,
    error_types,
    new_user,
    new_world,
    ok,
    reserved_collection,
)

COLLECTION_NOT_FOUND = "Collection not found or does not belong to user"

CAT = "The cat sat on the windowsill all afternoon, watching the birds outside."
REVENUE = "Quarterly revenue grew by twelve percent thanks to strong sales in Europe."
PLANTS = "Photosynthesis lets green plants turn sunlight, water and carbon dioxide into sugar."


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@pytest.fixture
def collection(http: httpx.Client, world: World) -> str:
    return world.new_collection(http)["id"]  # type: ignore[no-any-return]


def _add(
    http: httpx.Client, world: World, collection: str, content: str, **metadata: Any
) -> dict[str, Any]:
    return ok(
        http.post(world.documents(collection), json={"content": content, "metadata": metadata})
    )  # type: ignore[no-any-return]


def _query(
    http: httpx.Client, world: World, collection: str, query: str, **extra: Any
) -> list[str]:
    found = ok(http.post(f"{world.documents(collection)}/query", json={"query": query, **extra}))
    return [d["id"] for d in found]


def test_create_document(honcho: Honcho, world: World, collection: str) -> None:
    document = honcho.apps.users.collections.documents.create(
        collection, app_id=world.app, user_id=world.user, content=CAT, metadata={"source": "diary"}
    )
    assert (document.content, document.metadata, document.collection_id) == (
        CAT,
        {"source": "diary"},
        collection,
    )
    assert (document.app_id, document.user_id) == (world.app, world.user)


def test_document_wire_shape(http: httpx.Client, world: World, collection: str) -> None:
    body = _add(http, world, collection, "hello")
    assert list(body) == DOCUMENT_KEYS  # never the embedding
    assert CREATED_AT.match(body["created_at"])


def test_create_in_unknown_or_foreign_collection(
    http: httpx.Client, world: World, collection: str
) -> None:
    r = http.post(world.documents("nope"), json={"content": "x"})
    assert detail(r, 404) == COLLECTION_NOT_FOUND
    other = new_user(http, world.app)["id"]
    r = http.post(
        f"/v1/apps/{world.app}/users/{other}/collections/{collection}/documents",
        json={"content": "x"},
    )
    assert detail(r, 404) == COLLECTION_NOT_FOUND


def test_get_document(honcho: Honcho, http: httpx.Client, world: World, collection: str) -> None:
    created = _add(http, world, collection, CAT, a=1)
    got = honcho.apps.users.collections.documents.get(
        created["id"], app_id=world.app, user_id=world.user, collection_id=collection
    )
    assert (got.id, got.content, got.metadata) == (created["id"], CAT, {"a": 1})
    assert ok(http.get(f"{world.documents(collection)}/{created['id']}")) == created


def test_get_unknown_document(
    honcho: Honcho, http: httpx.Client, world: World, collection: str
) -> None:
    assert (
        detail(http.get(f"{world.documents(collection)}/nope"), 404)
        == "Document with ID 'nope' not found"
    )
    created = _add(http, world, collection, "x")
    elsewhere = world.new_collection(http)["id"]
    r = http.get(f"{world.documents(elsewhere)}/{created['id']}")
    assert detail(r, 404) == f"Document with ID '{created['id']}' not found"
    with pytest.raises(NotFoundError):
        honcho.apps.users.collections.documents.get(
            "nope", app_id=world.app, user_id=world.user, collection_id=collection
        )


def test_list_documents(honcho: Honcho, http: httpx.Client, world: World, collection: str) -> None:
    made = [
        _add(http, world, collection, text, topic=topic)
        for text, topic in ((CAT, "pets"), (REVENUE, "work"), (PLANTS, "pets"))
    ]
    documents = honcho.apps.users.collections.documents
    page = documents.list(collection, app_id=world.app, user_id=world.user)
    assert [d.id for d in page.items] == [d["id"] for d in made]
    assert page.total == 3
    filtered = documents.list(
        collection, app_id=world.app, user_id=world.user, filter={"topic": "pets"}
    )
    assert [d.id for d in filtered.items] == [made[0]["id"], made[2]["id"]]
    reverse = documents.list(collection, app_id=world.app, user_id=world.user, reverse=True, size=2)
    assert [d.id for d in reverse.items] == [made[2]["id"], made[1]["id"]]
    assert (reverse.total, reverse.pages) == (3, 2)


def test_list_documents_of_unknown_collection_is_empty(http: httpx.Client, world: World) -> None:
    assert ok(http.post(f"{world.documents('nope')}/list")) == {
        "items": [],
        "total": 0,
        "page": 1,
        "size": 50,
        "pages": 0,
    }


def test_query_ranks_the_paraphrase_first(
    honcho: Honcho, http: httpx.Client, world: World, collection: str
) -> None:
    cat, revenue, plants = (_add(http, world, collection, t)["id"] for t in (CAT, REVENUE, PLANTS))
    assert (
        _query(http, world, collection, "A kitten perched by the window looking at birds")[0] == cat
    )
    assert _query(http, world, collection, "How do plants make food from light?")[0] == plants
    found = honcho.apps.users.collections.documents.query(
        collection, app_id=world.app, user_id=world.user, query="earnings went up this quarter"
    )
    assert found[0].id == revenue
    assert sorted(d.id for d in found) == sorted([cat, revenue, plants])


def test_query_wire_shape(http: httpx.Client, world: World, collection: str) -> None:
    _add(http, world, collection, CAT)
    found = ok(http.post(f"{world.documents(collection)}/query", json={"query": "cat"}))
    assert isinstance(found, list) and len(found) == 1
    assert list(found[0]) == DOCUMENT_KEYS


def test_query_top_k_and_filter(http: httpx.Client, world: World, collection: str) -> None:
    ids = [
        _add(http, world, collection, f"{text} (note {i})", n=i, even=i % 2 == 0)["id"]
        for i, text in enumerate([CAT, REVENUE, PLANTS, CAT, REVENUE, PLANTS, CAT])
    ]
    assert len(_query(http, world, collection, "cats")) == 5  # top_k defaults to 5
    assert len(_query(http, world, collection, "cats", top_k=50)) == 7
    top = _query(http, world, collection, "a cat watching birds", top_k=1)
    assert len(top) == 1 and top[0] in (ids[0], ids[3], ids[6])
    evens = _query(http, world, collection, "a cat watching birds", filter={"even": True}, top_k=2)
    assert evens[0] in (ids[0], ids[6]) and len(evens) == 2
    assert set(evens) <= {ids[0], ids[2], ids[4], ids[6]}
    assert _query(http, world, collection, "revenue", filter={"n": 4}) == [ids[4]]
    assert _query(http, world, collection, "revenue", filter={"n": 99}) == []


def test_query_unknown_or_foreign_collection_is_empty(
    http: httpx.Client, world: World, collection: str
) -> None:
    _add(http, world, collection, CAT)
    assert _query(http, world, "nope", "cat") == []
    other = new_user(http, world.app)["id"]
    r = http.post(
        f"/v1/apps/{world.app}/users/{other}/collections/{collection}/documents/query",
        json={"query": "cat"},
    )
    assert ok(r) == []


def test_update_content_re_embeds(
    honcho: Honcho, http: httpx.Client, world: World, collection: str
) -> None:
    cat = _add(http, world, collection, CAT)
    revenue = _add(http, world, collection, REVENUE, keep="me")
    query = "a puppy chasing a ball in the park"
    assert _query(http, world, collection, query)[0] == cat["id"]
    updated = honcho.apps.users.collections.documents.update(
        revenue["id"],
        app_id=world.app,
        user_id=world.user,
        collection_id=collection,
        content="Our dog loves chasing tennis balls around the park.",
    )
    # Upstream commits the change and then answers 500; we answer with the document.
    assert (updated.id, updated.content, updated.metadata) == (
        revenue["id"],
        "Our dog loves chasing tennis balls around the park.",
        {"keep": "me"},
    )
    assert _query(http, world, collection, query)[0] == revenue["id"]
    stored = ok(http.get(f"{world.documents(collection)}/{revenue['id']}"))
    assert stored["content"].startswith("Our dog")
    # Updating the content resets created_at (as upstream); metadata-only updates do not.
    assert _parse(stored["created_at"]) > _parse(revenue["created_at"])
    meta_only = ok(
        http.put(f"{world.documents(collection)}/{revenue['id']}", json={"metadata": {"v": 2}})
    )
    assert (meta_only["created_at"], meta_only["content"], meta_only["metadata"]) == (
        stored["created_at"],
        stored["content"],
        {"v": 2},
    )


def test_update_content_and_metadata_wire(
    http: httpx.Client, world: World, collection: str
) -> None:
    created = _add(http, world, collection, CAT, a=1)
    r = http.put(
        f"{world.documents(collection)}/{created['id']}",
        json={"content": PLANTS, "metadata": {"b": 2}},
    )
    body = ok(r)
    assert list(body) == DOCUMENT_KEYS
    assert (body["id"], body["content"], body["metadata"], body["collection_id"]) == (
        created["id"],
        PLANTS,
        {"b": 2},
        collection,
    )


@pytest.mark.parametrize("body", [{}, {"content": None, "metadata": None}])
def test_update_needs_content_or_metadata(
    http: httpx.Client, world: World, collection: str, body: dict[str, None]
) -> None:
    created = _add(http, world, collection, CAT)
    r = http.put(f"{world.documents(collection)}/{created['id']}", json=body)
    assert detail(r, 422) == "Content and metadata cannot both be None"


def test_update_validation(
    honcho: Honcho, http: httpx.Client, world: World, collection: str
) -> None:
    created = _add(http, world, collection, CAT)
    path = f"{world.documents(collection)}/{created['id']}"
    assert error_types(http.put(path, json={"content": ""})) == [
        ("string_too_short", ("body", "content"))
    ]
    assert error_types(http.put(path, json={"metadata": "x"})) == [
        ("dict_type", ("body", "metadata"))
    ]
    with pytest.raises(UnprocessableEntityError):
        honcho.apps.users.collections.documents.update(
            created["id"], app_id=world.app, user_id=world.user, collection_id=collection
        )
    assert ok(http.get(path)) == created


def test_update_unknown_document(http: httpx.Client, world: World, collection: str) -> None:
    r = http.put(f"{world.documents(collection)}/nope", json={"metadata": {}})
    assert detail(r, 404) == "Document with ID 'nope' not found"
    r = http.put(f"{world.documents('nope')}/nope", json={"content": "x"})
    assert detail(r, 404) == "Document with ID 'nope' not found"


def test_delete_document(honcho: Honcho, http: httpx.Client, world: World, collection: str) -> None:
    created = _add(http, world, collection, CAT)
    kept = _add(http, world, collection, REVENUE)
    result = honcho.apps.users.collections.documents.delete(
        created["id"], app_id=world.app, user_id=world.user, collection_id=collection
    )
    assert result == {"message": "Document deleted successfully"}
    assert (
        detail(http.get(f"{world.documents(collection)}/{created['id']}"), 404)
        == f"Document with ID '{created['id']}' not found"
    )
    assert _query(http, world, collection, "cat") == [kept["id"]]


def test_delete_errors(http: httpx.Client, world: World, collection: str) -> None:
    created = _add(http, world, collection, CAT)
    assert (
        detail(http.delete(f"{world.documents('nope')}/{created['id']}"), 404)
        == COLLECTION_NOT_FOUND
    )
    assert (
        detail(http.delete(f"{world.documents(collection)}/nope"), 404)
        == "Document not found or does not belong to user"
    )
    elsewhere = world.new_collection(http)["id"]
    r = http.delete(f"{world.documents(elsewhere)}/{created['id']}")
    assert detail(r, 404) == "Document not found or does not belong to user"
    assert ok(http.get(f"{world.documents(collection)}/{created['id']}")) == created


def test_deleting_a_collection_deletes_its_documents(
    http: httpx.Client, world: World, collection: str
) -> None:
    created = _add(http, world, collection, CAT)
    ok(http.delete(f"{world.collections}/{collection}"))
    assert ok(http.post(f"{world.documents(collection)}/list"))["total"] == 0
    assert (
        detail(http.get(f"{world.documents(collection)}/{created['id']}"), 404)
        == f"Document with ID '{created['id']}' not found"
    )
    assert _query(http, world, collection, "cat") == []


def test_documents_in_the_reserved_collection(api: LiveServer, http: httpx.Client) -> None:
    world = new_world(http)
    reserved = reserved_collection(api, world.app, world.user)
    created = _add(http, world, reserved, "User likes pizza")
    assert _query(http, world, reserved, "favourite food") == [created["id"]]
    r = http.delete(f"{world.documents(reserved)}/{created['id']}")
    assert detail(r, 422) == "Cannot delete collection with reserved name 'honcho'"
    assert "honcho" in detail(r, 422)
    assert ok(http.get(f"{world.documents(reserved)}/{created['id']}")) == created
    updated = ok(
        http.put(
            f"{world.documents(reserved)}/{created['id']}", json={"metadata": {"message_id": "m"}}
        )
    )
    assert updated["metadata"] == {"message_id": "m"}


def test_without_an_embedder(server_factory: Callable[..., LiveServer]) -> None:
    """Embedding needs a model: with none configured, writes and queries are 503, reads work."""
    server = server_factory(runtime_embedder=None)
    with server.client() as http:
        world = new_world(http)
        collection = world.new_collection(http)["id"]
        message = "No embedder is configured (set MINDKEEPER_EMBEDDER=local)"
        assert detail(http.post(world.documents(collection), json={"content": "x"}), 503) == message
        assert (
            detail(http.post(f"{world.documents(collection)}/query", json={"query": "x"}), 503)
            == message
        )
        assert ok(http.post(f"{world.documents(collection)}/list"))["total"] == 0
