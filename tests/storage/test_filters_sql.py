"""The filter compiler selects the same rows on SQLite and PostgreSQL, as the v3 language says.

A throwaway table with a text, nullable text, integer, UTC timestamp, boolean and two JSON
columns is created with `create_all` (this is about the compiler, not the migrations) and
filled with five rows; every case names the rows its filter must return, on both backends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    null,
    select,
)

from mindkeeper.core.filters import Field, Kind, Node, ResourceSpec, parse_datetime, parse_filters
from mindkeeper.errors import Invalid
from mindkeeper.storage.engine import Database, create_database
from mindkeeper.storage.filters import apply_filter, compile_filter
from mindkeeper.storage.types import JSONType, UTCDateTime
from tests.conftest import make_settings
from tests.core.test_filters import random_filters

META = MetaData()
PROBE = Table(
    "filter_probe",
    META,
    Column("pk", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("session", String(64), nullable=True),
    Column("count", Integer, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("meta", JSONType, nullable=False),
    Column("sources", JSONType, nullable=True),
)

SPEC = ResourceSpec(
    "Probe",
    {
        "id": Field("name", Kind.TEXT),
        "session_id": Field("session", Kind.TEXT),
        "token_count": Field("count", Kind.NUMBER),
        "created_at": Field("created_at", Kind.TIMESTAMP),
        "is_active": Field("active", Kind.BOOL),
        "metadata": Field("meta", Kind.JSON),
        "source_ids": Field("sources", Kind.JSON),
    },
)
COLUMNS = {
    "name": PROBE.c.name,
    "session": PROBE.c.session,
    "count": PROBE.c.count,
    "created_at": PROBE.c.created_at,
    "active": PROBE.c.active,
    "meta": PROBE.c.meta,
    "sources": PROBE.c.sources,
}


def _at(text: str) -> Any:
    return parse_datetime(text)


ROWS: list[dict[str, Any]] = [
    {
        "name": "alpha",
        "session": "s1",
        "count": 1,
        "created_at": _at("2024-01-01T00:00:00Z"),
        "active": True,
        "meta": {
            "tags": ["a", "b"],
            "n": 1,
            "kind": "user",
            "score": 10,
            "date": "2024-02-01",
            "flag": True,
            "nested": {"x": 1, "y": [1, 2]},
            "pct": "50%_off",
        },
        "sources": ["m1", "m2"],
    },
    {
        "name": "Beta",
        "session": None,
        "count": 5,
        "created_at": _at("2024-06-01T12:00:00Z"),
        "active": False,
        "meta": {
            "tags": ["b"],
            "n": "1",
            "kind": "User",
            "score": 9,
            "date": "2024-01-15",
            "flag": False,
            "e": "",
        },
        "sources": ["m2"],
    },
    {
        "name": "gamma_1",
        "session": "s2",
        "count": 10,
        "created_at": _at("2025-01-01T12:30:00.5Z"),
        "active": True,
        "meta": {"n": 2.5, "kind": "admin", "score": "abc", "date": "2023-12-31", "tags": "a"},
        "sources": [],
    },
    {
        "name": "delta%",
        "session": "s1",
        "count": None,
        "created_at": _at("2023-12-31T23:59:59Z"),
        "active": False,
        "meta": {},
        "sources": null(),
    },
    {
        "name": "Épsilon",
        "session": "s3",
        "count": 100,
        "created_at": _at("2024-03-01T00:00:00Z"),
        "active": True,
        "meta": {
            "score": 100,
            "n": None,
            "big": 12345678901234567890123,
            "f": 0.30000000000000004,
            "u": "Ärger",
            "arr": [1, 2],
            "num_s": " 42 ",
            'weird"key': "q",
            "kind": "ADMIN_x",
            "exp2": "1e5",
            "exp3": "1e100",
            "plus": "+5",
            "hex": "0x10",
            "dot": ".5",
            "inf": "Infinity",
            "obj": {"a": 1},
        },
        "sources": ["m3"],
    },
]
ALL = [row["name"] for row in ROWS]
A, B, G, D, E = ALL

CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    # plain columns
    ("no condition", {}, ALL),
    ("text equality", {"id": "alpha"}, [A]),
    ("wildcard", {"id": "*"}, ALL),
    ("bare list is in", {"id": ["alpha", "Beta"]}, [A, B]),
    ("in with a wildcard entry", {"id": {"in": ["alpha", "*"]}}, ALL),
    ("empty in matches nothing", {"id": {"in": []}}, []),
    ("NOT of an empty in", {"NOT": [{"id": {"in": []}}]}, ALL),
    ("NUL is removed", {"id": "al\x00pha"}, [A]),
    ("contains ignores case", {"id": {"contains": "ETA"}}, [B]),
    ("percent is literal", {"id": {"icontains": "%"}}, [D]),
    ("underscore is literal", {"id": {"contains": "_"}}, [G]),
    ("contains across an underscore", {"id": {"contains": "A_1"}}, [G]),
    ("non-ASCII letters match exactly", {"id": {"contains": "É"}}, [E]),
    ("non-ASCII letters are not folded", {"id": {"icontains": "é"}}, []),
    ("empty substring matches every row", {"id": {"contains": ""}}, ALL),
    ("null is IS NULL", {"session_id": None}, [B]),
    ("NOT null", {"NOT": [{"session_id": None}]}, [A, G, D, E]),
    ("NOT keeps NULL rows out", {"NOT": [{"session_id": "s1"}]}, [G, E]),
    ("number equality", {"token_count": 5}, [B]),
    ("numeric string equality", {"token_count": "5"}, [B]),
    ("float equality", {"token_count": 5.0}, [B]),
    ("range", {"token_count": {"gte": 5, "lt": 100}}, [B, G]),
    ("ne skips NULL", {"token_count": {"ne": 5}}, [A, G, E]),
    ("fractional bound", {"token_count": {"gt": 9.5}}, [G, E]),
    ("bound past 64 bits", {"token_count": {"gt": 2**70}}, []),
    ("below a bound past 64 bits", {"token_count": {"lt": 2**70}}, [A, B, G, E]),
    ("below infinity", {"token_count": {"lt": "1e999"}}, [A, B, G, E]),
    ("equality past 64 bits", {"token_count": 2**70}, []),
    ("in with odd numbers", {"token_count": {"in": [1, 2**70, 10.5, None]}}, [A]),
    ("bare list of numbers", {"token_count": [1, 100]}, [A, E]),
    (
        "timestamp range",
        {"created_at": {"gte": "2024-01-01", "lt": "2024-06-01T12:00:00Z"}},
        [A, E],
    ),
    ("timestamp with an offset", {"created_at": {"gt": "2024-06-01T14:00:00+02:00"}}, [G]),
    ("naive timestamp is UTC", {"created_at": {"lte": "2023-12-31 23:59:59"}}, [D]),
    (
        "timestamps in a list",
        {"created_at": {"in": ["2025-01-01T12:30:00.5Z", "2024-01-01"]}},
        [A, G],
    ),
    ("empty timestamp list adds nothing", {"created_at": {"in": []}}, ALL),
    ("timestamp list of nulls", {"created_at": {"in": [None]}}, []),
    ("timestamp ne", {"created_at": {"ne": "2024-01-01T00:00:00Z"}}, [B, G, D, E]),
    ("boolean", {"is_active": True}, [A, G, E]),
    ("boolean list", {"is_active": [False]}, [B, D]),
    ("boolean ne", {"is_active": {"ne": True}}, [B, D]),
    # logical operators
    ("OR", {"OR": [{"id": "alpha"}, {"token_count": {"gte": 100}}]}, [A, E]),
    ("empty OR", {"OR": []}, ALL),
    ("empty AND", {"AND": []}, ALL),
    ("empty NOT", {"NOT": []}, ALL),
    ("NOT of two", {"NOT": [{"id": "alpha"}, {"id": "Beta"}]}, [G, D, E]),
    (
        "logical and field keys are ANDed",
        {
            "AND": [{"is_active": True}],
            "OR": [{"id": "alpha"}, {"id": "gamma_1"}],
            "NOT": [{"id": "gamma_1"}],
        },
        [A],
    ),
    ("field and OR", {"id": "alpha", "OR": [{"id": "Beta"}]}, []),
    (
        "five levels",
        {"AND": [{"OR": [{"NOT": [{"AND": [{"OR": [{"id": "alpha"}]}]}]}]}]},
        [B, G, D, E],
    ),
    # metadata containment
    ("list containment", {"metadata": {"tags": ["b"]}}, [A, B]),
    ("scalar is not in a nested list", {"metadata": {"tags": "a"}}, [G]),
    ("1 is not '1'", {"metadata": {"n": 1}}, [A]),
    ("'1' is not 1", {"metadata": {"n": "1"}}, [B]),
    ("1.0 is 1", {"metadata": {"n": 1.0}}, [A]),
    ("nested object subset", {"metadata": {"nested": {"x": 1}}}, [A]),
    ("nested list subset", {"metadata": {"nested": {"y": [2]}}}, [A]),
    ("JSON null", {"metadata": {"n": None}}, [E]),
    ("top-level contains", {"metadata": {"contains": {"kind": "user", "flag": True}}}, [A]),
    ("whole value a list", {"metadata": ["a"]}, []),
    ("whole value a scalar", {"metadata": "x"}, []),
    ("empty object", {"metadata": {}}, ALL),
    ("key wildcard", {"metadata": {"kind": "*"}}, ALL),
    ("integer past 64 bits", {"metadata": {"big": 12345678901234567890123}}, [E]),
    ("a neighbour past 64 bits", {"metadata": {"big": 12345678901234567890124}}, []),
    ("NOT of that", {"NOT": [{"metadata": {"big": 12345678901234567890124}}]}, ALL),
    ("an unprintable integer matches nothing", {"metadata": {"big": 10**5000}}, []),
    ("NOT of nothing", {"NOT": [{"metadata": {"big": 10**5000}}]}, ALL),
    ("key with a quote", {"metadata": {'weird"key': "q"}}, [E]),
    # metadata per-key comparisons
    ("numeric gt", {"metadata": {"score": {"gt": 9}}}, [A, E]),
    ("numeric string operand", {"metadata": {"score": {"gt": "9"}}}, [A, E]),
    ("ne never matches a missing key", {"metadata": {"score": {"ne": 10}}}, [B, E]),
    ("NOT over unknown stays unknown", {"NOT": [{"metadata": {"score": {"gt": 9}}}]}, [B]),
    ("numeric, not lexical", {"metadata": {"n": {"lt": "10"}}}, [A, B, G]),
    ("numeric strings count", {"metadata": {"n": {"gt": 0}}}, [A, B, G]),
    ("padded numeric string", {"metadata": {"num_s": {"gt": 41}}}, [E]),
    ("lexical dates", {"metadata": {"date": {"gte": "2024-01-01"}}}, [A, B]),
    ("bytewise order", {"metadata": {"kind": {"lt": "a"}}}, [B, E]),
    ("boolean ne", {"metadata": {"flag": {"ne": True}}}, [B]),
    ("boolean compares as text", {"metadata": {"flag": {"gte": False}}}, [A, B]),
    ("NOT of a text comparison", {"NOT": [{"metadata": {"kind": {"lt": "a"}}}]}, [A, G]),
    ("two-digit exponent is a number", {"metadata": {"exp2": {"gt": 99999}}}, [E]),
    ("three-digit exponent is not", {"metadata": {"exp3": {"gt": 0}}}, []),
    ("a leading plus is not", {"metadata": {"plus": {"gt": 0}}}, []),
    ("hexadecimal is not", {"metadata": {"hex": {"gt": 0}}}, []),
    ("a leading point is not", {"metadata": {"dot": {"gt": 0}}}, []),
    ("Infinity is not", {"metadata": {"inf": {"gt": 0}}}, []),
    ("an object is not", {"metadata": {"obj": {"gt": 0}}}, []),
    ("non-numbers still compare as text", {"metadata": {"hex": {"gt": "0x0"}}}, [E]),
    ("contains on an object's text", {"metadata": {"obj": {"contains": '"a"'}}}, [E]),
    ("missing key under ne", {"metadata": {"missing": {"ne": 1}}}, []),
    ("missing key under text ne", {"metadata": {"missing": {"ne": "x"}}}, []),
    ("beyond 64 bits exact", {"metadata": {"big": {"gt": 10**22}}}, [E]),
    ("beyond 64 bits bound", {"metadata": {"big": {"lt": 2**100}}}, [E]),
    ("below infinity", {"metadata": {"score": {"lt": "inf"}}}, [A, B, E]),
    ("above the largest double", {"metadata": {"score": {"gt": 1e308}}}, []),
    ("in compares text forms", {"metadata": {"n": {"in": [1, 2.5]}}}, [A, B, G]),
    ("in with a boolean", {"metadata": {"flag": {"in": [True]}}}, [A]),
    ("in with a wildcard", {"metadata": {"kind": {"in": ["user", "*"]}}}, ALL),
    ("empty in", {"metadata": {"kind": {"in": []}}}, []),
    ("in with a long integer", {"metadata": {"big": {"in": [12345678901234567890123]}}}, [E]),
    ("in with a float as written", {"metadata": {"f": {"in": ["0.30000000000000004"]}}}, [E]),
    ("in on a quoted key", {"metadata": {'weird"key': {"in": ["q"]}}}, [E]),
    ("key icontains", {"metadata": {"kind": {"icontains": "ADMIN"}}}, [G, E]),
    ("key contains is literal", {"metadata": {"pct": {"contains": "%_"}}}, [A]),
    ("key contains underscore", {"metadata": {"kind": {"contains": "_"}}}, [E]),
    ("contains on a list's text", {"metadata": {"tags": {"contains": "b"}}}, [A, B]),
    ("contains a boolean", {"metadata": {"flag": {"contains": True}}}, [A]),
    ("key non-ASCII not folded", {"metadata": {"u": {"icontains": "ärger"}}}, []),
    ("key substring", {"metadata": {"u": {"contains": "RGER"}}}, [E]),
    # a JSON list column
    ("contains a member", {"source_ids": {"contains": "m2"}}, [A, B]),
    ("all of a list", {"source_ids": ["m1", "m2"]}, [A]),
    ("bare scalar member", {"source_ids": "m3"}, [E]),
    ("SQL NULL", {"source_ids": None}, [D]),
    ("every list contains []", {"source_ids": []}, [A, B, G, E]),
    ("NOT containment keeps NULL out", {"NOT": [{"source_ids": {"contains": "m2"}}]}, [G, E]),
]


async def _filled(url: str) -> Database:
    database = create_database(make_settings(url))
    async with database.engine.begin() as conn:
        await conn.run_sync(META.create_all)
        for row in ROWS:
            await conn.execute(insert(PROBE).values(**row))
    return database


@pytest.fixture(scope="module")
async def probe(module_database_url: str) -> AsyncIterator[Database]:
    """The module's database with the probe table filled."""
    database = await _filled(module_database_url)
    yield database
    await database.dispose()


