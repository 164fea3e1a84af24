"""Collections (reference §5.6): per-user names, updates, hard delete and the reserved
`honcho` collection."""

from __future__ import annotations

import httpx
import pytest
from honcho import ConflictError, Honcho, NotFoundError, UnprocessableEntityError

from tests.conftest import LiveServer
from tests.honcho.support import (
    COLLECTION_KEYS,
    CREATED_AT,
    World,
    detail,
    new_user,
    new_world,
    ok,
    reserved_collection,
    uid,
)

COLLECTION_NOT_FOUND = "Collection not found or does not belong to user"
RESERVED_VALUE_ERROR = {
    "type": "value_error",
    "loc": ["body", "name"],
    "msg": "Value error, Collection name cannot be 'honcho'",
    "ctx": {"error": {}},
}


def test_create_collection(honcho: Honcho, world: World) -> None:
    name = uid()
    collection = honcho.apps.users.collections.create(
        world.user, app_id=world.app, name=name, metadata={"kind": "notes"}
    )
    assert (collection.name, collection.metadata, collection.user_id, collection.app_id) == (
        name,
        {"kind": "notes"},
        world.user,
        world.app,
    )


def test_collection_wire_shape(http: httpx.Client, world: World) -> None:
    body = world.new_collection(http)
    assert list(body) == COLLECTION_KEYS
    assert body["metadata"] == {}
    assert CREATED_AT.match(body["created_at"])


def test_get_collection_by_id_and_name(honcho: Honcho, http: httpx.Client, world: World) -> None:
    created = world.new_collection(http, metadata={"a": 1})
    collections = honcho.apps.users.collections
    by_id = collections.get(world.user, app_id=world.app, collection_id=created["id"])
    by_name = collections.get_by_name(created["name"], app_id=world.app, user_id=world.user)
    assert by_id.id == by_name.id == created["id"]
    assert by_id.metadata == {"a": 1}


def test_get_unknown_collection(honcho: Honcho, http: httpx.Client, world: World) -> None:
    assert (
        detail(http.get(world.collections, params={"collection_id": "nope"}), 404)
        == COLLECTION_NOT_FOUND
    )
    name = uid()
    r = http.get(f"{world.collections}/name/{name}")
    assert detail(r, 404) == f"Collection with name '{name}' not found"
    with pytest.raises(NotFoundError):
        honcho.apps.users.collections.get_by_name(name, app_id=world.app, user_id=world.user)


def test_collection_of_another_user_is_not_found(http: httpx.Client, world: World) -> None:
    created = world.new_collection(http)
    other = f"/v1/apps/{world.app}/users/{new_user(http, world.app)['id']}/collections"
    assert (
        detail(http.get(other, params={"collection_id": created["id"]}), 404)
        == COLLECTION_NOT_FOUND
    )
    assert (
        detail(http.get(f"{other}/name/{created['name']}"), 404)
        == f"Collection with name '{created['name']}' not found"
    )
    assert (
        detail(http.put(f"{other}/{created['id']}", json={"metadata": {}}), 404)
        == COLLECTION_NOT_FOUND
    )
    assert detail(http.delete(f"{other}/{created['id']}"), 404) == COLLECTION_NOT_FOUND
    assert ok(http.get(world.collections, params={"collection_id": created["id"]})) == created


def test_collection_name_is_required(http: httpx.Client, world: World) -> None:
    assert detail(http.post(world.collections, json={"metadata": {}}), 422) == [
        {
            "type": "missing",
            "loc": ["body", "name"],
            "msg": "Field required",
            "input": {"metadata": {}},
        }
    ]


def test_create_collection_for_unknown_user(http: httpx.Client, world: World) -> None:
    r = http.post(f"/v1/apps/{world.app}/users/ghost/collections", json={"name": uid()})
    assert detail(r, 404) == "User with ID 'ghost' not found"


def test_collection_names_are_unique_per_user(
    honcho: Honcho, http: httpx.Client, world: World
) -> None:
    name = uid()
    world.new_collection(http, name=name)
    r = http.post(world.collections, json={"name": name})
    assert detail(r, 409) == f"Collection with name '{name}' already exists"
    with pytest.raises(ConflictError):
        honcho.apps.users.collections.create(world.user, app_id=world.app, name=name)
    other = new_user(http, world.app)["id"]
    assert (
        ok(http.post(f"/v1/apps/{world.app}/users/{other}/collections", json={"name": name}))[
            "name"
        ]
        == name
    )


def test_list_collections(honcho: Honcho, world: World) -> None:
    collections = honcho.apps.users.collections
    made = [
        collections.create(world.user, app_id=world.app, name=uid(), metadata=meta)
        for meta in ({"test": "key"}, {"test": "other"}, {"test": "key", "n": 1})
    ]
    assert [c.id for c in collections.list(world.user, app_id=world.app).items] == [
        c.id for c in made
    ]
    filtered = collections.list(world.user, app_id=world.app, filter={"test": "key"})
    assert [c.id for c in filtered.items] == [made[0].id, made[2].id]
    assert filtered.total == 2
    assert [
        c.id for c in collections.list(world.user, app_id=world.app, reverse=True, size=1).items
    ] == [made[2].id]


