"""What every JSON request body must satisfy before anything reads it, on every surface.

One nesting limit (`MAX_DEPTH` levels of objects and arrays, the body itself being level 1)
holds wherever JSON is accepted. Besides it, text must be storable (no NUL, no unpaired
surrogate) and numbers finite: the standard library's parser reads `NaN`, `Infinity` and
`1e400` as floats that JSON cannot represent. Every walk here is iterative, so a deep value
cannot exhaust the interpreter's stack.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: Levels of objects and arrays a body may nest; the body itself is level 1.
MAX_DEPTH = 128

TOO_DEEP = f"JSON must not be nested more than {MAX_DEPTH} levels deep"
NUL = "Text must not contain NUL characters (\\u0000)"
SURROGATE = "Text must not contain unpaired surrogates (\\ud800-\\udfff)"
NOT_FINITE = "Numbers must be finite (NaN, Infinity and numbers beyond 1.8e308 are not JSON)"

_SURROGATES = re.compile("[\ud800-\udfff]")
_TRUNCATED = "..."


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored, or None."""
    if "\x00" in text:
        return NUL
    if not text.isascii() and _SURROGATES.search(text) is not None:
        return SURROGATE
    return None


def problem(value: Any) -> str | None:
    """The first reason a parsed JSON value cannot be accepted, or None.

    Checks the nesting depth, every string (keys too) and every number.
    """
    stack: list[tuple[Any, int]] = [([value], 0)]
    while stack:
        container, depth = stack.pop()
        if isinstance(container, dict):
            for key in container:
                if type(key) is str and (reason := text_problem(key)):
                    return reason
            children = container.values()
        else:
            children = container
        for child in children:
            kind = type(child)
            if kind is str:
                if reason := text_problem(child):
                    return reason
            elif kind is dict or kind is list:
                if depth >= MAX_DEPTH:
                    return TOO_DEEP
                stack.append((child, depth + 1))
            elif kind is float and not math.isfinite(child):
                return NOT_FINITE
    return None


def too_deep(value: Any) -> bool:
    """True when a parsed JSON value nests objects and arrays deeper than `MAX_DEPTH`."""
    stack: list[tuple[Any, int]] = [([value], 0)]
    while stack:
        container, depth = stack.pop()
        for child in container.values() if isinstance(container, dict) else container:
            if isinstance(child, dict | list):
                if depth >= MAX_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False


def printable(value: Any) -> Any:
    """A copy of a value that any JSON encoder can write: unpaired surrogates escaped as
    `\\udXXX`, non-finite numbers as null, and containers deeper than `MAX_DEPTH` cut to
    `"..."`. Other values are kept as they are."""
    holder: list[Any] = [None]
    stack: list[tuple[Any, list[Any] | dict[Any, Any], Any, int]] = [(value, holder, 0, 0)]
    while stack:
        item, parent, slot, depth = stack.pop()
        if isinstance(item, str):
            out: Any = _escaped(item)
        elif isinstance(item, float) and not math.isfinite(item):
            out = None
        elif isinstance(item, dict | list | tuple):
            if depth >= MAX_DEPTH:
                out = _TRUNCATED
            elif isinstance(item, dict):
                out = {}
                for key, sub in item.items():
                    name = _escaped(key) if isinstance(key, str) else key
                    out[name] = None
                    stack.append((sub, out, name, depth + 1))
            else:
                out = [None] * len(item)
                stack.extend((sub, out, i, depth + 1) for i, sub in enumerate(item))
        else:
            out = item
        parent[slot] = out
    return holder[0]


def _escaped(text: str) -> str:
    if text.isascii() or _SURROGATES.search(text) is None:
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
