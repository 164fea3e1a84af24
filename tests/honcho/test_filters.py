"""Metadata filters (reference §3): PostgreSQL `jsonb @>` containment, on both databases.

One corpus of messages per backend; each case lists the indices its filter must return. The
expectations were written from the PostgreSQL documentation of `@>`, so on PostgreSQL they
also check the test itself, and SQLite must agree.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.honcho.support import World, error_types, new_world, ok

CORPUS: list[dict[str, Any]] = [
    {"a": 1, "tags": ["x", "y"], "nested": {"k": "v", "deep": {"z": True}}},  # 0
    {"a": 1.0},  # 1
    {"a": "1"},  # 2
    {"a": True},  # 3
    {"a": None},  # 4
    {},  # 5
    {"a": [1, 2]},  # 6
    {"tags": ["y", "x", "x"]},  # 7
    {"tags": []},  # 8
    {"nested": {}},  # 9
    {"nested": "scalar"},  # 10
    {"a": [[1, 2], [3]], "objs": [{"id": 1, "v": "a"}, {"id": 2}]},  # 11
    {"a": 0, "b": False, "s": ""},  # 12
    {"ключ": "значение", "a": 2.5},  # 13
    {"tags": "x"},  # 14
    {"a": {"b": 1}},  # 15
]

CASES: list[tuple[str, dict[str, Any], list[int]]] = [
    ("empty filter matches everything", {}, list(range(len(CORPUS)))),
    ("integer equals its float", {"a": 1}, [0, 1]),
    ("float equals its integer", {"a": 1.0}, [0, 1]),
    ("string is not a number", {"a": "1"}, [2]),
    ("true is not 1", {"a": True}, [3]),
    ("false is not 0", {"b": False}, [12]),
    ("zero", {"a": 0}, [12]),
    ("empty string", {"s": ""}, [12]),
    ("null only matches an explicit null", {"a": None}, [4]),
    ("scalar does not match an array holding it", {"a": 2}, []),
    ("array filter matches an element", {"a": [2]}, [6]),
    ("array filter, several elements, any order", {"tags": ["y", "x"]}, [0, 7]),
    ("array filter ignores duplicates", {"tags": ["x", "x", "x"]}, [0, 7]),
    ("empty array matches any array", {"tags": []}, [0, 7, 8]),
    ("empty array matches arrays only", {"a": []}, [6, 11]),
    ("array filter does not match a scalar", {"tags": ["x"]}, [0, 7]),
    ("scalar filter does not match an array", {"tags": "x"}, [14]),
    ("nested arrays match by containment", {"a": [[1]]}, [11]),
    ("a nested array element is not searched for scalars", {"a": [3]}, []),
    ("objects inside arrays match as subsets", {"objs": [{"id": 2}]}, [11]),
    ("objects inside arrays need every key", {"objs": [{"id": 2, "v": "a"}]}, []),
    ("nested object subset", {"nested": {"k": "v"}}, [0]),
    ("deeply nested", {"nested": {"deep": {"z": True}}}, [0]),
    ("empty object matches any object", {"nested": {}}, [0, 9]),
    ("empty object matches objects only", {"a": {}}, [15]),
    ("nested value must match", {"nested": {"k": "w"}}, []),
    ("every key must be present", {"a": 1, "tags": ["x"]}, [0]),
    ("missing key never matches", {"missing": None}, []),
    ("unicode keys and values", {"ключ": "значение"}, [13]),
    ("non-integral number", {"a": 2.5}, [13]),
    ("object is not a scalar", {"a": {"b": 1}}, [15]),
    ("object subset needs the same type", {"a": {"b": "1"}}, []),
]


@pytest.fixture(scope="module")
def corpus(http: httpx.Client) -> tuple[World, list[str]]:
    world = new_world(http)
    batch = [{"content": str(i), "is_user": True, "metadata": m} for i, m in enumerate(CORPUS)]
    created = ok(http.post(f"{world.messages}/batch", json={"messages": batch}))
    return world, [m["id"] for m in created]


@pytest.mark.parametrize(("name", "filter", "expected"), CASES, ids=[c[0] for c in CASES])
def test_containment(
    http: httpx.Client,
    corpus: tuple[World, list[str]],
    name: str,
    filter: dict[str, Any],
    expected: list[int],
) -> None:
    world, ids = corpus
    body = ok(http.post(f"{world.messages}/list", json={"filter": filter}, params={"size": 100}))
    assert [m["id"] for m in body["items"]] == [ids[i] for i in expected], name
    assert body["total"] == len(expected)
    assert all(m["metadata"] == CORPUS[i] for m, i in zip(body["items"], expected, strict=True))


def test_filter_pages_count_only_matches(
    http: httpx.Client, corpus: tuple[World, list[str]]
) -> None:
    world, ids = corpus
    body = ok(
        http.post(
            f"{world.messages}/list", json={"filter": {"tags": []}}, params={"size": 2, "page": 2}
        )
    )
    assert [m["id"] for m in body["items"]] == [ids[8]]
    assert (body["total"], body["pages"]) == (3, 2)
    body = ok(
        http.post(f"{world.messages}/list", json={"filter": {"tags": []}}, params={"reverse": True})
    )
    assert [m["id"] for m in body["items"]] == [ids[8], ids[7], ids[0]]


@pytest.mark.parametrize("filter", ["x", [1], 1, True])
def test_filter_must_be_an_object(
    http: httpx.Client, corpus: tuple[World, list[str]], filter: Any
) -> None:
    world, _ = corpus
    for path in (f"{world.messages}/list", "/v1/apps/list", f"{world.collections}/list"):
        assert error_types(http.post(path, json={"filter": filter})) == [
            ("dict_type", ("body", "filter"))
        ]


def test_null_filter_is_no_filter(http: httpx.Client, corpus: tuple[World, list[str]]) -> None:
    world, ids = corpus
    assert ok(http.post(f"{world.messages}/list", json={"filter": None}))["total"] == len(ids)


def test_every_list_endpoint_filters(api: LiveServer, http: httpx.Client) -> None:
    """Each list (and the document query) applies the filter to its own rows only."""
    marker = {"probe": {"n": [1]}}
    world = new_world(http)
    match = {**marker, "extra": 1}
    apps = [
        ok(http.post("/v1/apps", json={"name": f"{world.app}-{i}", "metadata": m}))["id"]
        for i, m in enumerate([match, {}])
    ]
    users = [
        ok(http.post(world.users, json={"name": f"u{i}", "metadata": m}))["id"]
        for i, m in enumerate([match, {}])
    ]
    sessions = [ok(http.post(world.sessions, json={"metadata": m}))["id"] for m in (match, {})]
    batch = [
        {"content": "a", "is_user": True, "metadata": match},
        {"content": "b", "is_user": True},
    ]
    messages = [m["id"] for m in ok(http.post(f"{world.messages}/batch", json={"messages": batch}))]
    notes = [
        ok(http.post(world.metamessages, json={"label": "l", "content": "c", "metadata": m}))["id"]
        for m in (match, {})
    ]
    collections = [
        ok(http.post(world.collections, json={"name": f"c{i}", "metadata": m}))["id"]
        for i, m in enumerate([match, {}])
    ]
    documents = [
        ok(http.post(world.documents(collections[0]), json={"content": t, "metadata": m}))["id"]
        for t, m in (("a", match), ("b", {}))
    ]

    def listed(path: str) -> list[str]:
        return [
            x["id"]
            for x in ok(
                http.post(path, json={"filter": {"probe": {"n": [1]}}}, params={"size": 100})
            )["items"]
        ]

    apps_found = listed("/v1/apps/list")
    assert apps[0] in apps_found and apps[1] not in apps_found
    assert listed(f"{world.users}/list") == users[:1]
    assert listed(f"{world.sessions}/list") == sessions[:1]
    assert listed(f"{world.messages}/list") == messages[:1]
    assert listed(f"{world.metamessages}/list") == notes[:1]
    assert listed(f"{world.collections}/list") == collections[:1]
    assert listed(f"{world.documents(collections[0])}/list") == documents[:1]
    found = ok(
        http.post(f"{world.documents(collections[0])}/query", json={"query": "b", "filter": marker})
    )
    assert [d["id"] for d in found] == documents[:1]
