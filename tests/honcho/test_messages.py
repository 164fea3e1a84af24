"""Messages (reference §5.4): create, batch, list, get and metadata updates."""

from __future__ import annotations

import httpx
import pytest
from honcho import Honcho, NotFoundError, UnprocessableEntityError

from tests.honcho.support import (
    CREATED_AT,
    MESSAGE_KEYS,
    World,
    detail,
    error_types,
    new_session,
    new_user,
    ok,
)

SESSION_NOT_FOUND = "Session not found or does not belong to user"


def test_create_message(honcho: Honcho, world: World) -> None:
    message = honcho.apps.users.sessions.messages.create(
        world.session,
        app_id=world.app,
        user_id=world.user,
        content="Hello",
        is_user=True,
        metadata={"lang": "en"},
    )
    assert (message.content, message.is_user, message.metadata) == ("Hello", True, {"lang": "en"})
    assert (message.session_id, message.app_id, message.user_id) == (
        world.session,
        world.app,
        world.user,
    )


def test_message_wire_shape(http: httpx.Client, world: World) -> None:
    body = ok(http.post(world.messages, json={"content": "hi", "is_user": False}))
    assert list(body) == MESSAGE_KEYS
    assert (body["metadata"], body["is_user"]) == ({}, False)
    assert CREATED_AT.match(body["created_at"])


def test_empty_content_is_allowed(http: httpx.Client, world: World) -> None:
    assert ok(http.post(world.messages, json={"content": "", "is_user": True}))["content"] == ""


def test_required_fields(http: httpx.Client, world: World) -> None:
    assert detail(http.post(world.messages, json={"is_user": True}), 422) == [
        {
            "type": "missing",
            "loc": ["body", "content"],
            "msg": "Field required",
            "input": {"is_user": True},
        }
    ]
    assert error_types(http.post(world.messages, json={"content": "x"})) == [
        ("missing", ("body", "is_user"))
    ]


def test_create_in_unknown_or_foreign_session(
    honcho: Honcho, http: httpx.Client, world: World
) -> None:
    r = http.post(f"{world.sessions}/nope/messages", json={"content": "x", "is_user": True})
    assert detail(r, 404) == SESSION_NOT_FOUND
    other = new_user(http, world.app)["id"]
    foreign = new_session(http, world.app, other)["id"]
    r = http.post(f"{world.sessions}/{foreign}/messages", json={"content": "x", "is_user": True})
    assert detail(r, 404) == SESSION_NOT_FOUND
    with pytest.raises(NotFoundError):
        honcho.apps.users.sessions.messages.create(
            "nope", app_id=world.app, user_id=world.user, content="x", is_user=True
        )


def test_get_message(honcho: Honcho, http: httpx.Client, world: World) -> None:
    created = ok(
        http.post(world.messages, json={"content": "x", "is_user": True, "metadata": {"a": 1}})
    )
    got = honcho.apps.users.sessions.messages.get(
        created["id"], app_id=world.app, user_id=world.user, session_id=world.session
    )
    assert (got.id, got.content, got.metadata) == (created["id"], "x", {"a": 1})
    assert ok(http.get(f"{world.messages}/{created['id']}")) == created


def test_get_unknown_message(http: httpx.Client, world: World) -> None:
    assert detail(http.get(f"{world.messages}/nope"), 404) == "Message with ID nope not found"
    # A message is only found under its own session.
    created = world.add_messages(http, "x")[0]
    other = new_session(http, world.app, world.user)["id"]
    r = http.get(f"{world.sessions}/{other}/messages/{created['id']}")
    assert detail(r, 404) == f"Message with ID {created['id']} not found"


def test_list_messages_in_insertion_order(honcho: Honcho, http: httpx.Client, world: World) -> None:
    created = [
        ok(http.post(world.messages, json={"content": f"c{i}", "is_user": i % 2 == 0}))
        for i in range(4)
    ]
    page = honcho.apps.users.sessions.messages.list(
        world.session, app_id=world.app, user_id=world.user
    )
    assert [m.id for m in page.items] == [m["id"] for m in created]
    assert page.items[1].metadata == {}
    assert (page.total, page.pages) == (4, 1)
    reverse = honcho.apps.users.sessions.messages.list(
        world.session, app_id=world.app, user_id=world.user, reverse=True
    )
    assert [m.id for m in reverse.items] == [m["id"] for m in reversed(created)]


def test_list_messages_with_filter(honcho: Honcho, http: httpx.Client, world: World) -> None:
    for value in ("value1", "value2", "value2"):
        ok(
            http.post(
                world.messages, json={"content": value, "is_user": True, "metadata": {"key": value}}
            )
        )
    page = honcho.apps.users.sessions.messages.list(
        world.session, app_id=world.app, user_id=world.user, filter={"key": "value2"}, size=1
    )
    assert page.items[0].metadata == {"key": "value2"}
    assert (page.total, page.size, page.pages) == (2, 1, 2)


def test_list_messages_of_unknown_session_is_empty(http: httpx.Client, world: World) -> None:
    world.add_messages(http, "x")
    other_user = new_user(http, world.app)["id"]
    for path in (
        f"{world.sessions}/nope/messages/list",
        f"/v1/apps/{world.app}/users/{other_user}/sessions/{world.session}/messages/list",
    ):
        assert ok(http.post(path, json={})) == {
            "items": [],
            "total": 0,
            "page": 1,
            "size": 50,
            "pages": 0,
        }


