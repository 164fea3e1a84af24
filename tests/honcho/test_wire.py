"""Wire conventions of the Honcho v1 surface (reference §1, §2, §4.5): routing, bodies, errors,
pagination envelopes and timestamps, checked with raw HTTP."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter

from mindkeeper.http.honcho_v1.mapping import timestamp
from tests.conftest import LiveServer
from tests.honcho.support import (
    CREATED_AT,
    PAGE_KEYS,
    World,
    detail,
    error_types,
    new_app,
    ok,
    uid,
)

# --- routing ---------------------------------------------------------------------------------


def test_unknown_path_is_404_not_found(http: httpx.Client) -> None:
    assert detail(http.get("/v1/nothing-here"), 404) == "Not Found"
    assert detail(http.post("/v2/apps", json={"name": "x"}), 404) == "Not Found"


def test_chat_stream_path_does_not_exist(http: httpx.Client, world: World) -> None:
    r = http.post(f"{world.sessions}/{world.session}/chat/stream", json={"queries": "hi"})
    assert detail(r, 404) == "Not Found"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/v1/apps/{app}", {"PUT"}),
        ("DELETE", "/v1/apps/{app}", {"PUT"}),
        ("DELETE", "/v1/apps/{app}/users/{user}", {"PUT"}),
        ("DELETE", "/v1/apps/{app}/users/{user}/sessions/{session}/messages/m", {"GET", "PUT"}),
        ("DELETE", "/v1/apps/{app}/users/{user}/metamessages/m", {"GET", "PUT"}),
        ("GET", "/v1/apps/list", {"POST"}),
        ("GET", "/v1/keys", {"POST"}),
        ("PATCH", "/v1/apps/{app}/users/{user}/sessions/{session}", {"PUT", "DELETE"}),
    ],
)
def test_wrong_method_is_405_with_allow_header(
    http: httpx.Client, world: World, method: str, path: str, allow: set[str]
) -> None:
    url = path.format(app=world.app, user=world.user, session=world.session)
    r = http.request(method, url)
    assert detail(r, 405) == "Method Not Allowed"
    # Starlette names the methods of the first route matching the path (as upstream).
    allowed = {m.strip() for m in r.headers["allow"].split(",")}
    assert allowed and allowed <= allow


def test_trailing_slash_redirects_with_307(
    api: LiveServer, http: httpx.Client, world: World
) -> None:
    r = http.get(f"/v1/apps/?app_id={world.app}", follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"] == f"{api.url}/v1/apps?app_id={world.app}"
    assert r.content == b""
    r = http.post("/v1/apps/", json={"name": uid()}, follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"].endswith("/v1/apps")


def test_literal_segments_win_and_others_are_ids(http: httpx.Client) -> None:
    # `PUT /v1/apps/list` addresses an app whose id is "list".
    assert detail(http.put("/v1/apps/list", json={}), 404) == "App with ID list not found"


def test_ids_are_not_format_validated(http: httpx.Client, world: World) -> None:
    assert detail(http.get("/v1/apps", params={"app_id": "not/an id!"}), 404) == (
        "App with ID not/an id! not found"
    )
    r = http.post(f"/v1/apps/{world.app}/users/%20/sessions/list", json={})
    assert ok(r)["total"] == 0


# --- single GETs that would read the id from a key (auth off) -------------------------------


@pytest.mark.parametrize("empty", [None, ""])
def test_single_gets_without_id_are_401(
    http: httpx.Client, world: World, empty: str | None
) -> None:
    cases = [
        ("/v1/apps", "app_id", "App ID not found in query parameter or JWT"),
        (world.users, "user_id", "User ID not found in query parameter or JWT"),
        (world.sessions, "session_id", "Session ID not found in query parameter or JWT"),
        (world.collections, "collection_id", "Collection ID not found in query parameter or JWT"),
    ]
    for path, param, message in cases:
        params = {} if empty is None else {param: empty}
        r = http.get(path, params=params)
        assert detail(r, 401) == message
        assert "www-authenticate" not in r.headers


def test_keys_are_disabled_without_auth(http: httpx.Client, world: World) -> None:
    assert detail(http.post("/v1/keys"), 405) == "Feature is disabled"
    r = http.post("/v1/keys", params={"app_id": world.app, "user_id": world.user})
    assert detail(r, 405) == "Feature is disabled"


def test_keys_disabled_through_the_client(honcho: Any, world: World) -> None:
    from honcho import APIStatusError

    with pytest.raises(APIStatusError) as caught:
        honcho.keys.create(app_id=world.app)
    assert caught.value.status_code == 405
    assert caught.value.body == {"detail": "Feature is disabled"}


def test_authorization_header_is_ignored_without_auth(http: httpx.Client, world: World) -> None:
    r = http.get("/v1/apps", params={"app_id": world.app}, headers={"Authorization": "Bearer x"})
    assert ok(r)["id"] == world.app


# --- request bodies --------------------------------------------------------------------------


def test_malformed_json_is_json_invalid(http: httpx.Client) -> None:
    r = http.post("/v1/apps", content=b'{"name": ', headers={"content-type": "application/json"})
    assert detail(r, 422) == [
        {
            "type": "json_invalid",
            "loc": ["body", 9],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": "Expecting value"},
        }
    ]


def test_malformed_json_is_reported_before_other_checks(http: httpx.Client) -> None:
    r = http.post(
        "/v1/apps/unknown/users", content=b"{,}", headers={"content-type": "application/json"}
    )
    errors = detail(r, 422)
    assert [e["type"] for e in errors] == ["json_invalid"]
    assert errors[0]["ctx"]["error"].startswith("Expecting property name")


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (None, {}),
        (b"", {"content-type": "application/json"}),
        (b"null", {"content-type": "application/json"}),
    ],
    ids=["no-body", "empty-json", "literal-null"],
)
def test_missing_required_body(
    http: httpx.Client, content: bytes | None, headers: dict[str, str]
) -> None:
    r = http.post("/v1/apps", content=content, headers=headers)
    assert detail(r, 422) == [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
    ]


def test_session_create_requires_a_body(http: httpx.Client, world: World) -> None:
    assert error_types(http.post(world.sessions)) == [("missing", ("body",))]
    assert ok(http.post(world.sessions, json={}))["metadata"] == {}


@pytest.mark.parametrize("body", [[1], "text", 5, True])
def test_non_object_body(http: httpx.Client, body: Any) -> None:
    assert detail(http.post("/v1/apps", json=body), 422) == [
        {
            "type": "model_attributes_type",
            "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "input": body,
        }
    ]


def test_text_plain_body_is_raw_text(http: httpx.Client) -> None:
    raw = json.dumps({"name": uid()})
    r = http.post("/v1/apps", content=raw.encode(), headers={"content-type": "text/plain"})
    assert detail(r, 422) == [
        {
            "type": "model_attributes_type",
            "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "input": raw,
        }
    ]


def test_json_content_types(http: httpx.Client) -> None:
    for content_type in (
        "application/json",
        "application/vnd.api+json",
        "application/json; charset=utf-8",
    ):
        name = uid()
        r = http.post(
            "/v1/apps", content=json.dumps({"name": name}), headers={"content-type": content_type}
        )
        assert ok(r)["name"] == name


def test_body_without_content_type_is_json(http: httpx.Client) -> None:
    name = uid()
    request = http.build_request("POST", "/v1/apps", content=json.dumps({"name": name}).encode())
    request.headers.pop("content-type", None)
    assert "content-type" not in request.headers
    assert ok(http.send(request))["name"] == name


def test_extra_fields_and_query_parameters_are_ignored(http: httpx.Client) -> None:
    name = uid()
    body = {"name": name, "id": "x" * 21, "created_at": "2000-01-01T00:00:00Z", "other": [1]}
    app = ok(http.post("/v1/apps", json=body, params={"unknown": "1"}))
    assert app["id"] != "x" * 21
    assert app["created_at"] != "2000-01-01T00:00:00Z"
    assert list(app) == ["id", "name", "metadata", "created_at"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("yes", True),
        ("true", True),
        ("on", True),
        (1, True),
        ("1", True),
        ("no", False),
        ("off", False),
        (0, False),
        ("f", False),
    ],
)
def test_lax_bool_coercion(http: httpx.Client, world: World, value: Any, expected: bool) -> None:
    message = ok(http.post(world.messages, json={"content": "x", "is_user": value}))
    assert message["is_user"] is expected


@pytest.mark.parametrize("value", ["not a bool", 2, 0.5, [], {}])
def test_bool_parsing_errors(http: httpx.Client, world: World, value: Any) -> None:
    errors = detail(http.post(world.messages, json={"content": "x", "is_user": value}), 422)
    assert [(e["type"], e["loc"]) for e in errors] in (
        [("bool_parsing", ["body", "is_user"])],
        [("bool_type", ["body", "is_user"])],
    )
    if value == "not a bool":
        assert errors == [
            {
                "type": "bool_parsing",
                "loc": ["body", "is_user"],
                "msg": "Input should be a valid boolean, unable to interpret input",
                "input": "not a bool",
            }
        ]


def test_strings_are_not_coerced_from_numbers(http: httpx.Client, world: World) -> None:
    assert detail(http.post("/v1/apps", json={"name": 5}), 422) == [
        {
            "type": "string_type",
            "loc": ["body", "name"],
            "msg": "Input should be a valid string",
            "input": 5,
        }
    ]
    r = http.post(world.messages, json={"content": 5, "is_user": True})
    assert error_types(r) == [("string_type", ("body", "content"))]


def test_metadata_null_on_create_is_dict_type(http: httpx.Client, world: World) -> None:
    expected = [
        {
            "type": "dict_type",
            "loc": ["body", "metadata"],
            "msg": "Input should be a valid dictionary",
            "input": None,
        }
    ]
    assert detail(http.post("/v1/apps", json={"name": uid(), "metadata": None}), 422) == expected
    assert detail(http.post(world.users, json={"name": uid(), "metadata": None}), 422) == expected
    assert detail(http.post(world.sessions, json={"metadata": None}), 422) == expected
    r = http.post(world.messages, json={"content": "x", "is_user": True, "metadata": None})
    assert detail(r, 422) == expected
    assert (
        detail(http.post(world.collections, json={"name": uid(), "metadata": None}), 422)
        == expected
    )


@pytest.mark.parametrize("metadata", ["not a dict", [1, 2], 3, True])
def test_metadata_must_be_an_object(http: httpx.Client, world: World, metadata: Any) -> None:
    assert detail(http.post("/v1/apps", json={"name": uid(), "metadata": metadata}), 422) == [
        {
            "type": "dict_type",
            "loc": ["body", "metadata"],
            "msg": "Input should be a valid dictionary",
            "input": metadata,
        }
    ]
    r = http.put(f"{world.sessions}/{world.session}", json={"metadata": metadata})
    assert error_types(r) == [("dict_type", ("body", "metadata"))]
    r = http.post(f"{world.messages}/list", json={"filter": metadata})
    assert error_types(r) == [("dict_type", ("body", "filter"))]


def test_all_errors_are_reported_together(http: httpx.Client, world: World) -> None:
    r = http.post(
        f"{world.messages}/batch?size=0",
        json={"messages": [{"content": 1, "is_user": "maybe"}, {"is_user": True}]},
    )
    assert error_types(r) == [
        ("string_type", ("body", "messages", 0, "content")),
        ("bool_parsing", ("body", "messages", 0, "is_user")),
        ("missing", ("body", "messages", 1, "content")),
    ]
    r = http.post(f"{world.messages}/list?size=0&page=0", json={"filter": "x"})
    assert error_types(r) == [
        ("greater_than_equal", ("query", "page")),
        ("greater_than_equal", ("query", "size")),
        ("dict_type", ("body", "filter")),
    ]


def test_error_bodies_are_json(http: httpx.Client) -> None:
    r = http.get("/v1/apps", params={"app_id": "nope"})
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"detail": "App with ID nope not found"}


# --- pagination (reference §2) ---------------------------------------------------------------


def _pages(total: int, size: int) -> int:
    return math.ceil(total / size) if total else 0


@pytest.fixture
def seven_messages(http: httpx.Client, world: World) -> list[dict[str, Any]]:
    return world.add_messages(http, *(f"m{i}" for i in range(7)))


@pytest.mark.parametrize(
    ("page", "size"), [(1, 3), (2, 3), (3, 3), (4, 3), (1, 7), (2, 7), (1, 100), (9999, 1)]
)
def test_page_envelope_math(
    http: httpx.Client, world: World, seven_messages: list[dict[str, Any]], page: int, size: int
) -> None:
    body = ok(http.post(f"{world.messages}/list", params={"page": page, "size": size}))
    assert list(body) == PAGE_KEYS
    expected = [m["id"] for m in seven_messages][(page - 1) * size : page * size]
    assert [m["id"] for m in body["items"]] == expected
    assert (body["total"], body["page"], body["size"], body["pages"]) == (
        7,
        page,
        size,
        _pages(7, size),
    )


def test_page_past_the_end(http: httpx.Client, world: World, seven_messages: Any) -> None:
    body = ok(http.post(f"{world.messages}/list", params={"page": 9999, "size": 1}))
    assert body == {"items": [], "total": 7, "page": 9999, "size": 1, "pages": 7}


def test_reverse_orders_newest_first(
    http: httpx.Client, world: World, seven_messages: list[dict[str, Any]]
) -> None:
    ids = [m["id"] for m in seven_messages]
    body = ok(http.post(f"{world.messages}/list", params={"reverse": "true", "size": 3}))
    assert [m["id"] for m in body["items"]] == ids[::-1][:3]
    body = ok(http.post(f"{world.messages}/list", params={"reverse": "true", "size": 3, "page": 3}))
    assert [m["id"] for m in body["items"]] == ids[::-1][6:]
    body = ok(http.post(f"{world.messages}/list", params={"reverse": "false"}))
    assert [m["id"] for m in body["items"]] == ids


def test_every_page_of_a_session(http: httpx.Client, world: World) -> None:
    """Every page, size and direction, with and without a filter, against list slicing."""
    batch = [
        {"content": f"m{i}", "is_user": True, "metadata": {"odd": i % 2 == 1}} for i in range(23)
    ]
    ids = [m["id"] for m in ok(http.post(f"{world.messages}/batch", json={"messages": batch}))]
    odd = ids[1::2]
    for body, expected_all in (({}, ids), ({"filter": {"odd": True}}, odd)):
        for reverse in (False, True):
            expected = expected_all[::-1] if reverse else expected_all
            for size in (1, 5, 7, 11, 23, 50):
                pages = _pages(len(expected), size)
                for page in range(1, pages + 2):
                    params = {"page": page, "size": size, "reverse": reverse}
                    got = ok(http.post(f"{world.messages}/list", json=body, params=params))
                    assert [m["id"] for m in got["items"]] == expected[
                        (page - 1) * size : page * size
                    ], params
                    assert (got["total"], got["pages"]) == (len(expected), pages)


@pytest.mark.parametrize("value", ["TRUE", "1", "yes", "On", "t", "Y"])
def test_reverse_accepts_lax_booleans(
    http: httpx.Client, world: World, seven_messages: Any, value: str
) -> None:
    body = ok(http.post(f"{world.messages}/list", params={"reverse": value}))
    assert body["items"][0]["content"] == "m6"


def test_empty_list(http: httpx.Client, world: World) -> None:
    assert ok(http.post(f"{world.messages}/list")) == {
        "items": [],
        "total": 0,
        "page": 1,
        "size": 50,
        "pages": 0,
    }


def test_size_defaults_to_50_and_tops_out_at_100(http: httpx.Client, world: World) -> None:
    world.add_messages(http, *(f"m{i}" for i in range(100)))
    world.add_messages(http, "m100")
    body = ok(http.post(f"{world.messages}/list"))
    assert (len(body["items"]), body["total"], body["size"], body["pages"]) == (50, 101, 50, 3)
    body = ok(http.post(f"{world.messages}/list", params={"size": 100, "page": 2}))
    assert [m["content"] for m in body["items"]] == ["m100"]
    assert body["pages"] == 2


GE_1 = "Input should be greater than or equal to 1"
PAGING_ERRORS = [
    ({"size": 101}, "less_than_equal", "size", "Input should be less than or equal to 100", "101"),
    ({"size": 0}, "greater_than_equal", "size", GE_1, "0"),
    ({"page": 0}, "greater_than_equal", "page", GE_1, "0"),
    ({"page": -3}, "greater_than_equal", "page", GE_1, "-3"),
    (
        {"page": "x"},
        "int_parsing",
        "page",
        "Input should be a valid integer, unable to parse string as an integer",
        "x",
    ),
    (
        {"reverse": "maybe"},
        "bool_parsing",
        "reverse",
        "Input should be a valid boolean, unable to interpret input",
        "maybe",
    ),
]
CTX = {"less_than_equal": {"le": 100}, "greater_than_equal": {"ge": 1}}


@pytest.mark.parametrize(("params", "type_", "field", "msg", "value"), PAGING_ERRORS)
def test_paging_validation(
    http: httpx.Client,
    world: World,
    params: dict[str, Any],
    type_: str,
    field: str,
    msg: str,
    value: str,
) -> None:
    error: dict[str, Any] = {"type": type_, "loc": ["query", field], "msg": msg, "input": value}
    if type_ in CTX:
        error["ctx"] = CTX[type_]
    for path in (
        "/v1/apps/list",
        f"{world.users}/list",
        f"{world.messages}/list",
        f"{world.collections}/list",
    ):
        assert detail(http.post(path, params=params), 422) == [error]


@pytest.mark.parametrize("body", [None, b"null", b"{}"])
def test_list_body_is_optional(
    http: httpx.Client, world: World, seven_messages: Any, body: bytes | None
) -> None:
    r = http.post(
        f"{world.messages}/list", content=body, headers={"content-type": "application/json"}
    )
    assert ok(r)["total"] == 7


def test_sdk_auto_paging_fetches_pages_one_and_two(
    honcho: Any, http: httpx.Client, world: World
) -> None:
    world.add_messages(http, *(f"m{i}" for i in range(5)))
    first = honcho.apps.users.sessions.messages.list(
        world.session, app_id=world.app, user_id=world.user, size=2
    )
    assert (first.page, first.total, first.pages) == (1, 5, 3)
    # The SDK asks for page 2 and stops when the reply's page is not greater than asked for.
    assert [m.content for m in first] == ["m0", "m1", "m2", "m3"]


# --- timestamps (reference §1.4) -------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 11, 21, 15, 39, 47, 487842, tzinfo=UTC),
        datetime(2026, 11, 21, 15, 39, 47, 5, tzinfo=UTC),
        datetime(2026, 11, 21, 15, 39, 47, 500000, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC),
    ],
)
def test_timestamp_renders_like_pydantic(value: datetime) -> None:
    rendered = timestamp(value)
    assert rendered == TypeAdapter(datetime).dump_python(value, mode="json")
    assert CREATED_AT.match(rendered)


def test_timestamp_examples() -> None:
    assert timestamp(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00Z"
    assert (
        timestamp(datetime(2026, 11, 21, 15, 39, 47, 487842, tzinfo=UTC))
        == "2026-11-21T15:39:47.487842Z"
    )
    assert (
        timestamp(datetime(2026, 11, 21, 15, 39, 47, 120, tzinfo=UTC))
        == "2026-11-21T15:39:47.000120Z"
    )


def test_timestamp_is_always_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert timestamp(datetime(2026, 1, 1, 2, 30, tzinfo=plus_two)) == "2026-01-01T00:30:00Z"
    assert timestamp(datetime(2026, 1, 1, 0, 30, 0, 7, tzinfo=timezone(-timedelta(hours=5)))) == (
        "2026-01-01T05:30:00.000007Z"
    )


def test_created_at_on_the_wire(http: httpx.Client) -> None:
    app = new_app(http)
    assert CREATED_AT.match(app["created_at"])
    created = datetime.fromisoformat(app["created_at"].replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)
