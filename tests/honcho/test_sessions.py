"""Sessions (reference §5.3, §7.4, §7.5): soft delete, `is_active` listing and clone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from honcho import Honcho, NotFoundError, UnprocessableEntityError

from tests.honcho.support import (
    CREATED_AT,
    SESSION_KEYS,
    World,
    detail,
    error_types,
    new_session,
    new_user,
    new_world,
    ok,
    uid,
)

SESSION_NOT_FOUND = "Session not found or does not belong to user"


def test_create_session(honcho: Honcho, world: World) -> None:
    session = honcho.apps.users.sessions.create(world.user, app_id=world.app)
    assert (session.is_active, session.metadata, session.user_id, session.app_id) == (
        True,
        {},
        world.user,
        world.app,
    )
    with_meta = honcho.apps.users.sessions.create(
        world.user, app_id=world.app, metadata={"topic": "x"}
    )
    assert with_meta.metadata == {"topic": "x"}


def test_session_wire_shape(http: httpx.Client, world: World) -> None:
    body = ok(http.post(world.sessions, json={}))
    assert list(body) == SESSION_KEYS
    assert body["is_active"] is True
    assert CREATED_AT.match(body["created_at"])


def test_create_session_for_unknown_user(http: httpx.Client, world: World) -> None:
    r = http.post(f"/v1/apps/{world.app}/users/ghost/sessions", json={})
    assert detail(r, 404) == "User with ID 'ghost' not found"
    other = new_world(http)
    r = http.post(f"/v1/apps/{other.app}/users/{world.user}/sessions", json={})
    assert detail(r, 404) == f"User with ID '{world.user}' not found"


def test_get_session(honcho: Honcho, http: httpx.Client, world: World) -> None:
    got = honcho.apps.users.sessions.get(world.user, app_id=world.app, session_id=world.session)
    assert (got.id, got.is_active) == (world.session, True)
    r = http.get(world.sessions, params={"session_id": "nope"})
    assert detail(r, 404) == SESSION_NOT_FOUND
    with pytest.raises(NotFoundError):
        honcho.apps.users.sessions.get(world.user, app_id=world.app, session_id="nope")


def test_session_of_another_user_is_not_found(http: httpx.Client, world: World) -> None:
    other_user = new_user(http, world.app)["id"]
    base = f"/v1/apps/{world.app}/users/{other_user}/sessions"
    assert detail(http.get(base, params={"session_id": world.session}), 404) == SESSION_NOT_FOUND
    assert (
        detail(http.put(f"{base}/{world.session}", json={"metadata": {}}), 404) == SESSION_NOT_FOUND
    )
    assert detail(http.delete(f"{base}/{world.session}"), 404) == SESSION_NOT_FOUND
    r = http.post(f"{base}/{world.session}/messages", json={"content": "x", "is_user": True})
    assert detail(r, 404) == SESSION_NOT_FOUND
    assert ok(http.get(world.sessions, params={"session_id": world.session}))["is_active"] is True


def test_list_sessions_with_filter(honcho: Honcho, http: httpx.Client, world: World) -> None:
    a = new_session(http, world.app, world.user, {"topic": "cats", "n": 1})
    new_session(http, world.app, world.user, {"topic": "dogs"})
    b = new_session(http, world.app, world.user, {"topic": "cats"})
    page = honcho.apps.users.sessions.list(world.user, app_id=world.app, filter={"topic": "cats"})
    assert [s.id for s in page.items] == [a["id"], b["id"]]
    assert page.items[0].metadata == {"topic": "cats", "n": 1}
    all_ids = [s.id for s in honcho.apps.users.sessions.list(world.user, app_id=world.app).items]
    assert all_ids[0] == world.session and len(all_ids) == 4


def test_list_sessions_is_active(honcho: Honcho, http: httpx.Client, world: World) -> None:
    second = new_session(http, world.app, world.user)["id"]
    ok(http.delete(f"{world.sessions}/{world.session}"))
    sessions = honcho.apps.users.sessions

    def ids(**kwargs: Any) -> list[str]:
        return [s.id for s in sessions.list(world.user, app_id=world.app, **kwargs).items]

    assert ids() == [world.session, second]
    # `is_active: false` is no filter at all, not "only inactive".
    assert ids(is_active=False) == [world.session, second]
    assert ids(is_active=True) == [second]
    body = ok(http.post(f"{world.sessions}/list", json={"is_active": True, "filter": {}}))
    assert [s["id"] for s in body["items"]] == [second]
    assert error_types(http.post(f"{world.sessions}/list", json={"is_active": None})) == [
        ("bool_type", ("body", "is_active"))
    ]


def test_list_sessions_of_unknown_user_is_empty(http: httpx.Client, world: World) -> None:
    assert ok(http.post(f"/v1/apps/{world.app}/users/ghost/sessions/list"))["total"] == 0


def test_update_session(honcho: Honcho, http: httpx.Client, world: World) -> None:
    path = f"{world.sessions}/{world.session}"
    ok(http.put(path, json={"metadata": {"a": 1, "b": 2}}))
    updated = honcho.apps.users.sessions.update(
        world.session, app_id=world.app, user_id=world.user, metadata={"b": 3}
    )
    assert updated.metadata == {"b": 3}
    assert ok(http.put(path, json={"metadata": {}}))["metadata"] == {}
    assert ok(http.get(world.sessions, params={"session_id": world.session}))["metadata"] == {}


def test_update_session_requires_metadata(honcho: Honcho, http: httpx.Client, world: World) -> None:
    path = f"{world.sessions}/{world.session}"
    assert detail(http.put(path, json={}), 422) == [
        {"type": "missing", "loc": ["body", "metadata"], "msg": "Field required", "input": {}}
    ]
    assert error_types(http.put(path, json={"metadata": None})) == [
        ("dict_type", ("body", "metadata"))
    ]
    assert error_types(http.put(path, json={"metadata": "x"})) == [
        ("dict_type", ("body", "metadata"))
    ]
    with pytest.raises(UnprocessableEntityError):
        honcho.apps.users.sessions.update(
            world.session, app_id=world.app, user_id=world.user, metadata="x"
        )  # type: ignore[arg-type]


def test_update_unknown_session(http: httpx.Client, world: World) -> None:
    assert (
        detail(http.put(f"{world.sessions}/nope", json={"metadata": {}}), 404) == SESSION_NOT_FOUND
    )


def test_delete_session_is_soft_and_idempotent(
    honcho: Honcho, http: httpx.Client, world: World
) -> None:
    result = honcho.apps.users.sessions.delete(world.session, app_id=world.app, user_id=world.user)
    assert result == {"message": "Session deleted successfully"}
    again = http.delete(f"{world.sessions}/{world.session}")
    assert ok(again) == {"message": "Session deleted successfully"}
    got = ok(http.get(world.sessions, params={"session_id": world.session}))
    assert got["is_active"] is False
    assert detail(http.delete(f"{world.sessions}/nope"), 404) == SESSION_NOT_FOUND


def test_inactive_session_stays_writable(http: httpx.Client, world: World) -> None:
    ok(http.delete(f"{world.sessions}/{world.session}"))
    message = ok(http.post(world.messages, json={"content": "still here", "is_user": True}))
    batch = world.add_messages(http, "one", "two")
    ok(http.put(f"{world.messages}/{message['id']}", json={"metadata": {"edited": True}}))
    updated = ok(
        http.put(f"{world.sessions}/{world.session}", json={"metadata": {"after": "delete"}})
    )
    assert (updated["is_active"], updated["metadata"]) == (False, {"after": "delete"})
    meta = {"session_id": world.session, "message_id": message["id"], "label": "l", "content": "c"}
    ok(http.post(world.metamessages, json=meta))
    assert ok(http.post(f"{world.messages}/list"))["total"] == 3
    clone = ok(http.get(f"{world.sessions}/{world.session}/clone"))
    assert clone["is_active"] is True
    clone_messages = ok(http.post(f"{world.sessions}/{clone['id']}/messages/list"))["items"]
    assert [m["content"] for m in clone_messages] == ["still here"] + [m["content"] for m in batch]


# --- clone -----------------------------------------------------------------------------------


def _messages(http: httpx.Client, world: World, session_id: str) -> list[dict[str, Any]]:
    return ok(http.post(f"{world.sessions}/{session_id}/messages/list", params={"size": 100}))[
        "items"
    ]  # type: ignore[no-any-return]


def _metamessages(http: httpx.Client, world: World, session_id: str) -> list[dict[str, Any]]:
    body = ok(http.post(f"{world.metamessages}/list", json={"session_id": session_id}))
    return body["items"]  # type: ignore[no-any-return]


def _seed(http: httpx.Client, world: World) -> list[dict[str, Any]]:
    """Three messages with metadata, in a session with metadata."""
    ok(http.put(f"{world.sessions}/{world.session}", json={"metadata": {"topic": "clone me"}}))
    return [
        ok(
            http.post(
                world.messages, json={"content": f"m{i}", "is_user": i != 1, "metadata": {"i": i}}
            )
        )
        for i in range(3)
    ]


def test_clone_session(honcho: Honcho, http: httpx.Client, world: World) -> None:
    originals = _seed(http, world)
    clone = honcho.apps.users.sessions.clone(world.session, app_id=world.app, user_id=world.user)
    assert clone.id != world.session
    assert (clone.metadata, clone.is_active, clone.user_id) == (
        {"topic": "clone me"},
        True,
        world.user,
    )
    copies = _messages(http, world, clone.id)
    assert [(m["content"], m["is_user"], m["metadata"]) for m in copies] == [
        (m["content"], m["is_user"], m["metadata"]) for m in originals
    ]
    assert {m["id"] for m in copies}.isdisjoint(m["id"] for m in originals)
    assert {m["session_id"] for m in copies} == {clone.id}
    # The clone is written in one transaction: session and messages share one created_at.
    stored = ok(http.get(world.sessions, params={"session_id": clone.id}))
    assert {m["created_at"] for m in copies} == {stored["created_at"]}
    # The source is untouched.
    assert _messages(http, world, world.session) == originals


def test_partial_clone_is_inclusive(http: httpx.Client, world: World) -> None:
    originals = _seed(http, world)
    clone = ok(
        http.get(
            f"{world.sessions}/{world.session}/clone", params={"message_id": originals[1]["id"]}
        )
    )
    assert [m["content"] for m in _messages(http, world, clone["id"])] == ["m0", "m1"]
    clone = ok(
        http.get(
            f"{world.sessions}/{world.session}/clone", params={"message_id": originals[0]["id"]}
        )
    )
    assert [m["content"] for m in _messages(http, world, clone["id"])] == ["m0"]


def _annotate(
    http: httpx.Client, world: World, messages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Metamessages: two on message 0, one on message 2, one on the session, one user-level."""
    specs = [
        {"label": "a", "message_id": messages[0]["id"], "session_id": world.session},
        {"label": "b", "message_id": messages[0]["id"], "session_id": world.session},
        {"label": "c", "message_id": messages[2]["id"], "session_id": world.session},
        {"label": "d", "session_id": world.session},
        {"label": "user-level"},
    ]
    return [
        ok(
            http.post(
                world.metamessages,
                json={**spec, "content": f"about {spec['label']}", "metadata": {"k": i}},
            )
        )
        for i, spec in enumerate(specs)
    ]


