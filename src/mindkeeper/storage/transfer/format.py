"""The export format: versioned JSON Lines, one header, one section per table, one trailer.

```
{"format": "mindkeeper-export", "version": 1, "schema_revision": "0006", ...}   header
{"table": "workspaces", "columns": [["id", "int"], ["public_id", "text"], ...]}  section
[1, "V1StGXR8_Z5jdHi6B-myT", ...]                                            one row
{"end": "workspaces", "rows": 12}                                            section end
...
{"end": null, "rows": 1234, "tables": {"workspaces": 12, ...}}                trailer
```

Control lines are JSON objects, rows are JSON arrays in the order of their section's columns.
Values by column kind: `int`, `bool`, `text` and `json` as JSON; `datetime` as ISO 8601 with
its UTC offset; `bytes` (sealed payloads, kept sealed) as standard base64; `vector` as base64
of little-endian float32 (exact; the model id is the row's `embedding_model` column); null as
null. docs/operations.md describes the format for people.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import orjson
from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, LargeBinary, String
from sqlalchemy.types import TypeDecorator

from mindkeeper.storage.types import Embedding, UTCDateTime

FORMAT = "mindkeeper-export"
VERSION = 1
KINDS = ("int", "bool", "text", "json", "datetime", "bytes", "vector")

Codec = Callable[[Any], Any]
_LONG_NUMBER = re.compile(rb"\d{19}")


class FormatError(ValueError):
    """The input is not an export this version can read."""


def column_kind(column: Column[Any]) -> str:
    """The format's kind of a column; ValueError for a type the format cannot carry."""
    kind = column.type
    if isinstance(kind, Embedding):
        return "vector"
    if isinstance(kind, UTCDateTime):
        return "datetime"
    base: Any = kind.impl if isinstance(kind, TypeDecorator) else kind
    if isinstance(base, JSON):
        return "json"
    if isinstance(base, Boolean):
        return "bool"
    if isinstance(base, Integer):
        return "int"
    if isinstance(base, String):  # Text too
        return "text"
    if isinstance(base, LargeBinary):
        return "bytes"
    if isinstance(base, DateTime):
        raise ValueError(f"column {column.table.name}.{column.name}: use UTCDateTime")
    raise ValueError(f"column {column.table.name}.{column.name}: no export kind for {kind!r}")


def _same(value: Any) -> Any:
    return value


def _encode_datetime(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _decode_datetime(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise FormatError(f"timestamp without a UTC offset: {value!r}")
    return parsed


def _encode_bytes(value: bytes | memoryview | None) -> str | None:
    return None if value is None else base64.b64encode(bytes(value)).decode("ascii")


def _decode_bytes(value: str | None) -> bytes | None:
    return None if value is None else base64.b64decode(value, validate=True)


def _encode_vector(value: Any) -> str | None:
    if value is None:
        return None
    return base64.b64encode(np.asarray(value, dtype="<f4").tobytes()).decode("ascii")


def _decode_vector(value: str | None) -> np.ndarray | None:
    if value is None:
        return None
    return np.frombuffer(base64.b64decode(value, validate=True), dtype="<f4").astype(np.float32)


ENCODERS: dict[str, Codec] = {
    "int": _same,
    "bool": _same,
    "text": _same,
    "json": _same,
    "datetime": _encode_datetime,
    "bytes": _encode_bytes,
    "vector": _encode_vector,
}
DECODERS: dict[str, Codec] = {
    "int": _same,
    "bool": _same,
    "text": _same,
    "json": _same,
    "datetime": _decode_datetime,
    "bytes": _decode_bytes,
    "vector": _decode_vector,
}


def dumps(value: Any) -> bytes:
    """One line of JSON (with its newline); integers beyond 64 bits are written exactly."""
    try:
        return orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson refuses integers beyond 64 bits
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
        return (text + "\n").encode()


def loads(line: bytes) -> Any:
    """Parse one line; numbers of 19 digits or more are read exactly (orjson would round them)."""
    try:
        if _LONG_NUMBER.search(line):
            return json.loads(line)
        return orjson.loads(line)
    except ValueError as exc:  # orjson's and json's decode errors are ValueErrors
        raise FormatError(f"not a JSON line: {exc}") from None
