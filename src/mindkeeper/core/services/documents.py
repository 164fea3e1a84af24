"""Use cases for documents: embedded on write, searched by meaning.

Embedding happens before the transaction opens, so no database lock is held while a model runs.
"""

from __future__ import annotations

import builtins

from mindkeeper.core.entities import Document, JSONObject
from mindkeeper.core.ports import Embedder, StoredVector, UnitOfWork
from mindkeeper.core.services import collections
from mindkeeper.core.values import (
    RESERVED_COLLECTION,
    Clock,
    MetadataFilter,
    Page,
    PageRequest,
    utcnow,
)
from mindkeeper.errors import Invalid, NotFound, Unavailable

CONTENT_MAX = 65_535


def _check_content(content: str) -> None:
    if len(content) > CONTENT_MAX:
        raise Invalid(f"Document content must be at most {CONTENT_MAX} characters")


async def embed_one(embedder: Embedder | None, text: str) -> StoredVector:
    """Embed one text with the configured embedder; Unavailable when there is none."""
    if embedder is None:
        raise Unavailable("No embedder is configured (set MINDKEEPER_EMBEDDER=local)")
    vectors = await embedder.embed([text])
    return StoredVector(vectors[0], embedder.model_id)


def document_not_found(document_id: str) -> NotFound:
    """The error for a missing document."""
    return NotFound(f"Document with ID '{document_id}' not found")


async def create(
    uow: UnitOfWork,
    embedder: Embedder | None,
    workspace_id: str,
    peer_id: str,
    collection_id: str,
    content: str,
    metadata: JSONObject,
    clock: Clock = utcnow,
) -> Document:
    """Embed and store a document in the peer's collection."""
    _check_content(content)
    vector = await embed_one(embedder, content)
    async with uow:
        collection = await collections.require(uow, workspace_id, peer_id, collection_id)
        document = await uow.documents.create(collection, content, metadata, vector, clock())
        await uow.commit()
    return document


async def get_or_raise(
    uow: UnitOfWork, workspace_id: str, peer_id: str, collection_id: str, document_id: str
) -> Document:
    """Return one document or raise NotFound."""
    async with uow:
        document = await uow.documents.get(workspace_id, peer_id, collection_id, document_id)
    if document is None:
        raise document_not_found(document_id)
    return document


async def list(
    uow: UnitOfWork,
    workspace_id: str,
    peer_id: str,
    collection_id: str,
    filter: MetadataFilter,
    page: PageRequest,
) -> Page[Document]:
    """Return a page of the collection's documents (empty for an unknown collection)."""
    async with uow:
        return await uow.documents.list(workspace_id, peer_id, collection_id, filter, page)


async def update(
    uow: UnitOfWork,
    embedder: Embedder | None,
    workspace_id: str,
    peer_id: str,
    collection_id: str,
    document_id: str,
    content: str | None,
    metadata: JSONObject | None,
    clock: Clock = utcnow,
) -> Document:
    """Replace content (re-embedded) and/or metadata."""
    if content is None and metadata is None:
        raise Invalid("Content and metadata cannot both be None")
    vector = None
    if content is not None:
        _check_content(content)
        vector = await embed_one(embedder, content)
    async with uow:
        document = await uow.documents.update(
            workspace_id, peer_id, collection_id, document_id, content, metadata, vector, clock()
        )
        if document is None:
            raise document_not_found(document_id)
        await uow.commit()
    return document


async def delete(
    uow: UnitOfWork, workspace_id: str, peer_id: str, collection_id: str, document_id: str
) -> None:
    """Delete a document; documents of the reserved collection are kept."""
    async with uow:
        collection = await collections.require(uow, workspace_id, peer_id, collection_id)
        if collection.name == RESERVED_COLLECTION:
            raise Invalid("Cannot delete collection with reserved name 'honcho'")
        if await uow.documents.get(workspace_id, peer_id, collection_id, document_id) is None:
            raise NotFound("Document not found or does not belong to user")
        await uow.documents.delete(document_id)
        await uow.commit()


async def query(
    uow: UnitOfWork,
    embedder: Embedder | None,
    workspace_id: str,
    peer_id: str,
    collection_id: str,
    text: str,
    filter: MetadataFilter,
    top_k: int,
) -> builtins.list[Document]:
    """Return the top_k documents closest in meaning to `text` (empty for unknown collections)."""
    vector = await embed_one(embedder, text)
    async with uow:
        return await uow.documents.nearest(
            workspace_id, peer_id, collection_id, vector, filter, top_k
        )