def test_update_message_metadata(honcho: Honcho, http: httpx.Client, world: World) -> None:
    created = ok(
        http.post(
            world.messages, json={"content": "x", "is_user": True, "metadata": {"a": 1, "b": 2}}
        )
    )
    updated = honcho.apps.users.sessions.messages.update(
        created["id"],
        app_id=world.app,
        user_id=world.user,
        session_id=world.session,
        metadata={"b": 3},
    )
    assert (updated.id, updated.metadata, updated.content) == (created["id"], {"b": 3}, "x")
    stored = ok(http.get(f"{world.messages}/{created['id']}"))
    assert stored == {**created, "metadata": {"b": 3}}
    assert (
        ok(http.put(f"{world.messages}/{created['id']}", json={"metadata": {}}))["metadata"] == {}
    )


def test_message_content_is_immutable(http: httpx.Client, world: World) -> None:
    created = world.add_messages(http, "original")[0]
    updated = ok(
        http.put(
            f"{world.messages}/{created['id']}", json={"metadata": {"m": 1}, "content": "changed"}
        )
    )
    assert updated["content"] == "original"
    assert {k: v for k, v in updated.items() if k != "metadata"} == {
        k: v for k, v in created.items() if k != "metadata"
    }


def test_update_message_validation(honcho: Honcho, http: httpx.Client, world: World) -> None:
    created = world.add_messages(http, "x")[0]
    path = f"{world.messages}/{created['id']}"
    assert detail(http.put(path, json={"metadata": None}), 422) == [
        {
            "type": "dict_type",
            "loc": ["body", "metadata"],
            "msg": "Input should be a valid dictionary",
            "input": None,
        }
    ]
    assert error_types(http.put(path, json={})) == [("missing", ("body", "metadata"))]
    with pytest.raises(UnprocessableEntityError):
        honcho.apps.users.sessions.messages.update(
            created["id"],
            app_id=world.app,
            user_id=world.user,
            session_id=world.session,
            metadata=None,  # type: ignore[arg-type]
        )
    assert ok(http.get(path)) == created


def test_update_unknown_message(http: httpx.Client, world: World) -> None:
    assert (
        detail(http.put(f"{world.messages}/nope", json={"metadata": {}}), 404)
        == "Message not found"
    )


def test_create_batch(honcho: Honcho, http: httpx.Client, world: World) -> None:
    batch = [{"content": f"b{i}", "is_user": i % 2 == 0, "metadata": {"i": i}} for i in range(3)]
    created = honcho.apps.users.sessions.messages.batch(
        world.session, app_id=world.app, user_id=world.user, messages=batch
    )
    assert [(m.content, m.is_user, m.metadata, m.session_id) for m in created] == [
        (b["content"], b["is_user"], b["metadata"], world.session) for b in batch
    ]
    listed = ok(http.post(f"{world.messages}/list"))
    assert [m["id"] for m in listed["items"]] == [m.id for m in created]
    # One transaction: every row of the batch shares one created_at.
    assert len({m["created_at"] for m in listed["items"]}) == 1
    assert all(list(m) == MESSAGE_KEYS for m in listed["items"])


def test_batch_keeps_array_order(http: httpx.Client, world: World) -> None:
    contents = [f"{i:03d}" for i in range(100)][::-1]
    created = world.add_messages(http, *contents)
    assert [m["content"] for m in created] == contents
    listed = ok(http.post(f"{world.messages}/list", params={"size": 100}))["items"]
    assert [m["content"] for m in listed] == contents


def test_batch_in_unknown_session_stores_nothing(http: httpx.Client, world: World) -> None:
    r = http.post(
        f"{world.sessions}/nope/messages/batch",
        json={"messages": [{"content": "x", "is_user": True}]},
    )
    assert detail(r, 404) == SESSION_NOT_FOUND


def test_batch_with_one_invalid_message_stores_none(http: httpx.Client, world: World) -> None:
    batch = [
        {"content": "fine", "is_user": True},
        {"content": "x" * 50_001, "is_user": False},
        {"content": "fine", "is_user": True},
    ]
    assert error_types(http.post(f"{world.messages}/batch", json={"messages": batch})) == [
        ("string_too_long", ("body", "messages", 1, "content"))
    ]
    batch[1] = {"content": "no is_user"}
    assert error_types(http.post(f"{world.messages}/batch", json={"messages": batch})) == [
        ("missing", ("body", "messages", 1, "is_user"))
    ]
    assert ok(http.post(f"{world.messages}/list"))["total"] == 0


def test_batch_body_validation(http: httpx.Client, world: World) -> None:
    path = f"{world.messages}/batch"
    assert error_types(http.post(path, json={})) == [("missing", ("body", "messages"))]
    assert error_types(http.post(path, json={"messages": "x"})) == [
        ("list_type", ("body", "messages"))
    ]
    assert error_types(http.post(path, json=[{"content": "x", "is_user": True}])) == [
        ("model_attributes_type", ("body",))
    ]
