"""Apps (reference §5.1): the honcho-ai client end to end, raw HTTP for exact errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from honcho import ConflictError, Honcho, NotFoundError, UnprocessableEntityError

from tests.honcho.support import (
    APP_KEYS,
    CREATED_AT,
    PUBLIC_ID,
    detail,
    error_types,
    new_app,
    ok,
    uid,
)


def test_create_app(honcho: Honcho) -> None:
    name = uid()
    app = honcho.apps.create(name=name, metadata={"k": "v", "n": [1, {"x": None}]})
    assert app.name == name
    assert app.metadata == {"k": "v", "n": [1, {"x": None}]}
    assert PUBLIC_ID.match(app.id)
    assert app.created_at.tzinfo is not None


def test_create_app_wire_shape(http: httpx.Client) -> None:
    name = uid()
    r = http.post("/v1/apps", json={"name": name})
    body = ok(r)
    assert r.headers["content-type"] == "application/json"
    assert list(body) == APP_KEYS
    assert body["name"] == name
    assert body["metadata"] == {}
    assert CREATED_AT.match(body["created_at"])


def test_get_app_by_id(honcho: Honcho) -> None:
    created = honcho.apps.create(name=uid(), metadata={"a": 1})
    got = honcho.apps.get(app_id=created.id)
    assert (got.id, got.name, got.metadata, got.created_at) == (
        created.id,
        created.name,
        {"a": 1},
        created.created_at,
    )


def test_get_unknown_app(honcho: Honcho, http: httpx.Client) -> None:
    assert (
        detail(http.get("/v1/apps", params={"app_id": "missing"}), 404)
        == "App with ID missing not found"
    )
    with pytest.raises(NotFoundError):
        honcho.apps.get(app_id="missing")


def test_get_app_by_name(honcho: Honcho, http: httpx.Client) -> None:
    created = honcho.apps.create(name=uid())
    assert honcho.apps.get_by_name(name=created.name).id == created.id
    name = uid()
    assert detail(http.get(f"/v1/apps/name/{name}"), 404) == f"App with name '{name}' not found"
    with pytest.raises(NotFoundError):
        honcho.apps.get_by_name(name=name)


def test_names_are_case_sensitive(http: httpx.Client) -> None:
    base = uid("Case")
    upper = new_app(http)
    lower_a = ok(http.post("/v1/apps", json={"name": base}))
    lower_b = ok(http.post("/v1/apps", json={"name": base.lower()}))
    assert lower_a["id"] != lower_b["id"] != upper["id"]
    assert ok(http.get(f"/v1/apps/name/{base}"))["id"] == lower_a["id"]
    assert ok(http.get(f"/v1/apps/name/{base.lower()}"))["id"] == lower_b["id"]


def test_unicode_and_spaces_in_names(http: httpx.Client) -> None:
    name = f"Приложение {uid()} ✓"
    created = ok(http.post("/v1/apps", json={"name": name}))
    assert ok(http.get(f"/v1/apps/name/{name}"))["id"] == created["id"]


def test_get_or_create_app(honcho: Honcho, http: httpx.Client) -> None:
    name = uid()
    assert detail(http.get(f"/v1/apps/name/{name}"), 404) == f"App with name '{name}' not found"
    created = honcho.apps.get_or_create(name=name)
    assert (created.name, created.metadata) == (name, {})
    assert honcho.apps.get_by_name(name=name).id == created.id


def test_get_or_create_existing_app_is_unchanged(honcho: Honcho) -> None:
    existing = honcho.apps.create(name=uid(), metadata={"keep": True})
    again = honcho.apps.get_or_create(name=existing.name)
    assert (again.id, again.name, again.metadata, again.created_at) == (
        existing.id,
        existing.name,
        {"keep": True},
        existing.created_at,
    )


def test_get_or_create_is_a_get(http: httpx.Client) -> None:
    name = uid()
    first = ok(http.get(f"/v1/apps/get_or_create/{name}"))
    assert list(first) == APP_KEYS
    assert ok(http.get(f"/v1/apps/get_or_create/{name}")) == first


def test_create_duplicate_app_name(honcho: Honcho, http: httpx.Client) -> None:
    name = uid()
    honcho.apps.create(name=name)
    assert (
        detail(http.post("/v1/apps", json={"name": name}), 409)
        == f"App with name '{name}' already exists"
    )
    with pytest.raises(ConflictError):
        honcho.apps.create(name=name)
    listed = ok(http.post("/v1/apps/list", json={"filter": {}}, params={"size": 100}))
    assert [a["name"] for a in listed["items"]].count(name) == 1


def test_list_apps_with_filter(honcho: Honcho) -> None:
    tag = uid()
    a = honcho.apps.create(name=uid(), metadata={"tag": tag, "n": 1})
    honcho.apps.create(name=uid(), metadata={"tag": "other"})
    b = honcho.apps.create(name=uid(), metadata={"tag": tag, "n": 2})
    page = honcho.apps.list(filter={"tag": tag})
    assert [x.id for x in page.items] == [a.id, b.id]
    assert page.items[0].metadata == {"tag": tag, "n": 1}
    assert (page.total, page.page, page.size, page.pages) == (2, 1, 50, 1)
    assert [x.id for x in honcho.apps.list(filter={"tag": tag}, reverse=True).items] == [b.id, a.id]
    assert [x.id for x in honcho.apps.list(filter={"tag": tag, "n": 2}).items] == [b.id]


def test_list_apps_without_body(http: httpx.Client) -> None:
    new_app(http)
    body = ok(http.post("/v1/apps/list"))
    assert body["total"] >= 1
    assert len(body["items"]) == min(body["total"], 50)


def test_list_apps_total_counts_every_app(http: httpx.Client) -> None:
    made = [new_app(http)["id"] for _ in range(3)]
    first = ok(http.post("/v1/apps/list", params={"size": 2}))
    seen = [
        a["id"]
        for page in range(1, first["pages"] + 1)
        for a in ok(http.post("/v1/apps/list", params={"size": 2, "page": page}))["items"]
    ]
    assert len(seen) == len(set(seen)) == first["total"]
    assert seen[-3:] == made
    newest = ok(http.post("/v1/apps/list", params={"size": 3, "reverse": True}))["items"]
    assert [a["id"] for a in newest] == made[::-1]


def test_update_app(honcho: Honcho) -> None:
    app = honcho.apps.create(name=uid(), metadata={"old": 1, "shared": "a"})
    new_name = uid()
    updated = honcho.apps.update(app.id, name=new_name, metadata={"shared": "b"})
    assert (updated.id, updated.name, updated.metadata) == (app.id, new_name, {"shared": "b"})
    assert updated.created_at == app.created_at
    assert honcho.apps.get(app_id=app.id).metadata == {"shared": "b"}
    assert honcho.apps.get_by_name(name=new_name).id == app.id


@pytest.mark.parametrize("body", [{}, {"name": None, "metadata": None}])
def test_update_app_with_nothing_changes_nothing(http: httpx.Client, body: dict[str, Any]) -> None:
    app = new_app(http, {"k": 1})
    assert ok(http.put(f"/v1/apps/{app['id']}", json=body)) == app


def test_update_app_metadata_only_or_name_only(http: httpx.Client) -> None:
    app = new_app(http, {"k": 1})
    after = ok(http.put(f"/v1/apps/{app['id']}", json={"metadata": {}}))
    assert (after["name"], after["metadata"]) == (app["name"], {})
    name = uid()
    after = ok(http.put(f"/v1/apps/{app['id']}", json={"name": name}))
    assert (after["name"], after["metadata"]) == (name, {})


def test_update_app_requires_a_body(http: httpx.Client) -> None:
    app = new_app(http)
    assert error_types(http.put(f"/v1/apps/{app['id']}")) == [("missing", ("body",))]


def test_rename_to_its_own_name(http: httpx.Client) -> None:
    app = new_app(http, {"k": 1})
    assert ok(http.put(f"/v1/apps/{app['id']}", json={"name": app["name"], "metadata": {"k": 2}}))[
        "metadata"
    ] == {"k": 2}


def test_update_unknown_app(http: httpx.Client) -> None:
    assert (
        detail(http.put("/v1/apps/nope", json={"name": uid()}), 404) == "App with ID nope not found"
    )


def test_rename_to_a_taken_name_changes_nothing(honcho: Honcho, http: httpx.Client) -> None:
    taken = new_app(http)
    app = new_app(http, {"before": True})
    r = http.put(f"/v1/apps/{app['id']}", json={"name": taken["name"], "metadata": {"after": True}})
    assert detail(r, 409) == "App update failed - unique constraint violation"
    assert ok(http.get("/v1/apps", params={"app_id": app["id"]})) == app
    with pytest.raises(ConflictError):
        honcho.apps.update(app["id"], name=taken["name"])


def test_get_or_create_long_name(http: httpx.Client) -> None:
    long_name = "n" * 101 + uid()
    r = http.get(f"/v1/apps/get_or_create/{long_name}")
    assert isinstance(detail(r, 422), str)
    assert (
        detail(http.get(f"/v1/apps/name/{long_name}"), 404)
        == f"App with name '{long_name}' not found"
    )
    # An existing long name (reachable by renaming) is simply returned.
    app = new_app(http)
    ok(http.put(f"/v1/apps/{app['id']}", json={"name": long_name}))
    assert ok(http.get(f"/v1/apps/get_or_create/{long_name}"))["id"] == app["id"]


def test_get_or_create_long_name_through_the_client(honcho: Honcho) -> None:
    with pytest.raises(UnprocessableEntityError):
        honcho.apps.get_or_create(name="x" * 150)