async def _names(database: Database, filters: dict[str, Any]) -> list[str]:
    return await _select(database, parse_filters(filters, SPEC))


async def _select(database: Database, node: Node | None) -> list[str]:
    stmt = apply_filter(select(PROBE.c.name), node, COLUMNS, database.dialect)
    async with database.engine.connect() as conn:
        rows = await conn.execute(stmt.order_by(PROBE.c.pk))
        return [row[0] for row in rows]


@pytest.mark.parametrize(("case", "filters", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_filter_selects(
    probe: Database, case: str, filters: dict[str, Any], expected: list[str]
) -> None:
    assert await _names(probe, filters) == expected, case


async def test_count_query_correlates(probe: Database) -> None:
    node = parse_filters({"metadata": {"score": {"gt": 9}, "kind": {"icontains": "a"}}}, SPEC)
    assert node is not None
    condition = compile_filter(node, COLUMNS, probe.dialect)
    stmt = select(func.count()).select_from(PROBE).where(condition)
    async with probe.engine.connect() as conn:
        assert (await conn.execute(stmt)).scalar_one() == 1


async def test_long_in_list(probe: Database) -> None:
    names = [f"name-{index}" for index in range(5000)] + ["Beta"]
    assert await _names(probe, {"id": {"in": names}}) == [B]


async def test_many_conditions(probe: Database) -> None:
    filters = {"OR": [{"metadata": {f"k{index}": {"gt": index}}} for index in range(2000)]}
    assert await _names(probe, filters) == []


async def test_random_filters_run_and_agree(probe: Database, tmp_path: Path) -> None:
    """Random filters never fail in the database; PostgreSQL and SQLite pick the same rows."""
    twin = None
    if probe.dialect == "postgresql":
        twin = await _filled(f"sqlite+aiosqlite:///{tmp_path / 'twin.db'}")
    keys = tuple(SPEC.fields)
    metadata_keys = ("n", "score", "kind", "tags", "flag", "big", "f", "obj", "missing", "in")
    compared = 0
    try:
        for filters in random_filters(7, 3000, keys, metadata_keys):
            try:
                node = parse_filters(filters, SPEC)
            except Invalid:
                continue
            names = await _select(probe, node)
            if twin is not None:
                assert names == await _select(twin, node), filters
            compared += 1
    finally:
        if twin is not None:
            await twin.dispose()
    assert compared > 1000


def test_unknown_logical_column_is_a_programming_error() -> None:
    node = parse_filters({"id": "x"}, SPEC)
    assert node is not None
    with pytest.raises(LookupError):
        compile_filter(node, {}, "sqlite")
    with pytest.raises(ValueError):
        compile_filter(node, COLUMNS, "mysql")


def test_no_filter_leaves_the_statement_alone() -> None:
    stmt = select(PROBE.c.name)
    assert apply_filter(stmt, None, COLUMNS, "sqlite") is stmt
