"""Users (reference §5.2): per-app names, get_or_create, updates and the 404 we give for a
missing app where upstream answers 409."""

from __future__ import annotations

import httpx
import pytest
from honcho import ConflictError, Honcho, NotFoundError, UnprocessableEntityError

from tests.honcho.support import (
    CREATED_AT,
    PUBLIC_ID,
    USER_KEYS,
    detail,
    new_app,
    new_user,
    ok,
    uid,
)


def test_create_user(honcho: Honcho, http: httpx.Client) -> None:
    app = new_app(http)
    name = uid()
    user = honcho.apps.users.create(app["id"], name=name, metadata={"plan": "pro"})
    assert (user.name, user.app_id, user.metadata) == (name, app["id"], {"plan": "pro"})
    assert PUBLIC_ID.match(user.id)


def test_user_wire_shape(http: httpx.Client) -> None:
    app = new_app(http)
    body = ok(http.post(f"/v1/apps/{app['id']}/users", json={"name": uid()}))
    assert list(body) == USER_KEYS
    assert (body["app_id"], body["metadata"]) == (app["id"], {})
    assert CREATED_AT.match(body["created_at"])


def test_get_user_by_id_and_name(honcho: Honcho, http: httpx.Client) -> None:
    app = new_app(http)["id"]
    created = honcho.apps.users.create(app, name=uid(), metadata={"a": 1})
    by_id = honcho.apps.users.get(app, user_id=created.id)
    by_name = honcho.apps.users.get_by_name(created.name, app_id=app)
    assert by_id.id == by_name.id == created.id
    assert by_id.metadata == by_name.metadata == {"a": 1}


def test_get_unknown_user(honcho: Honcho, http: httpx.Client) -> None:
    app = new_app(http)["id"]
    r = http.get(f"/v1/apps/{app}/users", params={"user_id": "ghost"})
    assert detail(r, 404) == "User with ID 'ghost' not found"
    name = uid()
    r = http.get(f"/v1/apps/{app}/users/name/{name}")
    assert detail(r, 404) == f"User with name '{name}' not found"
    with pytest.raises(NotFoundError):
        honcho.apps.users.get(app, user_id="ghost")


def test_user_is_scoped_to_its_app(http: httpx.Client) -> None:
    app_a, app_b = new_app(http)["id"], new_app(http)["id"]
    user = new_user(http, app_a)
    r = http.get(f"/v1/apps/{app_b}/users", params={"user_id": user["id"]})
    assert detail(r, 404) == f"User with ID '{user['id']}' not found"
    r = http.get(f"/v1/apps/{app_b}/users/name/{user['name']}")
    assert detail(r, 404) == f"User with name '{user['name']}' not found"
    r = http.put(f"/v1/apps/{app_b}/users/{user['id']}", json={"metadata": {"x": 1}})
    assert detail(r, 404) == f"User with ID '{user['id']}' not found"
    assert ok(http.get(f"/v1/apps/{app_a}/users", params={"user_id": user["id"]}))["metadata"] == {}


def test_user_names_are_unique_per_app(honcho: Honcho, http: httpx.Client) -> None:
    app_a, app_b = new_app(http)["id"], new_app(http)["id"]
    name = uid()
    new_user(http, app_a, name=name)
    r = http.post(f"/v1/apps/{app_a}/users", json={"name": name})
    assert detail(r, 409) == "User with this name already exists"
    with pytest.raises(ConflictError):
        honcho.apps.users.create(app_a, name=name)
    assert new_user(http, app_b, name=name)["app_id"] == app_b
    assert ok(http.post(f"/v1/apps/{app_a}/users/list"))["total"] == 1


def test_create_user_in_unknown_app_is_404(honcho: Honcho, http: httpx.Client) -> None:
    # Upstream answers 409 "User with this name already exists" (a foreign-key violation).
    r = http.post("/v1/apps/no-such-app/users", json={"name": uid()})
    assert detail(r, 404) == "App with ID no-such-app not found"
    r = http.get(f"/v1/apps/no-such-app/users/get_or_create/{uid()}")
    assert detail(r, 404) == "App with ID no-such-app not found"
    with pytest.raises(NotFoundError):
        honcho.apps.users.create("no-such-app", name=uid())
    assert ok(http.post("/v1/apps/no-such-app/users/list"))["total"] == 0