def test_deep_clone_session(honcho: Honcho, http: httpx.Client, world: World) -> None:
    originals = _seed(http, world)
    notes = _annotate(http, world, originals)
    clone = honcho.apps.users.sessions.clone(
        world.session, app_id=world.app, user_id=world.user, deep_copy=True
    )
    copies = _messages(http, world, clone.id)
    copied_notes = _metamessages(http, world, clone.id)
    assert [
        (n["label"], n["metamessage_type"], n["content"], n["metadata"]) for n in copied_notes
    ] == [(n["label"], n["label"], n["content"], n["metadata"]) for n in notes[:4]]
    new_id = {o["id"]: c["id"] for o, c in zip(originals, copies, strict=True)}
    assert [n["message_id"] for n in copied_notes] == [
        new_id[originals[0]["id"]],
        new_id[originals[0]["id"]],
        new_id[originals[2]["id"]],
        None,
    ]
    assert {n["session_id"] for n in copied_notes} == {clone.id}
    assert {n["user_id"] for n in copied_notes} == {world.user}
    assert len({n["created_at"] for n in copied_notes} | {m["created_at"] for m in copies}) == 1
    # The originals keep their links and the user-level metamessage is not duplicated.
    assert [n["id"] for n in _metamessages(http, world, world.session)] == [
        n["id"] for n in notes[:4]
    ]
    labels = [
        n["label"]
        for n in ok(http.post(f"{world.metamessages}/list", params={"size": 100}))["items"]
    ]
    assert labels.count("user-level") == 1


