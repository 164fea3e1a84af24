"""Pieces every v3 route uses: pagination parameters and JSON replies with v3's statuses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query
from starlette.responses import Response

from mindkeeper.core.values import PageRequest
from mindkeeper.http.deps import Paging as Paging
from mindkeeper.http.honcho_v3.schemas import NAME_MAX, NAME_PATTERN
from mindkeeper.http.responses import JSONBytes


async def first_page(
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 50,
) -> PageRequest:
    """Read `page` and `size` (routes without `reverse`)."""
    return PageRequest(page=page, size=size)


PlainPaging = Annotated[PageRequest, Depends(first_page)]

#: A name in the path of a route that creates what it names (checked like a name in a body).
NewName = Annotated[str, Path(min_length=1, max_length=NAME_MAX, pattern=NAME_PATTERN)]


def ok(content: Any) -> JSONBytes:
    """A 200 JSON reply."""
    return JSONBytes(content)


def created(content: Any) -> JSONBytes:
    """A 201 JSON reply."""
    return JSONBytes(content, status_code=201)


def ok_or_created(content: Any, was_created: bool) -> JSONBytes:
    """201 when a get-or-create route created the resource, else 200."""
    return JSONBytes(content, status_code=201 if was_created else 200)


def accepted(message: str) -> JSONBytes:
    """A 202 acknowledgement `{"message": ...}`."""
    return JSONBytes({"message": message}, status_code=202)


def no_content() -> Response:
    """A 204 with no body."""
    return Response(status_code=204)
