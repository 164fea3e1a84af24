"""SQLite specifics: connection pragmas and a `jsonb @>`-compatible containment function."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

JSON_CONTAINS_FUNCTION = "mk_json_contains"
_LONG_NUMBER = re.compile(r"\d{19}")


def json_value_contains(value: Any, pattern: Any) -> bool:
    """Mirror PostgreSQL's `jsonb @> jsonb` for decoded JSON values."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            key in value and json_value_contains(value[key], sub) for key, sub in pattern.items()
        )
    if isinstance(pattern, list):
        return isinstance(value, list) and all(
            any(json_value_contains(item, sub) for item in value) for sub in pattern
        )
    if isinstance(value, (dict, list)):
        return False
    if isinstance(pattern, bool) or isinstance(value, bool):
        return isinstance(pattern, bool) and isinstance(value, bool) and pattern is value
    if pattern is None or value is None:
        return pattern is None and value is None
    if isinstance(pattern, (int, float)) and isinstance(value, (int, float)):
        return pattern == value
    return type(pattern) is type(value) and pattern == value


def dump_pattern(pattern: Any) -> str:
    """Serialise a containment pattern; integers beyond 64 bits are written exactly."""
    try:
        return orjson.dumps(pattern).decode()
    except TypeError:  # orjson refuses integers beyond 64 bits
        return json.dumps(pattern, separators=(",", ":"), ensure_ascii=False)


def _sql_json_contains(document: str | bytes | None, pattern: str | None) -> int:
    if document is None or pattern is None:
        return 0
    text = document.decode() if isinstance(document, bytes) else document
    if _LONG_NUMBER.search(pattern) or _LONG_NUMBER.search(text):
        # orjson reads integers beyond 64 bits as floats; compare them exactly, as PostgreSQL
        return int(json_value_contains(json.loads(text), json.loads(pattern)))
    return int(json_value_contains(orjson.loads(text), orjson.loads(pattern)))


def configure_connection(dbapi_connection: Any, busy_timeout_ms: int) -> None:
    """Set WAL, busy timeout and foreign keys; register the containment function."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    register = getattr(dbapi_connection, "run_async", None)
    if register is not None:  # aiosqlite: the function is created on its thread
        register(
            lambda conn: conn.create_function(
                JSON_CONTAINS_FUNCTION, 2, _sql_json_contains, deterministic=True
            )
        )
    else:
        dbapi_connection.create_function(
            JSON_CONTAINS_FUNCTION, 2, _sql_json_contains, deterministic=True
        )