def test_get_or_create_user(honcho: Honcho, http: httpx.Client) -> None:
    app = new_app(http)["id"]
    name = uid()
    assert (
        detail(http.get(f"/v1/apps/{app}/users/name/{name}"), 404)
        == f"User with name '{name}' not found"
    )
    created = honcho.apps.users.get_or_create(name, app_id=app)
    assert (created.name, created.metadata, created.app_id) == (name, {}, app)
    again = honcho.apps.users.get_or_create(name, app_id=app)
    assert again.id == created.id


def test_get_or_create_existing_user_keeps_metadata(http: httpx.Client) -> None:
    app = new_app(http)["id"]
    user = new_user(http, app, {"keep": [1]})
    assert ok(http.get(f"/v1/apps/{app}/users/get_or_create/{user['name']}")) == user


def test_get_or_create_user_long_name(honcho: Honcho, http: httpx.Client) -> None:
    app = new_app(http)["id"]
    long_name = "u" * 101
    r = http.get(f"/v1/apps/{app}/users/get_or_create/{long_name}")
    assert isinstance(detail(r, 422), str)
    assert ok(http.post(f"/v1/apps/{app}/users/list"))["total"] == 0
    with pytest.raises(UnprocessableEntityError):
        honcho.apps.users.get_or_create("v" * 300, app_id=app)
    user = new_user(http, app)
    ok(http.put(f"/v1/apps/{app}/users/{user['id']}", json={"name": long_name}))
    assert ok(http.get(f"/v1/apps/{app}/users/get_or_create/{long_name}"))["id"] == user["id"]


def test_list_users_with_filter(honcho: Honcho, http: httpx.Client) -> None:
    app = new_app(http)["id"]
    a = honcho.apps.users.create(app, name=uid(), metadata={"user_key": "user_value"})
    honcho.apps.users.create(app, name=uid(), metadata={"user_key": "other"})
    b = honcho.apps.users.create(app, name=uid(), metadata={"user_key": "user_value", "n": 2})
    page = honcho.apps.users.list(app, filter={"user_key": "user_value"})
    assert [u.id for u in page.items] == [a.id, b.id]
    assert page.items[0].metadata == {"user_key": "user_value"}
    assert page.total == 2
    assert honcho.apps.users.list(app).total == 3
    assert [u.id for u in honcho.apps.users.list(app, reverse=True, size=1).items] == [b.id]


def test_list_users_of_unknown_app_is_empty(http: httpx.Client) -> None:
    assert ok(http.post("/v1/apps/unknown/users/list", json={})) == {
        "items": [],
        "total": 0,
        "page": 1,
        "size": 50,
        "pages": 0,
    }


def test_update_user(honcho: Honcho, http: httpx.Client) -> None:
    app = new_app(http)["id"]
    user = honcho.apps.users.create(app, name=uid(), metadata={"a": 1, "b": 2})
    name = uid()
    updated = honcho.apps.users.update(user.id, app_id=app, name=name, metadata={"b": 3})
    assert (updated.id, updated.name, updated.metadata) == (user.id, name, {"b": 3})
    assert honcho.apps.users.get_by_name(name, app_id=app).metadata == {"b": 3}
    # Absent or null fields stay as they are.
    same = ok(http.put(f"/v1/apps/{app}/users/{user.id}", json={"name": None}))
    assert (same["name"], same["metadata"]) == (name, {"b": 3})


def test_rename_user_to_taken_name_changes_nothing(http: httpx.Client) -> None:
    app = new_app(http)["id"]
    taken = new_user(http, app)
    user = new_user(http, app, {"v": 1})
    r = http.put(
        f"/v1/apps/{app}/users/{user['id']}", json={"name": taken["name"], "metadata": {"v": 2}}
    )
    assert detail(r, 409) == "User update failed - unique constraint violation"
    assert ok(http.get(f"/v1/apps/{app}/users", params={"user_id": user["id"]})) == user


def test_update_unknown_user(http: httpx.Client) -> None:
    app = new_app(http)["id"]
    r = http.put(f"/v1/apps/{app}/users/ghost", json={"name": uid()})
    assert detail(r, 404) == "User with ID 'ghost' not found"
