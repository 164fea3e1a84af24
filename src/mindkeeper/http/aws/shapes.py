"""Requests parsed and validated, responses shaped, by botocore shapes (restJson1).

`parse_request` reads every input member from where the model says it travels (path label,
query string, header or JSON body) and checks it against its shape: type, required members,
lengths and ranges (`min`/`max`), patterns (matched whole, ASCII classes, as Java reads them),
enums and unions (exactly one member set). Every failure of a request is collected into one
`RequestInvalid`, worded as AWS words it (`Value '…' at '…' failed to satisfy constraint: …`);
values of sensitive shapes are never echoed. Timestamps are epoch seconds (numbers) in bodies
and become aware UTC datetimes; documents are kept as parsed.

`shape_response` renders an output value by its shape: members in model order, `None` left
out, datetimes as epoch seconds, and every required member and union checked, so a response
botocore cannot parse is a server bug (ServiceException), never a silent mismatch.
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from mindkeeper.http.json_input import problem as json_problem

SHOWN_MAX = 256
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Timestamps accepted: from the epoch to the end of year 9999.
TIMESTAMP_MAX = 253_402_300_800.0
_INVALID = object()
_HIDDEN = object()


class RequestInvalid(Exception):
    """A request that fails its model: AWS's ValidationException (with `fieldList`)."""

    def __init__(self, fields: list[tuple[str, str]], reason: str = "FieldValidationFailed"):
        self.fields = fields
        self.reason = reason
        count = len(fields)
        noun = "error" if count == 1 else "errors"
        self.message = f"{count} validation {noun} detected: " + "; ".join(m for _, m in fields)
        super().__init__(self.message)


class CannotParse(RequestInvalid):
    """A body that is not a JSON object (or that no JSON store can hold)."""

    def __init__(self, message: str) -> None:
        super().__init__([("body", message)], "CannotParse")
        self.message = f"1 validation error detected: {message}"
        self.args = (self.message,)


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return re.compile(pattern, re.ASCII)


def _show(value: Any) -> str:
    if isinstance(value, str):
        text = value
    else:
        try:
            text = orjson.dumps(value).decode()
        except TypeError:
            text = repr(value)
    return text if len(text) <= SHOWN_MAX else text[:SHOWN_MAX] + "..."


class Problems:
    """The constraint failures of one request, in the order found."""

    def __init__(self) -> None:
        self.fields: list[tuple[str, str]] = []

    def add(self, where: str, constraint: str, value: Any = _HIDDEN) -> None:
        """Record a failure at a member path; the value is echoed unless hidden."""
        if value is _HIDDEN:
            text = f"Value at '{where}' failed to satisfy constraint: {constraint}"
        elif value is None:
            text = f"Value null at '{where}' failed to satisfy constraint: {constraint}"
        else:
            text = f"Value '{_show(value)}' at '{where}' failed to satisfy constraint: {constraint}"
        self.fields.append((where, text))

    def raise_if_any(self) -> None:
        """Raise one RequestInvalid listing every failure."""
        if self.fields:
            raise RequestInvalid(self.fields)


