"""The v3 filter parser: the tree each form gives, every error detail, and hostile input."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from mindkeeper.core.filters import (
    MAX_VALUES,
    And,
    Compare,
    Field,
    In,
    IsNull,
    JsonContains,
    KeyIn,
    KeyNumber,
    KeySubstring,
    KeyText,
    Kind,
    Never,
    Node,
    Not,
    Op,
    Or,
    ResourceSpec,
    Substring,
    children,
    parse_datetime,
    parse_filters,
)
from mindkeeper.errors import Invalid

TEXT, NUMBER, TIMESTAMP, BOOL, JSON = Kind.TEXT, Kind.NUMBER, Kind.TIMESTAMP, Kind.BOOL, Kind.JSON

WORKSPACE = ResourceSpec(
    "Workspace",
    {
        "id": Field("name", TEXT),
        "created_at": Field("created_at", TIMESTAMP),
        "metadata": Field("metadata", JSON),
    },
    absent=frozenset({"is_active", "workspace_id", "session_id", "peer_id"}),
)
SESSION = ResourceSpec(
    "Session",
    {
        "id": Field("name", TEXT),
        "created_at": Field("created_at", TIMESTAMP),
        "is_active": Field("is_active", BOOL),
        "workspace_id": Field("workspace_name", TEXT),
        "metadata": Field("metadata", JSON),
    },
    absent=frozenset({"session_id", "peer_id"}),
)
MESSAGE = ResourceSpec(
    "Message",
    {
        "workspace_id": Field("workspace_name", TEXT),
        "session_id": Field("session_name", TEXT),
        "peer_id": Field("peer_name", TEXT),
        "token_count": Field("token_count", NUMBER),
        "created_at": Field("created_at", TIMESTAMP),
        "metadata": Field("metadata", JSON),
    },
)
DOCUMENT = ResourceSpec(
    "Document",
    {
        "id": Field("public_id", TEXT),
        "observer_id": Field("observer", TEXT),
        "times_derived": Field("times_derived", NUMBER),
        "source_ids": Field("source_ids", JSON),
        "metadata": Field("internal_metadata", JSON),
    },
    unknown_keys_absent=True,
)


def parse(filters: Any, spec: ResourceSpec = MESSAGE) -> Node | None:
    return parse_filters(filters, spec)


def error(filters: Any, spec: ResourceSpec = MESSAGE) -> str:
    with pytest.raises(Invalid) as caught:
        parse_filters(filters, spec)
    return caught.value.message


def nested(levels: int, leaf: dict[str, Any]) -> dict[str, Any]:
    """`levels` logical operators around `leaf`, cycling AND/OR/NOT."""
    current = leaf
    for level in range(levels):
        current = {("AND", "OR", "NOT")[level % 3]: [current]}
    return current


def deep_list(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = [value]
    return value


UTC_2024 = datetime(2024, 1, 1, tzinfo=UTC)

# --- trees -----------------------------------------------------------------------------------

TREES: list[tuple[str, Any, ResourceSpec, Node | None]] = [
    ("no filters", None, MESSAGE, None),
    ("empty object", {}, MESSAGE, None),
    ("equality", {"peer_id": "alice"}, MESSAGE, Compare("peer_name", TEXT, Op.EQ, "alice")),
    ("wildcard", {"peer_id": "*"}, MESSAGE, None),
    ("null", {"session_id": None}, MESSAGE, IsNull("session_name")),
    ("bare list", {"peer_id": ["a", "b"]}, MESSAGE, In("peer_name", TEXT, ("a", "b"))),
    ("in", {"peer_id": {"in": ["a"]}}, MESSAGE, In("peer_name", TEXT, ("a",))),
    (
        "in of an object is its keys",
        {"peer_id": {"in": {"a": 1}}},
        MESSAGE,
        In("peer_name", TEXT, ("a",)),
    ),
    ("in with a wildcard", {"peer_id": {"in": ["a", "*"]}}, MESSAGE, None),
    ("in skips nulls", {"peer_id": {"in": ["a", None]}}, MESSAGE, In("peer_name", TEXT, ("a",))),
    ("empty in", {"peer_id": {"in": []}}, MESSAGE, Never()),
    ("in of nulls", {"peer_id": {"in": [None]}}, MESSAGE, Never()),
    ("contains", {"peer_id": {"contains": "Al"}}, MESSAGE, Substring("peer_name", "Al")),
    ("icontains", {"peer_id": {"icontains": "%_"}}, MESSAGE, Substring("peer_name", "%_")),
    ("contains a number", {"peer_id": {"contains": 5}}, MESSAGE, Substring("peer_name", "5")),
    ("operator wildcard", {"peer_id": {"contains": "*"}}, MESSAGE, None),
    ("number", {"token_count": 5}, MESSAGE, Compare("token_count", NUMBER, Op.EQ, 5)),
    ("numeric string", {"token_count": "5"}, MESSAGE, Compare("token_count", NUMBER, Op.EQ, 5)),
    (
        "float string",
        {"token_count": {"gt": "2.5"}},
        MESSAGE,
        Compare("token_count", NUMBER, Op.GT, 2.5),
    ),
    (
        "boolean as number",
        {"token_count": {"gte": True}},
        MESSAGE,
        Compare("token_count", NUMBER, Op.GTE, 1),
    ),
    ("past 64 bits", {"token_count": 2**70}, MESSAGE, Compare("token_count", NUMBER, Op.EQ, 2**70)),
    (
        "infinite",
        {"token_count": {"lt": "inf"}},
        MESSAGE,
        Compare("token_count", NUMBER, Op.LT, float("inf")),
    ),
    (
        "range is ANDed",
        {"token_count": {"gte": 1, "lte": 9}},
        MESSAGE,
        And((Compare("token_count", NUMBER, Op.GTE, 1), Compare("token_count", NUMBER, Op.LTE, 9))),
    ),
    ("numbers in", {"token_count": [1, "2", None]}, MESSAGE, In("token_count", NUMBER, (1, 2))),
    (
        "timestamp",
        {"created_at": {"gte": "2024-01-01"}},
        MESSAGE,
        Compare("created_at", TIMESTAMP, Op.GTE, UTC_2024),
    ),
    (
        "timestamp with offset",
        {"created_at": {"lt": "2024-01-01T02:00:00+02:00"}},
        MESSAGE,
        Compare("created_at", TIMESTAMP, Op.LT, UTC_2024),
    ),
    (
        "timestamp ne",
        {"created_at": {"ne": "2024-01-01 00:00:00"}},
        MESSAGE,
        Compare("created_at", TIMESTAMP, Op.NE, UTC_2024),
    ),
    (
        "timestamps in",
        {"created_at": ["2024-01-01T00:00:00Z"]},
        MESSAGE,
        In("created_at", TIMESTAMP, (UTC_2024,)),
    ),
    ("empty timestamp list adds nothing", {"created_at": {"in": []}}, MESSAGE, None),
    ("timestamp list of nulls", {"created_at": {"in": [None]}}, MESSAGE, Never()),
    ("boolean", {"is_active": False}, SESSION, Compare("is_active", BOOL, Op.EQ, False)),
    ("boolean ne", {"is_active": {"ne": True}}, SESSION, Compare("is_active", BOOL, Op.NE, True)),
    ("booleans in", {"is_active": [True]}, SESSION, In("is_active", BOOL, (True,))),
    # logical operators
    (
        "OR",
        {"OR": [{"peer_id": "a"}, {"peer_id": "b"}]},
        MESSAGE,
        Or((Compare("peer_name", TEXT, Op.EQ, "a"), Compare("peer_name", TEXT, Op.EQ, "b"))),
    ),
    ("one-entry OR", {"OR": [{"peer_id": "a"}]}, MESSAGE, Compare("peer_name", TEXT, Op.EQ, "a")),
    ("empty OR", {"OR": []}, MESSAGE, None),
    ("empty AND", {"AND": []}, MESSAGE, None),
    ("empty NOT", {"NOT": []}, MESSAGE, None),
    ("OR of empties", {"OR": [{}, {"peer_id": "*"}]}, MESSAGE, None),
    ("NOT", {"NOT": [{"peer_id": "a"}]}, MESSAGE, Not(Compare("peer_name", TEXT, Op.EQ, "a"))),
    (
        "NOT of two",
        {"NOT": [{"peer_id": "a"}, {"peer_id": "b"}]},
        MESSAGE,
        And(
            (
                Not(Compare("peer_name", TEXT, Op.EQ, "a")),
                Not(Compare("peer_name", TEXT, Op.EQ, "b")),
            )
        ),
    ),
    (
        "logical and field keys are ANDed",
        {"peer_id": "a", "OR": [{"session_id": "s"}]},
        MESSAGE,
        And((Compare("session_name", TEXT, Op.EQ, "s"), Compare("peer_name", TEXT, Op.EQ, "a"))),
    ),
    # metadata
    (
        "metadata containment",
        {"metadata": {"tags": ["b"]}},
        MESSAGE,
        JsonContains("metadata", '{"tags":["b"]}'),
    ),
    (
        "metadata keys are ANDed",
        {"metadata": {"a": 1, "b": "*", "c": None}},
        MESSAGE,
        And((JsonContains("metadata", '{"a":1}'), JsonContains("metadata", '{"c":null}'))),
    ),
    (
        "nested object is containment",
        {"metadata": {"a": {"b": {"gt": 1}}}},
        MESSAGE,
        JsonContains("metadata", '{"a":{"b":{"gt":1}}}'),
    ),
    ("whole-value list", {"metadata": ["a"]}, MESSAGE, JsonContains("metadata", '["a"]')),
    ("whole-value scalar", {"metadata": 1}, MESSAGE, JsonContains("metadata", "1")),
    (
        "top-level contains",
        {"metadata": {"contains": {"a": 1}}},
        MESSAGE,
        JsonContains("metadata", '{"a":1}'),
    ),
    ("empty metadata", {"metadata": {}}, MESSAGE, None),
    ("metadata null", {"metadata": None}, MESSAGE, IsNull("metadata")),
    (
        "non-ASCII kept",
        {"metadata": {"ключ": "é"}},
        MESSAGE,
        JsonContains("metadata", '{"ключ":"é"}'),
    ),
    ("key number", {"metadata": {"n": {"gt": 1}}}, MESSAGE, KeyNumber("metadata", "n", Op.GT, 1)),
    (
        "key numeric string",
        {"metadata": {"n": {"lte": " 7 "}}},
        MESSAGE,
        KeyNumber("metadata", "n", Op.LTE, 7),
    ),
    (
        "key text",
        {"metadata": {"d": {"gte": "2024-01-01"}}},
        MESSAGE,
        KeyText("metadata", "d", Op.GTE, "2024-01-01"),
    ),
    (
        "key boolean",
        {"metadata": {"f": {"ne": True}}},
        MESSAGE,
        KeyText("metadata", "f", Op.NE, "true"),
    ),
    (
        "key in",
        {"metadata": {"n": {"in": [1, "x", True, None, 2.5]}}},
        MESSAGE,
        KeyIn("metadata", "n", ("1", "x", "true", "2.5")),
    ),
    ("key in wildcard", {"metadata": {"n": {"in": ["*"]}}}, MESSAGE, None),
    ("key empty in", {"metadata": {"n": {"in": []}}}, MESSAGE, Never()),
    (
        "key contains",
        {"metadata": {"n": {"icontains": True}}},
        MESSAGE,
        KeySubstring("metadata", "n", "True"),
    ),
    ("key operator wildcard", {"metadata": {"n": {"gt": "*"}}}, MESSAGE, None),
    (
        "containment past 64 bits",
        {"metadata": {"n": 2**70}},
        MESSAGE,
        JsonContains("metadata", '{"n":1180591620717411303424}'),
    ),
    ("containment of a very long integer", {"metadata": {"n": 10**5000}}, MESSAGE, Never()),
    (
        "containment of u64",
        {"metadata": {"n": 2**64 - 1}},
        MESSAGE,
        JsonContains("metadata", '{"n":18446744073709551615}'),
    ),
    ("containment of NaN", {"metadata": {"n": [float("nan")]}}, MESSAGE, Never()),
    ("containment of infinity", {"metadata": {"contains": {"n": float("inf")}}}, MESSAGE, Never()),
    (
        "JSON column contains a scalar",
        {"source_ids": {"contains": "m1"}},
        DOCUMENT,
        JsonContains("source_ids", '"m1"'),
    ),
    (
        "JSON column bare list",
        {"source_ids": ["m1"]},
        DOCUMENT,
        JsonContains("source_ids", '["m1"]'),
    ),
    # input hygiene
    ("NUL removed", {"peer_id": "a\x00b"}, MESSAGE, Compare("peer_name", TEXT, Op.EQ, "ab")),
    (
        "NUL removed from keys",
        {"peer_\x00id": "a"},
        MESSAGE,
        Compare("peer_name", TEXT, Op.EQ, "a"),
    ),
    ("tuples are lists", {"peer_id": ("a",)}, MESSAGE, In("peer_name", TEXT, ("a",))),
    (
        "digits past the printing limit",
        {"token_count": {"gt": "1" * 5000}},
        MESSAGE,
        Compare("token_count", NUMBER, Op.GT, float("inf")),
    ),
]


@pytest.mark.parametrize(("case", "filters", "spec", "tree"), TREES, ids=[c[0] for c in TREES])
def test_tree(case: str, filters: Any, spec: ResourceSpec, tree: Node | None) -> None:
    assert parse(filters, spec) == tree, case


def test_five_levels_of_nesting_are_allowed() -> None:
    leaf = Compare("peer_name", TEXT, Op.EQ, "a")
    assert parse(nested(5, {"peer_id": "a"})) == Not(leaf)  # one-entry AND/OR fold away
    five_nots: dict[str, Any] = {"peer_id": "a"}
    for _ in range(5):
        five_nots = {"NOT": [five_nots]}
    tree = parse(five_nots)
    for _ in range(5):
        assert isinstance(tree, Not)
        (tree,) = children(tree)
    assert tree == leaf


def test_a_tree_is_immutable_and_comparable() -> None:
    tree = parse({"peer_id": ["a", "b"]})
    assert isinstance(tree, In)
    with pytest.raises(AttributeError):
        tree.values = ()  # type: ignore[misc]
    assert tree == parse({"peer_id": {"in": ["a", "b"]}})
    assert hash(tree) == hash(parse({"peer_id": {"in": ["a", "b"]}}))


def test_resource_spec_is_read_only() -> None:
    fields = {"id": Field("name", TEXT)}
    spec = ResourceSpec("Peer", fields)
    fields["other"] = Field("x", TEXT)
    assert "other" not in spec.fields
    with pytest.raises(TypeError):
        spec.fields["x"] = Field("x", TEXT)  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-01", UTC_2024),
        ("2024-01-01T00:00:00", UTC_2024),
        ("2024-01-01 00:00:00.000000", UTC_2024),
        ("2024-01-01T00:00:00Z", UTC_2024),
        ("2024-01-01T00:00:00.000Z", UTC_2024),
        ("  2024-01-01T05:30:00+05:30  ", UTC_2024),
        ("2023-12-31T19:00:00-05:00", UTC_2024),
        ("2024-13-01", None),
        ("yesterday", None),
        ("", None),
        ("9999-12-31T23:00:00-05:00", None),
        ("0001-01-01T00:00:00+01:00", None),
    ],
)
def test_parse_datetime(text: str, expected: datetime | None) -> None:
    assert parse_datetime(text) == expected


# --- errors ----------------------------------------------------------------------------------

ERRORS: list[tuple[Any, ResourceSpec, str]] = [
    # names
    (
        {"content": "x"},
        MESSAGE,
        "Column 'content' is not allowed to be filtered on or does not exist on Message",
    ),
    (
        {"id": "x"},
        MESSAGE,
        "Column 'id' is not allowed to be filtered on or does not exist on Message",
    ),
    (
        {"and": []},
        MESSAGE,
        "Column 'and' is not allowed to be filtered on or does not exist on Message",
    ),
    (
        {"nope": 1},
        WORKSPACE,
        "Column 'nope' is not allowed to be filtered on or does not exist on Workspace",
    ),
    ({"is_active": True}, WORKSPACE, "Column 'is_active' does not exist on Workspace"),
    ({"peer_id": "*"}, WORKSPACE, "Column 'peer_id' does not exist on Workspace"),
    ({"session_id": "s"}, SESSION, "Column 'session_id' does not exist on Session"),
    ({"level2": "x"}, DOCUMENT, "Column 'level2' does not exist on Document"),
    # logical operators
    ({"AND": {"peer_id": "a"}}, MESSAGE, "AND operator must contain a list, got dict"),
    ({"OR": "x"}, MESSAGE, "OR operator must contain a list, got str"),
    ({"AND": None}, MESSAGE, "AND operator must contain a list, got NoneType"),
    ({"NOT": 1}, MESSAGE, "NOT operator must contain a list, got int"),
    ({"NOT": None}, MESSAGE, "NOT operator cannot be None"),
    ({"NOT": {"peer_id": "a"}}, MESSAGE, "NOT operator must contain a list, got dict"),
    ({"nope": 1, "AND": 5}, MESSAGE, "AND operator must contain a list, got int"),
    (nested(6, {"peer_id": "a"}), MESSAGE, "Filter nesting exceeds maximum depth of 5"),
    (nested(6, {}), MESSAGE, "Filter nesting exceeds maximum depth of 5"),
    (nested(300, {}), MESSAGE, "Filter nesting exceeds maximum depth of 5"),
    (nested(5, {"AND": ["x"]}), MESSAGE, "Filter nesting exceeds maximum depth of 5"),
    ({"AND": ["x"]}, MESSAGE, "AND operator entries must be objects, got str"),
    ({"OR": [{}, [1]]}, MESSAGE, "OR operator entries must be objects, got list"),
    ({"NOT": [None]}, MESSAGE, "NOT operator entries must be objects, got NoneType"),
    # operators
    ({"token_count": {"gt": 1, "regex": 2}}, MESSAGE, "Unsupported comparison operator: regex"),
    ({"peer_id": {"in": ["a"], "eq": "a"}}, MESSAGE, "Unsupported comparison operator: eq"),
    ({"metadata": {"k": {"gt": 1, "bad": 2}}}, MESSAGE, "Unsupported comparison operator: bad"),
    ({"metadata": {"contains": {}, "bad": 1}}, MESSAGE, "Unsupported comparison operator: bad"),
    (
        {"peer_id": {"ne": "alice"}},
        MESSAGE,
        "Invalid numeric value: alice. Expected a number, got str",
    ),
    (
        {"peer_id": {"gt": None}},
        MESSAGE,
        "Invalid numeric value: None. Expected a number, got NoneType",
    ),
    (
        {"token_count": {"gte": "abc"}},
        MESSAGE,
        "Invalid numeric value: abc. Expected a number, got str",
    ),
    ({"token_count": "abc"}, MESSAGE, "Invalid numeric value: abc. Expected a number, got str"),
    ({"token_count": [1, "x"]}, MESSAGE, "Invalid numeric value: x. Expected a number, got str"),
    (
        {"token_count": {"lt": [1]}},
        MESSAGE,
        "Invalid numeric value: [1]. Expected a number, got list",
    ),
    (
        {"token_count": float("nan")},
        MESSAGE,
        "Invalid numeric value: nan. Expected a number, got float",
    ),
    (
        {"token_count": {"gt": "NaN"}},
        MESSAGE,
        "Invalid numeric value: NaN. Expected a number, got str",
    ),
    ({"is_active": {"ne": "x"}}, SESSION, "Invalid numeric value: x. Expected a number, got str"),
    ({"metadata": {"ne": "x"}}, MESSAGE, "Invalid numeric value: x. Expected a number, got str"),
    (
        {"metadata": {"k": {"gt": float("nan")}}},
        MESSAGE,
        "Invalid numeric value: nan. Expected a number, got float",
    ),
    ({"created_at": {"gte": "yesterday"}}, MESSAGE, "Invalid datetime value: yesterday"),
    ({"created_at": {"in": "yesterday"}}, MESSAGE, "Invalid datetime value: yesterday"),
    (
        {"created_at": {"in": ["2024-01-01", "nope"]}},
        MESSAGE,
        "Invalid datetime value in list: nope",
    ),
    ({"created_at": ["2024-01-01", 5]}, MESSAGE, "Invalid datetime value in list: 5"),
    ({"created_at": {"gt": 5}}, MESSAGE, "Invalid datetime value: 5"),
    (
        {"peer_id": {"in": 5}},
        MESSAGE,
        "Invalid value for 'in' operator: 5. Expected an iterable (list, tuple, set), got int",
    ),
    (
        {"peer_id": {"in": "abc"}},
        MESSAGE,
        "Invalid value for 'in' operator: abc. Expected an iterable (list, tuple, set), got str",
    ),
    (
        {"created_at": {"in": "2024-01-01"}},
        MESSAGE,
        "Invalid value for 'in' operator: 2024-01-01. "
        "Expected an iterable (list, tuple, set), got str",
    ),
    (
        {"metadata": {"k": {"in": None}}},
        MESSAGE,
        "Invalid value for 'in' operator: None. "
        "Expected an iterable (list, tuple, set), got NoneType",
    ),
    (
        {"metadata": {"k": {"gt": None}}},
        MESSAGE,
        "Failed to build numeric comparison condition for operator 'gt' with value 'None': "
        "Failed to process numeric cast for value 'None': Invalid value for numeric operator: "
        "None. Expected a number, got NoneType",
    ),
    (
        {"metadata": {"k": {"lt": [1]}}},
        MESSAGE,
        "Failed to build numeric comparison condition for operator 'lt' with value '[1]': "
        "Failed to process numeric cast for value '[1]': Invalid value for numeric operator: "
        "[1]. Expected a number, got list",
    ),
    # where upstream answers 500
    (
        {"peer_id": {"regex": "w.*"}},
        MESSAGE,
        "Invalid filter for column 'peer_id': unsupported operator(s) ['regex']. Expected one of "
        "['contains', 'gt', 'gte', 'icontains', 'in', 'lt', 'lte', 'ne'] or a scalar value.",
    ),
    (
        {"peer_id": {}},
        MESSAGE,
        "Invalid filter for column 'peer_id': unsupported operator(s) []. Expected one of "
        "['contains', 'gt', 'gte', 'icontains', 'in', 'lt', 'lte', 'ne'] or a scalar value.",
    ),
    (
        {"created_at": "2024-01-01"},
        MESSAGE,
        "Invalid filter for column 'created_at': compare timestamps with an operator "
        "(gte, lte, gt, lt, ne or in), not a bare value",
    ),
    (
        {"peer_id": {"gt": 5}},
        MESSAGE,
        "Operator 'gt' requires a numeric or timestamp column, but 'peer_id' is a text column",
    ),
    (
        {"is_active": {"lt": True}},
        SESSION,
        "Operator 'lt' requires a numeric or timestamp column, but 'is_active' is a boolean column",
    ),
    (
        {"is_active": {"ne": 1}},
        SESSION,
        "Invalid value for column 'is_active': expected true or false, got int",
    ),
    (
        {"is_active": "true"},
        SESSION,
        "Invalid value for column 'is_active': expected true or false, got str",
    ),
    ({"peer_id": 5}, MESSAGE, "Invalid value for column 'peer_id': expected a string, got int"),
    (
        {"peer_id": [True]},
        MESSAGE,
        "Invalid value for column 'peer_id': expected a string, got bool",
    ),
    (
        {"token_count": {"contains": "1"}},
        MESSAGE,
        "Operator 'contains' requires a text column, but 'token_count' is a number column",
    ),
    (
        {"created_at": {"icontains": "2024-01-01"}},
        MESSAGE,
        "Operator 'icontains' requires a text column, but 'created_at' is a timestamp column",
    ),
    ({"peer_id": {"contains": ["a"]}}, MESSAGE, "Operator 'contains' takes a string, got list"),
    (
        {"metadata": {"k": {"icontains": {}}}},
        MESSAGE,
        "Operator 'icontains' takes a string, got dict",
    ),
    (
        {"metadata": {"in": ["a"]}},
        MESSAGE,
        "Operator 'in' cannot be applied to 'metadata' as a whole; apply it to one key, as in "
        '{"metadata": {"<key>": {"in": ...}}}',
    ),
    (
        {"metadata": {"gt": 5}},
        MESSAGE,
        "Operator 'gt' cannot be applied to 'metadata' as a whole; apply it to one key, as in "
        '{"metadata": {"<key>": {"gt": ...}}}',
    ),
    (
        {"metadata": {"k": {"in": [[1]]}}},
        MESSAGE,
        "Invalid value in 'in' list for 'k': expected a string, number or boolean, got list",
    ),
    # hostile input
    (["peer_id"], MESSAGE, "Filters must be an object, got list"),
    ("x", MESSAGE, "Filters must be an object, got str"),
    ({"peer_id": "\ud800"}, MESSAGE, "Filter strings must be valid Unicode (lone surrogate found)"),
    ({"\udfff": 1}, MESSAGE, "Filter strings must be valid Unicode (lone surrogate found)"),
    ({"peer_id": {"a"}}, MESSAGE, "Unsupported value in filters: set"),
    ({"peer_id": b"a"}, MESSAGE, "Unsupported value in filters: bytes"),
    ({1: "a"}, MESSAGE, "Filter object keys must be strings"),
    (
        {"peer_id": list(range(MAX_VALUES))},
        MESSAGE,
        f"Filter is too large: more than {MAX_VALUES} values",
    ),
    (
        {"metadata": {"k": deep_list(40)}},
        MESSAGE,
        "Filter value nesting exceeds maximum depth of 32",
    ),
    (
        {"metadata": {"contains": deep_list(3000)}},
        MESSAGE,
        "Filter value nesting exceeds maximum depth of 32",
    ),
    (
        {"token_count": {"gt": deep_list(3000)}},
        MESSAGE,
        "Invalid numeric value: <deeply nested value>. Expected a number, got list",
    ),
    (
        {"peer_id": {"contains": 10**5000}},
        MESSAGE,
        "Operator 'contains' takes a string; the integer is too long",
    ),
    (
        {"metadata": {"k": {"in": [10**5000]}}},
        MESSAGE,
        "Invalid value in 'in' list for 'k': integer too long",
    ),
    (
        {"peer_id": {"gt": 10**5000}},
        MESSAGE,
        "Operator 'gt' requires a numeric or timestamp column, but 'peer_id' is a text column",
    ),
    (
        {"peer_id": {"in": 10**5000}},
        MESSAGE,
        "Invalid value for 'in' operator: <integer too long to print>. "
        "Expected an iterable (list, tuple, set), got int",
    ),
]


@pytest.mark.parametrize(("filters", "spec", "detail"), ERRORS, ids=[e[2][:60] for e in ERRORS])
def test_error_detail(filters: Any, spec: ResourceSpec, detail: str) -> None:
    assert error(filters, spec) == detail


def test_errors_follow_upstream_order() -> None:
    # AND, then OR, then NOT, then the field keys in their order
    assert error({"x": 1, "NOT": None, "OR": 1}) == "OR operator must contain a list, got int"
    assert error({"peer_id": {"gt": 1}, "x": 1}).startswith("Operator 'gt' requires")
    assert error({"x": 1, "peer_id": {"gt": 1}}).startswith("Column 'x' is not allowed")
    # operators in their order; a wildcard operand skips only its own operator
    assert error({"token_count": {"gt": "*", "bad": 1}}) == "Unsupported comparison operator: bad"


def test_deep_structures_raise_invalid_not_recursion() -> None:
    deep: Any = {}
    for _ in range(100_000 // 2):
        deep = {"AND": [deep]}
    assert error(deep) == f"Filter is too large: more than {MAX_VALUES} values"
    assert error({"peer_id": deep_list(9000)}) == (
        "Invalid value for column 'peer_id': expected a string, got list"
    )


# --- never anything but Invalid ----------------------------------------------------------------

_KEYS = ("peer_id", "token_count", "created_at", "metadata", "session_id", "id")
_METADATA_KEYS = ("k", "n", "gt", "contains", "in", "")
_OPERATORS = ["gte", "lte", "gt", "lt", "ne", "in", "contains", "icontains", "eq", "*"]
_SCALARS: list[Any] = [
    "*",
    None,
    True,
    False,
    0,
    -1,
    1.5,
    2**63,
    2**70,
    -(2**80),
    10**400,
    10**5000,
    float("inf"),
    float("-inf"),
    float("nan"),
    "",
    "a",
    "2024-01-01",
    "1e5",
    "nan",
    "inf",
    "\x00",
    "%_",
    "\ud800",
    "9" * 5000,
    "ключ",
    [],
    {},
]


class _Generator:
    def __init__(self, seed: int, keys: tuple[str, ...], metadata_keys: tuple[str, ...]) -> None:
        self.rng = random.Random(seed)
        self.keys = (*keys, "AND", "OR", "NOT")
        self.metadata_keys = metadata_keys

    def value(self, depth: int) -> Any:
        rng = self.rng
        roll = rng.random()
        if depth > 6 or roll < 0.45:
            return rng.choice(_SCALARS)
        if roll < 0.6:
            return [self.value(depth + 1) for _ in range(rng.randint(0, 3))]
        if roll < 0.8:
            return {rng.choice(_OPERATORS): self.value(depth + 1) for _ in range(rng.randint(0, 2))}
        return self.filter(depth + 1)

    def filter(self, depth: int) -> dict[str, Any]:
        rng = self.rng
        filters: dict[str, Any] = {}
        for _ in range(rng.randint(0, 3)):
            key = rng.choice(self.keys)
            if key in ("AND", "OR", "NOT") and rng.random() < 0.8:
                filters[key] = [self.filter(depth + 1) for _ in range(rng.randint(0, 2))]
            elif key == "metadata" and rng.random() < 0.6:
                filters[key] = {
                    rng.choice(self.metadata_keys): self.value(depth + 1)
                    for _ in range(rng.randint(0, 2))
                }
            else:
                filters[key] = self.value(depth + 1)
        return filters


def random_filters(
    seed: int,
    count: int,
    keys: tuple[str, ...] = _KEYS,
    metadata_keys: tuple[str, ...] = _METADATA_KEYS,
) -> list[dict[str, Any]]:
    """Deterministic random filters, valid and not, over the given keys."""
    generator = _Generator(seed, keys, metadata_keys)
    return [generator.filter(0) for _ in range(count)]


def test_random_filters_raise_only_invalid() -> None:
    parsed = 0
    for filters in random_filters(20240101, 3000):
        try:
            parse(filters)
            parsed += 1
        except Invalid as caught:
            caught.message.encode("utf-8")  # always printable in a JSON response
    assert parsed > 300