def test_partial_deep_clone(http: httpx.Client, world: World) -> None:
    originals = _seed(http, world)
    _annotate(http, world, originals)
    params = {"message_id": originals[0]["id"], "deep_copy": "true"}
    clone = ok(http.get(f"{world.sessions}/{world.session}/clone", params=params))
    copies = _messages(http, world, clone["id"])
    assert [m["content"] for m in copies] == ["m0"]
    copied = _metamessages(http, world, clone["id"])
    # Those on the kept message, and the session-level one; not the one on message 2.
    assert [(n["label"], n["message_id"]) for n in copied] == [
        ("a", copies[0]["id"]),
        ("b", copies[0]["id"]),
        ("d", None),
    ]


def test_clone_without_deep_copy_copies_no_metamessages(http: httpx.Client, world: World) -> None:
    originals = _seed(http, world)
    _annotate(http, world, originals)
    for params in ({}, {"deep_copy": "false"}):
        clone = ok(http.get(f"{world.sessions}/{world.session}/clone", params=params))
        assert _metamessages(http, world, clone["id"]) == []
        assert len(_messages(http, world, clone["id"])) == 3


def test_clone_of_an_empty_session_is_persisted(
    honcho: Honcho, http: httpx.Client, world: World
) -> None:
    # Upstream returns a session that was never committed.
    ok(http.put(f"{world.sessions}/{world.session}", json={"metadata": {"empty": True}}))
    clone = honcho.apps.users.sessions.clone(
        world.session, app_id=world.app, user_id=world.user, deep_copy=True
    )
    stored = ok(http.get(world.sessions, params={"session_id": clone.id}))
    assert (stored["metadata"], stored["is_active"]) == ({"empty": True}, True)
    assert clone.id in [s["id"] for s in ok(http.post(f"{world.sessions}/list"))["items"]]
    assert _messages(http, world, clone.id) == []


