"""Parsing a `filters` object against a resource spec into a filter tree."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from mindkeeper.core.filters.tree import (
    And,
    Compare,
    Field,
    In,
    IsNull,
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
    ResourceSpec,
    Scalar,
    Substring,
)
from mindkeeper.core.filters.values import (
    all_of,
    check_float_cast,
    iterable,
    json_pattern,
    not_a_number,
    parse_datetime,
    sanitise,
    show,
    text_of,
    to_number,
    type_name,
)
from mindkeeper.errors import Invalid

#: Logical nesting allowed below the top-level object.
MAX_DEPTH = 5

LOGICAL_OPERATORS = ("AND", "OR", "NOT")
OPERATORS = frozenset({"gte", "lte", "gt", "lt", "ne", "in", "contains", "icontains"})
_NUMERIC_OPERATORS = frozenset({"gte", "lte", "gt", "lt", "ne"})
_SORTED_OPERATORS = sorted(OPERATORS)


def parse_filters(filters: Any, spec: ResourceSpec) -> Node | None:
    """Parse a `filters` object for `spec`; None means no condition."""
    if filters is None:
        return None
    clean = sanitise(filters)
    if not isinstance(clean, dict):
        raise Invalid(f"Filters must be an object, got {type_name(clean)}")
    return _Parser(spec).filter(clean, 0)


class _Parser:
    def __init__(self, spec: ResourceSpec) -> None:
        self.spec = spec

    def filter(self, value: Any, depth: int, within: str = "") -> Node | None:
        """One filter object; `within` names the logical operator holding it."""
        if depth > MAX_DEPTH:
            raise Invalid(f"Filter nesting exceeds maximum depth of {MAX_DEPTH}")
        if not isinstance(value, dict):
            raise Invalid(f"{within} operator entries must be objects, got {type_name(value)}")
        nodes: list[Node] = []
        for operator in LOGICAL_OPERATORS:
            if operator not in value:
                continue
            entries = value[operator]
            if operator == "NOT" and entries is None:
                raise Invalid("NOT operator cannot be None")
            if not isinstance(entries, list):
                raise Invalid(f"{operator} operator must contain a list, got {type_name(entries)}")
            subs = [
                sub
                for entry in entries
                if (sub := self.filter(entry, depth + 1, operator)) is not None
            ]
            if not subs:
                continue
            if operator == "AND":
                nodes.append(subs[0] if len(subs) == 1 else And(tuple(subs)))
            elif operator == "OR":
                nodes.append(subs[0] if len(subs) == 1 else Or(tuple(subs)))
            else:
                negated: list[Node] = [Not(sub) for sub in subs]
                nodes.append(negated[0] if len(negated) == 1 else And(tuple(negated)))
        for key, item in value.items():
            if key in LOGICAL_OPERATORS:
                continue
            node = self.field(key, item)
            if node is not None:
                nodes.append(node)
        return all_of(nodes)

    def field(self, key: str, value: Any) -> Node | None:
        """The condition on one public key."""
        spec = self.spec
        found = spec.fields.get(key)
        if found is None:
            if key in spec.absent or spec.unknown_keys_absent:
                raise Invalid(f"Column '{key}' does not exist on {spec.name}")
            raise Invalid(
                f"Column '{key}' is not allowed to be filtered on or does not exist on {spec.name}"
            )
        if value == "*":
            return None
        if value is None:
            return IsNull(found.column)
        if found.kind is Kind.JSON:
            return self.json_column(found, key, value)
        if isinstance(value, list):
            value = {"in": value}
        if isinstance(value, dict):
            if not any(name in OPERATORS for name in value):
                raise Invalid(
                    f"Invalid filter for column '{key}': unsupported operator(s) "
                    f"{sorted(value)}. Expected one of {_SORTED_OPERATORS} or a scalar value."
                )
            return _each_operator(value, lambda op, operand: self.operator(found, key, op, operand))
        return self.equal(found, key, value)

    def equal(self, found: Field, key: str, value: Any) -> Node:
        """A bare scalar on a plain column."""
        kind = found.kind
        if kind is Kind.TIMESTAMP:
            raise Invalid(
                f"Invalid filter for column '{key}': compare timestamps with an operator "
                "(gte, lte, gt, lt, ne or in), not a bare value"
            )
        return Compare(found.column, kind, Op.EQ, self.operand(found, key, value))

    def operand(self, found: Field, key: str, value: Any) -> Scalar:
        """A value checked against the column's kind (for equality and `in`)."""
        kind = found.kind
        if kind is Kind.NUMBER:
            return to_number(value)
        if kind is Kind.BOOL:
            if isinstance(value, bool):
                return value
            raise Invalid(
                f"Invalid value for column '{key}': expected true or false, got {type_name(value)}"
            )
        if isinstance(value, str):
            return value
        raise Invalid(
            f"Invalid value for column '{key}': expected a string, got {type_name(value)}"
        )

    def operator(self, found: Field, key: str, operator: str, operand: Any) -> Node | None:
        """One operator on a plain column."""
        kind, column = found.kind, found.column
        moment: datetime | None = None
        if kind is Kind.TIMESTAMP and isinstance(operand, str):
            moment = parse_datetime(operand)
            if moment is None:
                raise Invalid(f"Invalid datetime value: {operand}")
        if operator in _NUMERIC_OPERATORS:
            op = Op(operator)
            if kind is Kind.TIMESTAMP:
                if moment is None:
                    raise Invalid(f"Invalid datetime value: {show(operand)}")
                return Compare(column, kind, op, moment)
            if kind is Kind.NUMBER:
                return Compare(column, kind, op, to_number(operand))
            check_float_cast(operand)
            if kind is Kind.BOOL and op is Op.NE:
                return Compare(column, kind, op, self.operand(found, key, operand))
            kind_name = "boolean" if kind is Kind.BOOL else "text"
            raise Invalid(
                f"Operator '{operator}' requires a numeric or timestamp column, "
                f"but '{key}' is a {kind_name} column"
            )
        if operator == "in":
            return self.membership(found, key, operand)
        if kind is not Kind.TEXT:
            raise Invalid(
                f"Operator '{operator}' requires a text column, "
                f"but '{key}' is a {kind.value} column"
            )
        return Substring(column, text_of(operand, operator))

    def membership(self, found: Field, key: str, operand: Any) -> Node | None:
        """`in` on a plain column: `*` anywhere drops it, `null` entries are skipped."""
        entries = iterable(operand)
        if "*" in entries:
            return None
        values: list[Scalar] = []
        if found.kind is Kind.TIMESTAMP:
            if not entries:
                return None
            for entry in entries:
                if entry is None:
                    continue
                moment = parse_datetime(entry) if isinstance(entry, str) else None
                if moment is None:
                    raise Invalid(f"Invalid datetime value in list: {show(entry)}")
                values.append(moment)
        else:
            values = [self.operand(found, key, entry) for entry in entries if entry is not None]
        if not values:
            return Never()
        return In(found.column, found.kind, tuple(values))

    def json_column(self, found: Field, key: str, value: Any) -> Node | None:
        """A JSON column: containment of the whole, or conditions per key."""
        column = found.column
        if not isinstance(value, dict):
            return json_pattern(column, value)
        if not any(name in OPERATORS for name in value):
            return all_of(
                [
                    node
                    for name, item in value.items()
                    if (node := self.json_key(column, name, item)) is not None
                ]
            )

        def whole(operator: str, operand: Any) -> Node:
            if operator == "contains":
                return json_pattern(column, operand)
            if operator in _NUMERIC_OPERATORS:
                check_float_cast(operand)
            raise Invalid(
                f"Operator '{operator}' cannot be applied to '{key}' as a whole; apply it to "
                f'one key, as in {{"{key}": {{"<key>": {{"{operator}": ...}}}}}}'
            )

        return _each_operator(value, whole)

    def json_key(self, column: str, name: str, value: Any) -> Node | None:
        """One key of a JSON column."""
        if isinstance(value, dict) and any(op in OPERATORS for op in value):
            return _each_operator(
                value, lambda op, operand: self.key_operator(column, name, op, operand)
            )
        if value == "*":
            return None
        return json_pattern(column, {name: value})

    def key_operator(self, column: str, name: str, operator: str, operand: Any) -> Node | None:
        """One operator on one key of a JSON column, comparing the key's text form."""
        if operator in _NUMERIC_OPERATORS:
            return self.key_comparison(column, name, Op(operator), operand)
        if operator == "in":
            entries = iterable(operand)
            if "*" in entries:
                return None
            texts = tuple(text for entry in entries if (text := _key_text(name, entry)) is not None)
            return KeyIn(column, name, texts) if texts else Never()
        return KeySubstring(column, name, text_of(operand, operator))

    def key_comparison(self, column: str, name: str, op: Op, operand: Any) -> Node:
        """Numeric when the operand reads as a number, else bytewise on the text form."""
        if isinstance(operand, bool):
            return KeyText(column, name, op, "true" if operand else "false")
        if isinstance(operand, str):
            try:
                number: Number = int(operand)
            except ValueError:
                try:
                    number = float(operand)
                except ValueError:
                    return KeyText(column, name, op, operand)
        elif isinstance(operand, int | float):
            number = operand
        else:
            shown = show(operand)
            raise Invalid(
                f"Failed to build numeric comparison condition for operator '{op.value}' with "
                f"value '{shown}': Failed to process numeric cast for value '{shown}': "
                f"Invalid value for numeric operator: {shown}. "
                f"Expected a number, got {type_name(operand)}"
            )
        if isinstance(number, float) and math.isnan(number):
            raise not_a_number(operand)
        return KeyNumber(column, name, op, number)


def _each_operator(
    operators: dict[str, Any], build: Callable[[str, Any], Node | None]
) -> Node | None:
    """The conjunction of `build(operator, operand)` over an object of operators, in order:
    an unknown operator is Invalid, a `*` operand adds no condition."""
    nodes: list[Node] = []
    for operator, operand in operators.items():
        if operator not in OPERATORS:
            raise Invalid(f"Unsupported comparison operator: {operator}")
        if operand == "*":
            continue
        node = build(operator, operand)
        if node is not None:
            nodes.append(node)
    return all_of(nodes)


def _key_text(name: str, entry: Any) -> str | None:
    """The text form an `in` entry matches on a JSON key; None for `null`."""
    if entry is None:
        return None
    if isinstance(entry, bool):
        return "true" if entry else "false"
    if isinstance(entry, dict | list):
        raise Invalid(
            f"Invalid value in 'in' list for '{name}': expected a string, number or boolean, "
            f"got {type_name(entry)}"
        )
    try:
        return str(entry)
    except ValueError:
        raise Invalid(f"Invalid value in 'in' list for '{name}': integer too long") from None
