"""Constraint checks that botocore leaves to the server, worded the way AWS words them.

A `Problems` collects every failure of a request and raises one `Invalid` whose message reads
`N validation error(s) detected: Value '…' at '…' failed to satisfy constraint: …`.
Values of sensitive members (content blocks) are never echoed.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from mindkeeper.core.agents import StepTime
from mindkeeper.errors import Invalid
from mindkeeper.http.json_input import MAX_DEPTH, too_deep

SHOWN_MAX = 256
_HIDDEN = object()
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"([Zz]|[+-](?:[01]\d|2[0-3]):?[0-5]\d)",
    re.ASCII,
)


_TOO_DEEP = (
    "1 validation error detected: The request body must not be nested more than "
    f"{MAX_DEPTH} levels deep"
)


def json_object(body: bytes) -> dict[str, Any]:
    """Parse a request body as a JSON object nested at most `MAX_DEPTH` levels (absent: `{}`)."""
    if not body.strip():
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit exceeded"):
            raise Invalid(_TOO_DEEP) from None
        raise Invalid("1 validation error detected: The request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise Invalid("1 validation error detected: The request body must be a JSON object")
    if too_deep(data):
        raise Invalid(_TOO_DEEP)
    return data


def _show(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= SHOWN_MAX else text[:SHOWN_MAX] + "..."


class Problems:
    """Collects constraint failures of one request."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def __bool__(self) -> bool:
        return bool(self.items)

    def add(self, where: str, constraint: str, value: object = _HIDDEN) -> None:
        """Record a failure at a member path; the value is echoed unless hidden."""
        if value is _HIDDEN:
            self.items.append(f"Value at '{where}' failed to satisfy constraint: {constraint}")
        else:
            self.items.append(
                f"Value '{_show(value)}' at '{where}' failed to satisfy constraint: {constraint}"
            )

    def raise_if_any(self) -> None:
        """Raise one Invalid listing every failure."""
        count = len(self.items)
        if count:
            noun = "error" if count == 1 else "errors"
            raise Invalid(f"{count} validation {noun} detected: " + "; ".join(self.items))


def length_problem(length: int, min_len: int | None, max_len: int | None) -> str | None:
    """Return AWS's wording for a length outside [min_len, max_len], else None."""
    if min_len is not None and length < min_len:
        return f"Member must have length greater than or equal to {min_len}"
    if max_len is not None and length > max_len:
        return f"Member must have length less than or equal to {max_len}"
    return None


def string(
    problems: Problems,
    where: str,
    value: Any,
    *,
    required: bool = False,
    min_len: int | None = None,
    max_len: int | None = None,
    pattern: re.Pattern[str] | None = None,
    pattern_text: str | None = None,
    sensitive: bool = False,
) -> str | None:
    """Check a string member; return it when valid, None (and record why) otherwise."""
    shown: object = _HIDDEN if sensitive else value
    if value is None:
        if required:
            problems.add(where, "Member must not be null", "null" if not sensitive else _HIDDEN)
        return None
    if not isinstance(value, str):
        problems.add(where, "Member must be a string", shown)
        return None
    failure = length_problem(len(value), min_len, max_len)
    if failure is None and pattern is not None and not pattern.fullmatch(value):
        failure = f"Member must satisfy regular expression pattern: {pattern_text}"
    if failure is not None:
        problems.add(where, failure, shown)
        return None
    return value


def string_map(
    problems: Problems,
    where: str,
    value: Any,
    *,
    max_entries: int,
    min_entries: int = 0,
    key_len: tuple[int, int],
    value_len: tuple[int, int],
    pattern: re.Pattern[str] | None = None,
    pattern_text: str | None = None,
) -> dict[str, str] | None:
    """Check a string-to-string map member; return it when valid."""
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        problems.add(where, "Member must be a map of strings to strings", value)
        return None
    ok = True
    failure = length_problem(len(value), min_entries, max_entries)
    if failure is not None:
        problems.add(where, failure, value)
        ok = False
    for label, parts, (low, high) in (
        ("Map keys", value.keys(), key_len),
        ("Map value", value.values(), value_len),
    ):
        for part in parts:
            reason = length_problem(len(part), low, high)
            if reason is None and pattern is not None and not pattern.fullmatch(part):
                reason = f"Member must satisfy regular expression pattern: {pattern_text}"
            if reason is not None:
                problems.add(where, f"{label} must satisfy constraint: [{reason}]", part)
                ok = False
                break
    return value if ok else None


def integer(problems: Problems, where: str, raw: str | None, low: int, high: int) -> int | None:
    """Check an integer query parameter within [low, high]."""
    if raw is None:
        return None
    try:
        number = int(raw)
    except ValueError:
        problems.add(where, "Member must be an integer", raw)
        return None
    if number < low:
        problems.add(where, f"Member must have value greater than or equal to {low}", number)
        return None
    if number > high:
        problems.add(where, f"Member must have value less than or equal to {high}", number)
        return None
    return number


def timestamp(problems: Problems, where: str, value: Any) -> StepTime | None:
    """Parse an RFC 3339 timestamp (0-9 fraction digits, Z or offset) to UTC and its precision."""
    if value is None:
        problems.add(where, "Member must not be null", "null")
        return None
    match = _TIMESTAMP.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        problems.add(where, "Member must be an ISO 8601 timestamp", value)
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    fraction = fraction or ""
    try:
        at = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int(fraction[:6].ljust(6, "0")),
            tzinfo=UTC,
        )
        if zone not in ("Z", "z"):
            sign = 1 if zone[0] == "+" else -1
            at -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[-2:]))
    except (ValueError, OverflowError):
        problems.add(where, "Member must be a valid ISO 8601 timestamp", value)
        return None
    return StepTime(at, min(len(fraction), 6))


def blob(problems: Problems, where: str, value: Any) -> bytes | None:
    """Decode a standard, padded base64 blob (never echoed); None when invalid."""
    if value is None:
        problems.add(where, "Member must not be null")
        return None
    if not isinstance(value, str):
        problems.add(where, "Member must be base64-encoded binary data")
        return None
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        problems.add(where, "Member must be standard base64-encoded binary data")
        return None
    if not data:
        problems.add(where, "Member must have length greater than or equal to 1")
        return None
    return data


def union(
    problems: Problems, where: str, value: Any, members: tuple[str, ...], *, sensitive: bool = False
) -> tuple[str, Any] | None:
    """Check a tagged union: an object with exactly one non-null member among `members`."""
    shown: object = _HIDDEN if sensitive else value
    if not isinstance(value, dict):
        problems.add(where, "Member must be a structure", shown)
        return None
    present = [(k, v) for k, v in value.items() if v is not None]
    if len(present) != 1 or present[0][0] not in members:
        problems.add(
            where, f"Member must have exactly one member set: [{', '.join(members)}]", shown
        )
        return None
    return present[0]
