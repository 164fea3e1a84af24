"""The body checks shared by every surface: one depth limit, walked without recursion."""

from __future__ import annotations

import json
import math
from typing import Any

from mindkeeper.http import json_input
from mindkeeper.http.json_input import MAX_DEPTH


def nested(levels: int) -> Any:
    """A value of `levels` nested arrays."""
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def test_depth_limit_boundary() -> None:
    assert json_input.problem(nested(MAX_DEPTH)) is None
    assert json_input.problem(nested(MAX_DEPTH + 1)) == json_input.TOO_DEEP
    assert not json_input.too_deep(nested(MAX_DEPTH))
    assert json_input.too_deep(nested(MAX_DEPTH + 1))
    assert json_input.problem({"a": {"b": nested(MAX_DEPTH - 2)}}) is None
    assert json_input.problem({"a": {"b": nested(MAX_DEPTH - 1)}}) == json_input.TOO_DEEP


def test_values_far_beyond_the_stack_are_walked() -> None:
    deep = nested(200_000)
    assert json_input.problem(deep) == json_input.TOO_DEEP
    assert json_input.too_deep(deep)
    printable = json_input.printable(deep)
    assert json.dumps(printable).count("[") == MAX_DEPTH


def test_text_and_numbers() -> None:
    assert json_input.problem({"k": ["a\x00"]}) == json_input.NUL
    assert json_input.problem({"\x00": 1}) == json_input.NUL
    assert json_input.problem(["\ud800"]) == json_input.SURROGATE
    assert json_input.problem({"é\udfff": 1}) == json_input.SURROGATE
    assert json_input.problem(["\U0001f600", "é", 2**70, True, None, 1.5]) is None
    for number in (math.nan, math.inf, -math.inf):
        assert json_input.problem({"a": [number]}) == json_input.NOT_FINITE


def test_printable_escapes_what_encoders_refuse() -> None:
    value = {"\ud800": ["x\udfff", math.nan, (1, "ok")], "n": 2**70}
    out = json_input.printable(value)
    assert out == {"\\ud800": ["x\\udfff", None, [1, "ok"]], "n": 2**70}
    json.dumps(out).encode()
