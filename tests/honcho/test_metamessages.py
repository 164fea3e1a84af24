"""Metamessages (reference §5.5): the label/metamessage_type alias, link rules and listing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from honcho import Honcho, NotFoundError, UnprocessableEntityError

from tests.honcho.support import (
    CREATED_AT,
    METAMESSAGE_KEYS,
    World,
    detail,
    error_types,
    new_session,
    new_user,
    new_world,
    ok,
)

SESSION_NOT_FOUND = "Session not found or does not belong to user"


def _create(http: httpx.Client, world: World, **body: Any) -> dict[str, Any]:
    body.setdefault("content", "c")
    return ok(http.post(world.metamessages, json=body))  # type: ignore[no-any-return]


def test_create_metamessage(honcho: Honcho, http: httpx.Client, world: World) -> None:
    message = world.add_messages(http, "hello")[0]
    meta = honcho.apps.users.metamessages.create(
        world.user,
        app_id=world.app,
        content="thought",
        metamessage_type="thinking",
        session_id=world.session,
        message_id=message["id"],
        metadata={"score": 0.5},
    )
    assert (meta.label, meta.metamessage_type, meta.content) == ("thinking", "thinking", "thought")
    assert (meta.user_id, meta.app_id, meta.session_id, meta.message_id) == (
        world.user,
        world.app,
        world.session,
        message["id"],
    )
    assert meta.metadata == {"score": 0.5}


def test_metamessage_wire_shape(http: httpx.Client, world: World) -> None:
    body = _create(http, world, label="l")
    assert list(body) == METAMESSAGE_KEYS
    assert (body["label"], body["metamessage_type"], body["session_id"], body["message_id"]) == (
        "l",
        "l",
        None,
        None,
    )
    assert CREATED_AT.match(body["created_at"])


def test_label_and_alias(http: httpx.Client, world: World) -> None:
    via_label = _create(http, world, label="same")
    via_alias = _create(http, world, metamessage_type="same")
    assert (via_label["label"], via_label["metamessage_type"]) == (
        via_alias["label"],
        via_alias["metamessage_type"],
    )
    # With both keys, `metamessage_type` wins.
    both = _create(http, world, label="from-label", metamessage_type="from-alias")
    assert (both["label"], both["metamessage_type"]) == ("from-alias", "from-alias")


def test_missing_label_reports_the_alias(http: httpx.Client, world: World) -> None:
    assert detail(http.post(world.metamessages, json={"content": "x"}), 422) == [
        {
            "type": "missing",
            "loc": ["body", "metamessage_type"],
            "msg": "Field required",
            "input": {"content": "x"},
        }
    ]
    assert error_types(http.post(world.metamessages, json={"label": "x"})) == [
        ("missing", ("body", "content"))
    ]


def test_get_metamessage(honcho: Honcho, http: httpx.Client, world: World) -> None:
    created = _create(http, world, label="l", session_id=world.session, metadata={"a": 1})
    got = honcho.apps.users.metamessages.get(created["id"], app_id=world.app, user_id=world.user)
    assert (got.id, got.label, got.session_id, got.app_id, got.metadata) == (
        created["id"],
        "l",
        world.session,
        world.app,
        {"a": 1},
    )
    assert ok(http.get(f"{world.metamessages}/{created['id']}")) == created


def test_get_unknown_metamessage(honcho: Honcho, http: httpx.Client, world: World) -> None:
    assert (
        detail(http.get(f"{world.metamessages}/nope"), 404) == "Metamessage with ID nope not found"
    )
    created = _create(http, world, label="l")
    other = new_user(http, world.app)["id"]
    r = http.get(f"/v1/apps/{world.app}/users/{other}/metamessages/{created['id']}")
    assert detail(r, 404) == f"Metamessage with ID {created['id']} not found"
    with pytest.raises(NotFoundError):
        honcho.apps.users.metamessages.get("nope", app_id=world.app, user_id=world.user)


def test_user_level_metamessage(honcho: Honcho, world: World) -> None:
    meta = honcho.apps.users.metamessages.create(
        world.user, app_id=world.app, content="c", metamessage_type="profile"
    )
    assert (meta.session_id, meta.message_id) == (None, None)


def test_create_rules(http: httpx.Client, world: World) -> None:
    message = world.add_messages(http, "x")[0]
    other_session = new_session(http, world.app, world.user)["id"]
    foreign = new_world(http)
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        (
            f"/v1/apps/{world.app}/users/ghost/metamessages",
            {"session_id": "nope"},
            404,
            "User with ID 'ghost' not found",
        ),
        (world.metamessages, {"session_id": "nope"}, 404, SESSION_NOT_FOUND),
        (world.metamessages, {"session_id": foreign.session}, 404, SESSION_NOT_FOUND),
        (
            world.metamessages,
            {"session_id": other_session, "message_id": message["id"]},
            404,
            "Message not found or does not belong to session",
        ),
        (
            world.metamessages,
            {"session_id": world.session, "message_id": "nope"},
            404,
            "Message not found or does not belong to session",
        ),
        (
            world.metamessages,
            {"message_id": message["id"]},
            422,
            "Cannot specify message_id without session_id",
        ),
    ]
    for path, links, status, message_text in cases:
        r = http.post(path, json={"label": "l", "content": "c", **links})
        assert detail(r, status) == message_text
    assert ok(http.post(f"{world.metamessages}/list"))["total"] == 0


def test_empty_link_ids_count_as_absent(http: httpx.Client, world: World) -> None:
    created = _create(http, world, label="l", session_id="", message_id="")
    assert (created["session_id"], created["message_id"]) == (None, None)


def test_list_metamessages(honcho: Honcho, http: httpx.Client, world: World) -> None:
    message = world.add_messages(http, "x")[0]
    second = new_session(http, world.app, world.user)["id"]
    a = _create(http, world, label="test_type", session_id=world.session)
    b = _create(http, world, label="test_type", session_id=world.session, message_id=message["id"])
    _create(http, world, label="other_type", session_id=world.session)
    c = _create(http, world, label="test_type", session_id=second)
    d = _create(http, world, label="test_type")
    metamessages = honcho.apps.users.metamessages

    def ids(**kwargs: Any) -> list[str]:
        return [m.id for m in metamessages.list(world.user, app_id=world.app, **kwargs).items]

    assert ids(session_id=world.session, metamessage_type="test_type") == [a["id"], b["id"]]
    assert ids(metamessage_type="test_type") == [a["id"], b["id"], c["id"], d["id"]]
    assert ids(message_id=message["id"]) == [b["id"]]
    assert ids(session_id=second) == [c["id"]]
    assert len(ids()) == 5
    assert ids(metamessage_type="test_type", reverse=True, size=2) == [d["id"], c["id"]]
    # Raw: the `label` key, empty strings as absent, and the alias winning over `label`.
    body = ok(
        http.post(f"{world.metamessages}/list", json={"label": "other_type", "session_id": ""})
    )
    assert [m["label"] for m in body["items"]] == ["other_type"]
    body = ok(
        http.post(
            f"{world.metamessages}/list",
            json={"label": "other_type", "metamessage_type": "test_type"},
        )
    )
    assert body["total"] == 4
    body = ok(http.post(f"{world.metamessages}/list", json={"label": "", "message_id": ""}))
    assert body["total"] == 5


def test_list_metamessages_with_filter(http: httpx.Client, world: World) -> None:
    _create(http, world, label="l", metadata={"k": 1})
    wanted = _create(http, world, label="l", metadata={"k": 2, "extra": True})
    body = ok(http.post(f"{world.metamessages}/list", json={"filter": {"k": 2}}))
    assert body["items"] == [wanted]


def test_list_is_scoped_to_the_user(http: httpx.Client, world: World) -> None:
    _create(http, world, label="l")
    other = new_user(http, world.app)["id"]
    assert ok(http.post(f"/v1/apps/{world.app}/users/{other}/metamessages/list"))["total"] == 0
    assert ok(http.post(f"/v1/apps/{world.app}/users/ghost/metamessages/list"))["total"] == 0


def test_update_metamessage(honcho: Honcho, http: httpx.Client, world: World) -> None:
    message = world.add_messages(http, "x")[0]
    created = _create(
        http,
        world,
        label="before",
        session_id=world.session,
        message_id=message["id"],
        metadata={"a": 1},
    )
    updated = honcho.apps.users.metamessages.update(
        created["id"],
        app_id=world.app,
        user_id=world.user,
        metamessage_type="after",
        metadata={"b": 2},
    )
    assert (updated.label, updated.metamessage_type, updated.metadata) == (
        "after",
        "after",
        {"b": 2},
    )
    assert (updated.session_id, updated.message_id, updated.content) == (
        world.session,
        message["id"],
        "c",
    )
    via_label = ok(http.put(f"{world.metamessages}/{created['id']}", json={"label": "third"}))
    assert (via_label["label"], via_label["metadata"]) == ("third", {"b": 2})


def test_update_with_nothing_or_nulls_changes_nothing(http: httpx.Client, world: World) -> None:
    created = _create(http, world, label="l", session_id=world.session, metadata={"a": 1})
    for body in ({}, {"session_id": None, "message_id": None, "label": None, "metadata": None}):
        assert ok(http.put(f"{world.metamessages}/{created['id']}", json=body)) == created


def test_update_label_has_no_minimum(http: httpx.Client, world: World) -> None:
    created = _create(http, world, label="l")
    updated = ok(http.put(f"{world.metamessages}/{created['id']}", json={"label": ""}))
    assert (updated["label"], updated["metamessage_type"]) == ("", "")


def test_update_links(http: httpx.Client, world: World) -> None:
    first, second = world.add_messages(http, "one", "two")
    created = _create(http, world, label="l")
    path = f"{world.metamessages}/{created['id']}"
    moved = ok(http.put(path, json={"session_id": world.session}))
    assert (moved["session_id"], moved["message_id"]) == (world.session, None)
    # message_id alone uses the metamessage's current session.
    linked = ok(http.put(path, json={"message_id": first["id"]}))
    assert (linked["session_id"], linked["message_id"]) == (world.session, first["id"])
    relinked = ok(http.put(path, json={"session_id": world.session, "message_id": second["id"]}))
    assert relinked["message_id"] == second["id"]


def test_update_to_a_foreign_or_unknown_session_is_404(http: httpx.Client, world: World) -> None:
    # Upstream accepts another user's session and answers 500 for an unknown one.
    created = _create(http, world, label="l")
    other_user = new_user(http, world.app)["id"]
    foreign = new_session(http, world.app, other_user)["id"]
    path = f"{world.metamessages}/{created['id']}"
    for session_id in (foreign, "nope"):
        assert (
            detail(http.put(path, json={"session_id": session_id, "metadata": {"x": 1}}), 404)
            == SESSION_NOT_FOUND
        )
    assert ok(http.get(path)) == created


def test_update_message_rules(honcho: Honcho, http: httpx.Client, world: World) -> None:
    message = world.add_messages(http, "x")[0]
    other_session = new_session(http, world.app, world.user)["id"]
    user_level = _create(http, world, label="l")
    path = f"{world.metamessages}/{user_level['id']}"
    r = http.put(path, json={"message_id": message["id"], "label": "changed"})
    assert detail(r, 422) == "Cannot specify message_id without session_id"
    r = http.put(path, json={"session_id": other_session, "message_id": message["id"]})
    assert detail(r, 404) == "Message not found or doesn't belong to session"
    with pytest.raises(UnprocessableEntityError):
        honcho.apps.users.metamessages.update(
            user_level["id"], app_id=world.app, user_id=world.user, message_id=message["id"]
        )
    assert ok(http.get(path)) == user_level


def test_update_session_away_from_its_message_is_refused(http: httpx.Client, world: World) -> None:
    message = world.add_messages(http, "x")[0]
    other_session = new_session(http, world.app, world.user)["id"]
    created = _create(http, world, label="l", session_id=world.session, message_id=message["id"])
    r = http.put(f"{world.metamessages}/{created['id']}", json={"session_id": other_session})
    assert detail(r, 422) == "The metamessage's message does not belong to the new session"
    assert ok(http.get(f"{world.metamessages}/{created['id']}")) == created


def test_update_unknown_metamessage(http: httpx.Client, world: World) -> None:
    r = http.put(f"{world.metamessages}/nope", json={"label": "x"})
    assert detail(r, 404) == "Metamessage with ID nope not found"


def test_metamessage_content_is_immutable(http: httpx.Client, world: World) -> None:
    created = _create(http, world, label="l", content="original")
    updated = ok(
        http.put(
            f"{world.metamessages}/{created['id']}",
            json={"content": "changed", "metadata": {"m": 1}},
        )
    )
    assert updated["content"] == "original"