def test_clone_of_an_inactive_session(http: httpx.Client, world: World) -> None:
    world.add_messages(http, "x")
    ok(http.delete(f"{world.sessions}/{world.session}"))
    clone = ok(http.get(f"{world.sessions}/{world.session}/clone"))
    assert clone["is_active"] is True
    assert [m["content"] for m in _messages(http, world, clone["id"])] == ["x"]


def test_clone_not_found(honcho: Honcho, http: httpx.Client, world: World) -> None:
    world.add_messages(http, "x")
    other = new_world(http)
    foreign = other.add_messages(http, "y")[0]["id"]
    before = ok(http.post(f"{world.sessions}/list"))["total"]
    stranger = f"/v1/apps/{world.app}/users/{new_user(http, world.app)['id']}/sessions"
    cases = [
        (f"{world.sessions}/nope/clone", {}),
        (f"{stranger}/{world.session}/clone", {}),
        (f"{world.sessions}/{world.session}/clone", {"message_id": "nope"}),
        (f"{world.sessions}/{world.session}/clone", {"message_id": foreign}),
    ]
    for path, params in cases:
        assert detail(http.get(path, params=params), 404) == "Session not found"
    assert ok(http.post(f"{world.sessions}/list"))["total"] == before
    with pytest.raises(NotFoundError):
        honcho.apps.users.sessions.clone("nope", app_id=world.app, user_id=world.user)


def test_clone_deep_copy_validation(http: httpx.Client, world: World) -> None:
    r = http.get(f"{world.sessions}/{world.session}/clone", params={"deep_copy": "perhaps"})
    assert error_types(r) == [("bool_parsing", ("query", "deep_copy"))]


def test_sessions_have_no_name_uniqueness(http: httpx.Client, world: World) -> None:
    first = new_session(http, world.app, world.user, {"same": 1})
    second = new_session(http, world.app, world.user, {"same": 1})
    assert first["id"] != second["id"]
    assert ok(http.post(f"{world.sessions}/list", json={"filter": {"same": 1}}))["total"] == 2


def test_sessions_list_is_scoped_to_the_user(http: httpx.Client, world: World) -> None:
    other = new_user(http, world.app, name=uid())["id"]
    theirs = new_session(http, world.app, other)["id"]
    assert [s["id"] for s in ok(http.post(f"{world.sessions}/list"))["items"]] == [world.session]
    other_list = ok(http.post(f"/v1/apps/{world.app}/users/{other}/sessions/list"))["items"]
    assert [s["id"] for s in other_list] == [theirs]
