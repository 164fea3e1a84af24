"""What really differs between SQLite and PostgreSQL: JSON containment and vector search."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, literal
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.expression import ColumnClause

from mindkeeper.storage.dialects.sqlite import JSON_CONTAINS_FUNCTION, dump_pattern


def json_contains(
    dialect: str, column: ColumnClause[Any] | Any, pattern: dict[str, Any]
) -> ColumnElement[bool]:
    """Return `column @> pattern` with PostgreSQL JSONB semantics on either database."""
    if dialect == "postgresql":
        contained: ColumnElement[bool] = column.op("@>")(literal(pattern, JSONB))
        return contained
    matched: ColumnElement[bool] = (
        getattr(func, JSON_CONTAINS_FUNCTION)(column, dump_pattern(pattern)) == 1
    )
    return matched