def test_list_collections_of_unknown_user_is_empty(http: httpx.Client, world: World) -> None:
    assert ok(http.post(f"/v1/apps/{world.app}/users/ghost/collections/list"))["total"] == 0


def test_update_collection(honcho: Honcho, http: httpx.Client, world: World) -> None:
    created = world.new_collection(http, metadata={"a": 1})
    name = uid()
    updated = honcho.apps.users.collections.update(
        created["id"], app_id=world.app, user_id=world.user, name=name, metadata={"b": 2}
    )
    assert (updated.id, updated.name, updated.metadata) == (created["id"], name, {"b": 2})
    only_meta = ok(http.put(f"{world.collections}/{created['id']}", json={"metadata": {}}))
    assert (only_meta["name"], only_meta["metadata"]) == (name, {})


@pytest.mark.parametrize("body", [{}, {"name": None, "metadata": None}])
def test_update_collection_needs_a_field(
    http: httpx.Client, world: World, body: dict[str, None]
) -> None:
    created = world.new_collection(http)
    r = http.put(f"{world.collections}/{created['id']}", json=body)
    assert (
        detail(r, 422) == "Invalid collection configuration - at least one field must be provided"
    )


def test_update_unknown_collection(http: httpx.Client, world: World) -> None:
    assert (
        detail(http.put(f"{world.collections}/nope", json={"name": uid()}), 404)
        == COLLECTION_NOT_FOUND
    )


def test_rename_to_a_taken_name_changes_nothing(http: httpx.Client, world: World) -> None:
    taken = world.new_collection(http)
    created = world.new_collection(http, metadata={"v": 1})
    r = http.put(
        f"{world.collections}/{created['id']}", json={"name": taken["name"], "metadata": {"v": 2}}
    )
    assert detail(r, 409) == "Collection update failed - name already in use"
    assert ok(http.get(world.collections, params={"collection_id": created["id"]})) == created


def test_delete_collection(honcho: Honcho, http: httpx.Client, world: World) -> None:
    created = world.new_collection(http)
    result = honcho.apps.users.collections.delete(
        created["id"], app_id=world.app, user_id=world.user
    )
    assert result == {"message": "Collection deleted successfully"}
    assert (
        detail(http.get(world.collections, params={"collection_id": created["id"]}), 404)
        == COLLECTION_NOT_FOUND
    )
    assert detail(http.delete(f"{world.collections}/{created['id']}"), 404) == COLLECTION_NOT_FOUND
    # The name is free again.
    assert world.new_collection(http, name=created["name"])["id"] != created["id"]


@pytest.mark.parametrize("name", ["honcho", "HONCHO", "Honcho"])
def test_reserved_name_cannot_be_created(
    honcho: Honcho, http: httpx.Client, world: World, name: str
) -> None:
    assert detail(http.post(world.collections, json={"name": name}), 422) == [
        {**RESERVED_VALUE_ERROR, "input": name}
    ]
    with pytest.raises(UnprocessableEntityError):
        honcho.apps.users.collections.create(world.user, app_id=world.app, name=name)
    assert ok(http.post(f"{world.collections}/list"))["total"] == 0


def test_rename_to_reserved_name_is_refused(http: httpx.Client, world: World) -> None:
    created = world.new_collection(http)
    r = http.put(
        f"{world.collections}/{created['id']}", json={"name": "hOnChO", "metadata": {"x": 1}}
    )
    assert detail(r, 422) == [{**RESERVED_VALUE_ERROR, "input": "hOnChO"}]
    assert ok(http.get(world.collections, params={"collection_id": created["id"]})) == created


def test_reserved_collection(api: LiveServer, http: httpx.Client) -> None:
    world = new_world(http)
    reserved = reserved_collection(api, world.app, world.user)
    assert reserved_collection(api, world.app, world.user) == reserved
    got = ok(http.get(f"{world.collections}/name/honcho"))
    assert (got["id"], got["name"], got["metadata"]) == (reserved, "honcho", {})
    assert [c["id"] for c in ok(http.post(f"{world.collections}/list"))["items"]] == [reserved]
    # Its metadata may change ...
    path = f"{world.collections}/{reserved}"
    assert ok(http.put(path, json={"metadata": {"facts": True}}))["metadata"] == {"facts": True}
    # ... but it keeps its name (upstream lets a rename through, then allows the delete).
    r = http.put(path, json={"name": "renamed", "metadata": {"facts": False}})
    assert detail(r, 422) == "Invalid collection configuration - 'honcho' is a reserved name"
    r = http.delete(path)
    assert detail(r, 422) == "Invalid collection configuration - 'honcho' is a reserved name"
    assert "reserved name" in detail(r, 422)
    after = ok(http.get(world.collections, params={"collection_id": reserved}))
    assert (after["name"], after["metadata"]) == ("honcho", {"facts": True})