def json_body(body: bytes) -> dict[str, Any]:
    """Parse a request body as a JSON object (an absent body reads as `{}`)."""
    if not body.strip():
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise CannotParse("The request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise CannotParse("The request body must be a JSON object")
    reason = json_problem(data)
    if reason is not None:
        raise CannotParse(reason)
    return data


def epoch(moment: datetime) -> float:
    """Epoch seconds of an aware datetime, exact to the microsecond."""
    delta = moment - _EPOCH
    return delta.days * 86_400 + delta.seconds + delta.microseconds / 1_000_000


def from_epoch(seconds: float) -> datetime:
    """The aware UTC datetime of epoch seconds (microsecond precision)."""
    whole = math.floor(seconds)
    micros = round((seconds - whole) * 1_000_000)
    return _EPOCH + timedelta(seconds=whole, microseconds=micros)


def _is_sensitive(shape: Any) -> bool:
    return bool(shape.metadata.get("sensitive"))


def _length(problems: Problems, where: str, size: int, shape: Any, shown: Any) -> bool:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        problems.add(where, f"Member must have length greater than or equal to {low}", shown)
        return False
    if high is not None and size > high:
        problems.add(where, f"Member must have length less than or equal to {high}", shown)
        return False
    return True


def _range(problems: Problems, where: str, number: float, shape: Any) -> bool:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and number < low:
        problems.add(where, f"Member must have value greater than or equal to {low}", number)
        return False
    if high is not None and number > high:
        problems.add(where, f"Member must have value less than or equal to {high}", number)
        return False
    return True


class Reader:
    """Validates parsed values against shapes, collecting problems."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems

    def value(self, value: Any, shape: Any, where: str, hidden: bool = False) -> Any:
        """Check one value (not None) against its shape; return it converted, or _INVALID."""
        hidden = hidden or _is_sensitive(shape)
        shown = _HIDDEN if hidden else value
        kind = shape.type_name
        if kind == "structure":
            if shape.metadata.get("document"):
                return value
            return self.structure(value, shape, where, hidden)
        if kind == "list":
            return self.list(value, shape, where, hidden)
        if kind == "map":
            return self.map(value, shape, where, hidden)
        if kind == "string":
            return self.string(value, shape, where, shown)
        if kind in ("integer", "long"):
            if type(value) is not int:
                self.problems.add(where, "Member must be an integer", shown)
                return _INVALID
            return value if _range(self.problems, where, value, shape) else _INVALID
        if kind in ("double", "float"):
            if type(value) not in (int, float):
                self.problems.add(where, "Member must be a number", shown)
                return _INVALID
            return float(value) if _range(self.problems, where, value, shape) else _INVALID
        if kind == "boolean":
            if type(value) is not bool:
                self.problems.add(where, "Member must be a boolean", shown)
                return _INVALID
            return value
        if kind == "timestamp":
            return self.timestamp(value, where, shown)
        return value

    def string(self, value: Any, shape: Any, where: str, shown: Any) -> Any:
        """Check a string: type, length, pattern, enum."""
        if not isinstance(value, str):
            self.problems.add(where, "Member must be a string", shown)
            return _INVALID
        if not _length(self.problems, where, len(value), shape, shown):
            return _INVALID
        enum = shape.enum
        if enum and value not in enum:
            self.problems.add(
                where, f"Member must satisfy enum value set: [{', '.join(enum)}]", shown
            )
            return _INVALID
        pattern = shape.metadata.get("pattern")
        if pattern is not None and not _compiled(pattern).fullmatch(value):
            self.problems.add(
                where, f"Member must satisfy regular expression pattern: {pattern}", shown
            )
            return _INVALID
        return value

    def timestamp(self, value: Any, where: str, shown: Any) -> Any:
        """Epoch seconds (a JSON number) to an aware UTC datetime."""
        if type(value) not in (int, float):
            self.problems.add(where, "Member must be a timestamp in epoch seconds", shown)
            return _INVALID
        if not 0 <= value < TIMESTAMP_MAX:
            self.problems.add(
                where,
                "Member must be a timestamp between 0 and 253402300799.999999 epoch seconds",
                shown,
            )
            return _INVALID
        return from_epoch(float(value))

    def list(self, value: Any, shape: Any, where: str, hidden: bool) -> Any:
        """Check a list and each of its items."""
        shown = _HIDDEN if hidden else value
        if not isinstance(value, list):
            self.problems.add(where, "Member must be a list", shown)
            return _INVALID
        if not _length(self.problems, where, len(value), shape, shown):
            return _INVALID
        out = []
        ok = True
        for index, item in enumerate(value, start=1):
            at = f"{where}.{index}.member"
            if item is None:
                self.problems.add(at, "Member must not be null", None)
                ok = False
                continue
            checked = self.value(item, shape.member, at, hidden)
            ok = ok and checked is not _INVALID
            out.append(checked)
        return out if ok else _INVALID

    def map(self, value: Any, shape: Any, where: str, hidden: bool) -> Any:
        """Check a map, its keys and its values."""
        shown = _HIDDEN if hidden else value
        if not isinstance(value, dict):
            self.problems.add(where, "Member must be a map", shown)
            return _INVALID
        if not _length(self.problems, where, len(value), shape, shown):
            return _INVALID
        out: dict[str, Any] = {}
        ok = True
        for key, item in value.items():
            keys = Problems()
            if Reader(keys).string(key, shape.key, where, key) is _INVALID:
                reason = keys.fields[0][1].split("failed to satisfy constraint: ", 1)[-1]
                self.problems.add(where, f"Map keys must satisfy constraint: [{reason}]", key)
                ok = False
                continue
            at = f"{where}.{key}"
            if item is None:
                self.problems.add(at, "Member must not be null", None)
                ok = False
                continue
            checked = self.value(item, shape.value, at, hidden)
            ok = ok and checked is not _INVALID
            out[key] = checked
        return out if ok else _INVALID

    def structure(self, value: Any, shape: Any, where: str, hidden: bool) -> Any:
        """Check a structure (or union): required members, then each member present."""
        shown = _HIDDEN if hidden else value
        if not isinstance(value, dict):
            self.problems.add(where or "body", "Member must be a structure", shown)
            return _INVALID
        union = bool(shape.metadata.get("union"))
        if union:
            present = [name for name in shape.members if value.get(name) is not None]
            if len(present) != 1:
                members = ", ".join(shape.members)
                self.problems.add(
                    where, f"Member must have exactly one member set: [{members}]", shown
                )
                return _INVALID
        return self.members({k: v for k, v in value.items()}, shape, where, hidden)

    def members(self, given: Mapping[str, Any], shape: Any, where: str, hidden: bool) -> Any:
        """Check the members of a structure given by member name."""
        out: dict[str, Any] = {}
        ok = True
        required = set(shape.required_members)
        for name, member in shape.members.items():
            at = f"{where}.{name}" if where else name
            item = given.get(name)
            if item is None:
                if name in required:
                    self.problems.add(at, "Member must not be null", None)
                    ok = False
                continue
            checked = self.value(item, member, at, hidden)
            if checked is _INVALID:
                ok = False
            else:
                out[name] = checked
        return out if ok else _INVALID


def _from_text(text: str, shape: Any) -> Any:
    """A query-string or header value as the JSON type its shape expects."""
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text
    if kind == "boolean":
        return {"true": True, "false": False}.get(text, text)
    if kind in ("double", "float"):
        try:
            return float(text)
        except ValueError:
            return text
    return text


def parse_request(
    input_shape: Any,
    labels: Mapping[str, str],
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    """Every input member, from where the model says it travels, checked against its shape."""
    if input_shape is None:
        return {}
    data = (
        json_body(body)
        if any(not m.serialization.get("location") for m in input_shape.members.values())
        else {}
    )
    given: dict[str, Any] = {}
    for name, member in input_shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri":
            given[name] = labels.get(wire_name)
        elif location == "querystring":
            values = query.get(wire_name)
            if values is None:
                continue
            if member.type_name == "list":
                given[name] = [_from_text(v, member.member) for v in values]
            else:
                given[name] = _from_text(values[0], member)
        elif location == "header":
            text = headers.get(str(wire_name).lower())
            if text is not None:
                given[name] = _from_text(text, member)
        else:
            given[name] = data.get(wire_name)
    problems = Problems()
    parsed = Reader(problems).members(given, input_shape, "", False)
    problems.raise_if_any()
    result: dict[str, Any] = parsed
    return result


class ResponseMismatch(Exception):
    """A response value that does not fit its output shape (a server bug)."""


def shape_response(shape: Any, value: Any, where: str = "") -> Any:
    """Render a value by its output shape, checking required members and unions."""
    kind = shape.type_name
    if kind == "structure":
        if shape.metadata.get("document"):
            return value
        if not isinstance(value, Mapping):
            raise ResponseMismatch(f"{where or shape.name}: expected a structure")
        unknown = set(value) - set(shape.members)
        if unknown:
            raise ResponseMismatch(f"{where or shape.name}: unknown members {sorted(unknown)}")
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            item = value.get(name)
            if item is None:
                if name in shape.required_members:
                    raise ResponseMismatch(f"{where}.{name}: required member missing")
                continue
            out[member.serialization.get("name", name)] = shape_response(
                member, item, f"{where}.{name}"
            )
        if shape.metadata.get("union") and len(out) != 1:
            raise ResponseMismatch(f"{where}: a union needs exactly one member")
        return out
    if kind == "list":
        return [shape_response(shape.member, item, f"{where}[]") for item in value]
    if kind == "map":
        return {k: shape_response(shape.value, v, f"{where}.{k}") for k, v in value.items()}
    if kind == "timestamp":
        if not isinstance(value, datetime):
            raise ResponseMismatch(f"{where}: expected a datetime")
        return epoch(value)
    return value
