"""Checking filter values: input hygiene, numbers, timestamps and containment patterns."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from mindkeeper.core.filters.tree import And, JsonContains, Never, Node, Number
from mindkeeper.errors import Invalid

#: Nesting allowed inside one value (a containment pattern, an operand).
MAX_VALUE_DEPTH = 32
#: JSON values (objects, lists and scalars) allowed in one filter.
MAX_VALUES = 10_000

_NAIVE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%Y-%m-%d",
)


def sanitise(value: Any) -> Any:
    """Copy a JSON value without recursion: NUL removed, lone surrogates and excess refused."""
    holder: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, holder, 0)]
    count = 0
    while stack:
        source, parent, slot = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise Invalid(f"Filter is too large: more than {MAX_VALUES} values")
        if isinstance(source, dict):
            copy: dict[str, Any] = {}
            for key, item in source.items():
                if not isinstance(key, str):
                    raise Invalid("Filter object keys must be strings")
                clean_key = _clean_text(key)
                copy[clean_key] = None
                stack.append((item, copy, clean_key))
            parent[slot] = copy
        elif isinstance(source, list | tuple):
            items: list[Any] = [None] * len(source)
            stack.extend((item, items, index) for index, item in enumerate(source))
            parent[slot] = items
        elif isinstance(source, str):
            parent[slot] = _clean_text(source)
        elif source is None or isinstance(source, bool | int | float):
            parent[slot] = source
        else:
            raise Invalid(f"Unsupported value in filters: {type(source).__name__}")
    return holder[0]


def _clean_text(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid("Filter strings must be valid Unicode (lone surrogate found)") from None
    return text


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a JSON value (a scalar is 0), counted up to `limit + 1`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        current, level = stack.pop()
        if isinstance(current, dict | list):
            level += 1
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            stack.extend((item, level) for item in _items(current))
    return deepest


def _items(value: dict[str, Any] | list[Any]) -> list[Any]:
    return list(value.values()) if isinstance(value, dict) else value


def _check_depth(value: Any) -> None:
    if _depth(value, MAX_VALUE_DEPTH) > MAX_VALUE_DEPTH:
        raise Invalid(f"Filter value nesting exceeds maximum depth of {MAX_VALUE_DEPTH}")


def show(value: Any) -> str:
    """Python's `str` of a value, as upstream prints it, without recursing or overflowing."""
    if isinstance(value, dict | list) and _depth(value, MAX_VALUE_DEPTH) > MAX_VALUE_DEPTH:
        return "<deeply nested value>"
    try:
        return str(value)
    except ValueError:  # an integer past the interpreter's digit limit
        return "<integer too long to print>"


def type_name(value: Any) -> str:
    """Python's name for a value's type, as upstream prints it (`str`, `NoneType`)."""
    return type(value).__name__


def text_of(value: Any, operator: str) -> str:
    """The text a `contains` operand stands for (Python's `str`, as upstream)."""
    if isinstance(value, dict | list):
        raise Invalid(f"Operator '{operator}' takes a string, got {type_name(value)}")
    try:
        return str(value)
    except ValueError:
        raise Invalid(f"Operator '{operator}' takes a string; the integer is too long") from None


def to_number(value: Any) -> Number:
    """A number from a number, a boolean or a numeric string, or Invalid."""
    number: Number
    if isinstance(value, bool):
        number = int(value)
    elif isinstance(value, int | float):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                raise not_a_number(value) from None
    else:
        raise not_a_number(value)
    if isinstance(number, float) and math.isnan(number):
        raise not_a_number(value)
    return number


def not_a_number(value: Any) -> Invalid:
    """Upstream's error for an operand that is not a number."""
    return Invalid(
        f"Invalid numeric value: {show(value)}. Expected a number, got {type_name(value)}"
    )


def check_float_cast(value: Any) -> None:
    """Upstream casts every `gte lte gt lt ne` operand to float first; keep its message."""
    try:
        float(value)
    except (TypeError, ValueError):
        raise not_a_number(value) from None
    except OverflowError:
        pass


def parse_datetime(text: str) -> datetime | None:
    """An aware UTC datetime from ISO-8601 (naive means UTC), or None."""
    text = text.strip()
    parsed: datetime | None = None
    for pattern in _NAIVE_FORMATS:
        try:
            parsed = datetime.strptime(text, pattern)
            break
        except (ValueError, OverflowError):
            continue
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except (ValueError, OverflowError):
            return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def iterable(value: Any) -> list[Any]:
    """The entries of an `in` operand (an object gives its keys, as in Python), or Invalid."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value)
    raise Invalid(
        f"Invalid value for 'in' operator: {show(value)}. "
        f"Expected an iterable (list, tuple, set), got {type_name(value)}"
    )


def json_pattern(column: str, value: Any) -> Node:
    """Containment of `value`, or Never when no stored JSON can hold it (NaN, infinities,
    integers too long to print); integers beyond 64 bits compare exactly on both databases."""
    _check_depth(value)
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return Never()
    return JsonContains(column, text)


def all_of(nodes: list[Node]) -> Node | None:
    """The conjunction of `nodes`: None for none, the node itself for one."""
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else And(tuple(nodes))
