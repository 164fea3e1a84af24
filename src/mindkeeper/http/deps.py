"""Request dependencies: the runtime, units of work, the embedder and the pagination of the
Honcho lists (`page`, `size`, `reverse`), as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Query, Request

from mindkeeper.core.ports import Embedder, Runtime, TokenCounter, UnitOfWork
from mindkeeper.core.values import PageRequest


def runtime_of(request: Request) -> Runtime:
    """Return the runtime the app was built with."""
    return cast(Runtime, request.app.state.runtime)


def tokens_of(request: Request) -> TokenCounter:
    """The token counter (o200k_base). A route that takes `request: Request` reads it here
    instead of through `TokensDep`: FastAPI solves each `Depends` with a nested walk of
    its own on every request."""
    return runtime_of(request).tokens


async def get_runtime(request: Request) -> Runtime:
    """Return the runtime the app was built with."""
    return runtime_of(request)


async def get_read_uow(request: Request) -> UnitOfWork:
    """A unit of work for reads (no writer lock)."""
    return runtime_of(request).uow(write=False)


async def get_write_uow(request: Request) -> UnitOfWork:
    """A unit of work for writes."""
    return runtime_of(request).uow(write=True)


async def get_embedder(request: Request) -> Embedder | None:
    """The configured embedder, or None when embeddings are off."""
    return runtime_of(request).embedder


async def get_tokens(request: Request) -> TokenCounter:
    """The token counter (o200k_base)."""
    return runtime_of(request).tokens


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ReadUow = Annotated[UnitOfWork, Depends(get_read_uow)]
WriteUow = Annotated[UnitOfWork, Depends(get_write_uow)]
EmbedderDep = Annotated[Embedder | None, Depends(get_embedder)]
TokensDep = Annotated[TokenCounter, Depends(get_tokens)]


async def pagination(
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 50,
    reverse: bool = False,
) -> PageRequest:
    """Read `page`, `size` and `reverse` from the query string."""
    return PageRequest(page=page, size=size, reverse=reverse)


Paging = Annotated[PageRequest, Depends(pagination)]
