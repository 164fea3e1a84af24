"""Pieces every Honcho route uses: pagination parameters and JSON replies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query

from mindkeeper.core.values import PageRequest
from mindkeeper.http.responses import JSONBytes


async def pagination(
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 50,
    reverse: bool = False,
) -> PageRequest:
    """Read `page`, `size` and `reverse` from the query string."""
    return PageRequest(page=page, size=size, reverse=reverse)


Paging = Annotated[PageRequest, Depends(pagination)]


def ok(content: Any) -> JSONBytes:
    """A 200 JSON reply."""
    return JSONBytes(content)
