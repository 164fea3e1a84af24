"""Compile a parsed filter (`mindkeeper.core.filters`) into a SQLAlchemy condition.

`compile_filter(node, columns, dialect)` maps each logical column name of the tree to a
SQLAlchemy column through `columns` and returns one boolean clause that selects the same rows
on PostgreSQL and SQLite:

* text comparisons are bytewise (`COLLATE "C"` on PostgreSQL, SQLite's BINARY);
* `contains`/`icontains` fold ASCII letters only (`translate` on PostgreSQL, SQLite's
  ASCII-only `lower`) and test with `strpos`/`instr`, so `%` and `_` are plain characters;
* a metadata key's text form is PostgreSQL's `->>`; SQLite rebuilds it from `json_each`
  (strings bare, `true`/`false`, numbers as written, arrays and objects as JSON text,
  where SQLite's spacing differs from PostgreSQL's: `[1,2]` against `[1, 2]`);
* a key reads as a number when its value is a JSON number, or a string spelling a JSON
  number with an exponent of at most two digits; anything else is NULL, never an error.
  PostgreSQL compares exactly (`numeric`), SQLite in double precision;
* JSON containment is `@>` on PostgreSQL and the registered `jsonb @>` twin on SQLite
  (`mindkeeper.storage.dialects.json_contains`), with PostgreSQL's rule that an array
  contains a bare scalar it holds;
* conditions keep SQL's three-valued logic on both: a row lacking a key or holding NULL
  matches neither a condition nor its `NOT`.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Float,
    Numeric,
    Select,
    Text,
    and_,
    case,
    cast,
    collate,
    false,
    func,
    literal,
    literal_column,
    not_,
    null,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal

from mindkeeper.core.filters import (
    And,
    Compare,
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
    Number,
    Op,
    Or,
    Scalar,
    Substring,
    children,
)
from mindkeeper.storage.dialects import json_contains
from mindkeeper.storage.types import UTCDateTime

#: Logical column name -> the SQLAlchemy column (or expression) it stands for.
ColumnMap = Mapping[str, ColumnElement[Any]]

_COMPARE: dict[Op, Callable[[Any, Any], ColumnElement[bool]]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.GT: operator.gt,
    Op.GTE: operator.ge,
    Op.LT: operator.lt,
    Op.LTE: operator.le,
}

#: Items per parenthesised group of a long AND/OR: SQLite parses `a OR b OR ...` into a
#: tree as deep as the list is long and refuses depths past 1000.
_FAN_OUT = 32

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_ASCII_FOLD = str.maketrans(_UPPER, _LOWER)

#: A JSON number, optionally padded with JSON whitespace, exponent of at most two digits.
_PG_NUMBER_PATTERN = "^[ \t\n\r]*-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][-+]?[0-9]{1,2})?[ \t\n\r]*$"
#: SQLite GLOB patterns a JSON-valid text must not match to spell the same numbers.
_SQLITE_NOT_NUMBER = (
    "*[^-+.0-9eE]*",  # letters (hex, Infinity, NaN) and non-JSON whitespace
    "[+.]*",  # a leading plus or point (JSON5)
    "-.*",
    "*.",  # a trailing point (JSON5)
    "*.[eE]*",
    "*[eE]*[0-9][0-9][0-9]*",  # an exponent of three digits or more
)


def compile_filter(node: Node, columns: ColumnMap, dialect: str) -> ColumnElement[bool]:
    """Return the condition `node` stands for on `dialect` ("postgresql" or "sqlite")."""
    if dialect not in ("postgresql", "sqlite"):
        raise ValueError(f"filters do not support the {dialect!r} dialect")
    compiler = _Compiler(columns, dialect == "postgresql")
    done: list[ColumnElement[bool]] = []
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:  # post-order without recursion
        current, expanded = stack.pop()
        kids = children(current)
        if not kids and not isinstance(current, And | Or):
            done.append(compiler.condition(current))
        elif not expanded:
            stack.append((current, True))
            stack.extend((kid, False) for kid in reversed(kids))
        else:
            parts = done[len(done) - len(kids) :]
            del done[len(done) - len(kids) :]
            done.append(_combine(current, parts))
    return done[0]


def apply_filter(
    stmt: Select[Any], node: Node | None, columns: ColumnMap, dialect: str
) -> Select[Any]:
    """Add the filter's condition to a select; no filter leaves it unchanged."""
    if node is None:
        return stmt
    return stmt.where(compile_filter(node, columns, dialect))


