"""Value types shared by services and adapters: ids, clocks, page requests and pages."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from nanoid import generate

T = TypeVar("T")

RESERVED_COLLECTION = "honcho"

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """Return a fresh 21-character URL-safe public id."""
    return generate()


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which page of an insertion-ordered list to return."""

    page: int = 1
    size: int = 50
    reverse: bool = False

    @property
    def offset(self) -> int:
        """Rows to skip."""
        return (self.page - 1) * self.size


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results with the total count of matching rows."""

    items: Sequence[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        """Number of pages for the total; 0 when there are no rows."""
        return math.ceil(self.total / self.size) if self.total else 0


#: A metadata filter: JSON containment (`metadata @> filter`). None or {} means no filter.
MetadataFilter = dict[str, Any] | None