def _combine(node: Node, parts: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    if isinstance(node, Not):
        return not_(parts[0])
    if isinstance(node, And):
        return _balanced(and_, parts) if parts else true()
    return _balanced(or_, parts) if parts else false()


def _balanced(
    join: Callable[..., ColumnElement[bool]], parts: list[ColumnElement[bool]]
) -> ColumnElement[bool]:
    """Join many conditions as a shallow tree of parenthesised groups."""
    while len(parts) > _FAN_OUT:
        parts = [
            _Parenthesised(join(*parts[start : start + _FAN_OUT]))
            for start in range(0, len(parts), _FAN_OUT)
        ]
    return join(*parts)


class _Parenthesised(ColumnElement[bool]):
    """A condition kept in parentheses (SQLAlchemy flattens nested ANDs and ORs otherwise)."""

    __visit_name__ = "mindkeeper_parenthesised"
    _traverse_internals = [("clause", InternalTraversal.dp_clauseelement)]
    inherit_cache = True
    type = Boolean()

    def __init__(self, clause: ColumnElement[bool]) -> None:
        self.clause = clause


@compiles(_Parenthesised)
def _render_parenthesised(element: _Parenthesised, compiler: Any, **kw: Any) -> str:
    return "(" + str(compiler.process(element.clause, **kw)) + ")"


def _const(text: str) -> ColumnElement[Any]:
    """An inline SQL string constant (for fixed strings only, never user data)."""
    return literal_column("'" + text.replace("'", "''") + "'")


def _fold(text: str) -> str:
    return text.translate(_ASCII_FOLD)


def _number_literal(value: Number) -> ColumnElement[Any]:
    """A number bound as BIGINT when it fits, else as a double (infinite past its range)."""
    if isinstance(value, int) and _INT64_MIN <= value <= _INT64_MAX:
        return literal(value, BigInteger())
    try:
        as_float = float(value)
    except OverflowError:
        as_float = float("inf") if value > 0 else float("-inf")
    return literal(as_float, Float())


def _decimal_literal(value: Number) -> ColumnElement[Any]:
    """An exact numeric: a float as its shortest decimal spelling (0.1 is 0.1)."""
    exact = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
    return literal(exact, Numeric())


class _Compiler:
    def __init__(self, columns: ColumnMap, postgres: bool) -> None:
        self.columns = columns
        self.postgres = postgres

    def column(self, name: str) -> ColumnElement[Any]:
        try:
            return self.columns[name]
        except KeyError:
            raise LookupError(f"no column is mapped for the logical name {name!r}") from None

    def condition(self, node: Node) -> ColumnElement[bool]:
        """One leaf of the tree."""
        if isinstance(node, Never):
            return false()
        if isinstance(node, IsNull):
            return self.column(node.column).is_(None)
        if isinstance(node, Compare):
            column = self.column(node.column)
            return _COMPARE[node.op](column, self.bind(node.kind, node.value))
        if isinstance(node, In):
            column = self.column(node.column)
            return column.in_([self.bind(node.kind, value) for value in node.values])
        if isinstance(node, Substring):
            return self.substring(self.column(node.column), node.text)
        if isinstance(node, JsonContains):
            return self.json_contains(self.column(node.column), json.loads(node.pattern))
        if isinstance(node, KeyNumber):
            column = self.column(node.column)
            if self.postgres:
                return _COMPARE[node.op](
                    self.pg_number(column, node.key), _decimal_literal(node.value)
                )
            return _COMPARE[node.op](
                self.sqlite_number(column, node.key), _number_literal(node.value)
            )
        if isinstance(node, KeyText):
            text = self.key_text(self.column(node.column), node.key)
            if self.postgres:
                text = collate(text, "C")
            return _COMPARE[node.op](text, literal(node.value, Text()))
        if isinstance(node, KeyIn):
            text = self.key_text(self.column(node.column), node.key)
            return text.in_([literal(value, Text()) for value in node.values])
        if isinstance(node, KeySubstring):
            return self.substring(self.key_text(self.column(node.column), node.key), node.text)
        raise TypeError(f"not a filter condition: {node!r}")

    def bind(self, kind: Kind, value: Scalar) -> Any:
        """A comparison operand; numbers and timestamps are typed explicitly."""
        if kind is Kind.NUMBER and isinstance(value, int | float):
            return _number_literal(value)
        if kind is Kind.TIMESTAMP:
            return literal(value, UTCDateTime())
        return value

    def substring(self, text: ColumnElement[Any], needle: str) -> ColumnElement[bool]:
        """`text` holds `needle`, ignoring ASCII case."""
        probe = literal(_fold(needle), Text())
        if self.postgres:
            folded = func.translate(text, _const(_UPPER), _const(_LOWER))
            found: ColumnElement[bool] = func.strpos(folded, probe) > 0
            return found
        located: ColumnElement[bool] = func.instr(func.lower(text), probe) > 0
        return located

    def json_contains(self, column: ColumnElement[Any], pattern: Any) -> ColumnElement[bool]:
        """`column @> pattern` with PostgreSQL's semantics and NULL handling on both."""
        if self.postgres:  # typed as a boolean, so that NOT applies to it
            return type_coerce(json_contains("postgresql", column, pattern), Boolean())
        contained = json_contains("sqlite", column, pattern)
        if not isinstance(pattern, dict | list):  # an array contains a scalar it holds
            wrapped: Any = [pattern]
            contained = or_(contained, json_contains("sqlite", column, wrapped))
        guarded: ColumnElement[bool] = case((column.is_(None), null()), else_=contained)
        return guarded

    def key_text(self, column: ColumnElement[Any], key: str) -> ColumnElement[Any]:
        """The text form of a JSON key (NULL when absent or JSON null)."""
        if self.postgres:
            return self.pg_text(column, key)
        entry = func.json_each(column).table_valued("key", "type", "atom", "value", "fullkey")
        kind, atom = entry.c.type, entry.c.atom
        spelled: ColumnElement[Any] = cast(atom, Text())
        if _path_safe(key):  # the number as written, not as a double prints
            spelled = func.coalesce(column.op("->")(entry.c.fullkey), spelled)
        form = case(
            (kind == _const("text"), atom),
            (kind == _const("true"), _const("true")),
            (kind == _const("false"), _const("false")),
            (kind.in_([_const("integer"), _const("real")]), spelled),
            (kind.in_([_const("array"), _const("object")]), entry.c.value),
            else_=null(),
        )
        query = select(form).select_from(entry).where(entry.c.key == literal(key, Text()))
        return query.correlate_except(entry).scalar_subquery()

    @staticmethod
    def pg_text(column: ColumnElement[Any], key: str) -> ColumnElement[Any]:
        return column.op("->>", return_type=Text())(literal(key, Text()))

    def pg_number(self, column: ColumnElement[Any], key: str) -> ColumnElement[Any]:
        """The key's value as `numeric` when it spells a number, else NULL."""
        spells = self.pg_text(column, key).op("~", is_comparison=True)(
            literal(_PG_NUMBER_PATTERN, Text())
        )
        return case((spells, cast(self.pg_text(column, key), Numeric())), else_=null())

    @staticmethod
    def sqlite_number(column: ColumnElement[Any], key: str) -> ColumnElement[Any]:
        """The key's value as an SQLite number when it is or spells one, else NULL."""
        entry = func.json_each(column).table_valued("key", "type", "atom", "value", "fullkey")
        kind, atom = entry.c.type, entry.c.atom
        trimmed = func.trim(atom, literal_column("char(32, 9, 10, 13)"))
        spells = and_(
            kind == _const("text"),
            func.json_valid(trimmed) == literal_column("1"),
            *(not_(trimmed.op("GLOB")(_const(pattern))) for pattern in _SQLITE_NOT_NUMBER),
        )
        value = case(
            (kind.in_([_const("integer"), _const("real")]), atom),
            (spells, func.json_extract(trimmed, _const("$"))),
            else_=null(),
        )
        query = select(value).select_from(entry).where(entry.c.key == literal(key, Text()))
        return query.correlate_except(entry).scalar_subquery()


def _path_safe(key: str) -> bool:
    """Whether SQLite's JSON path syntax can spell `key` (no quote, backslash or control)."""
    return not any(char in '"\\' or ord(char) < 0x20 for char in key)
