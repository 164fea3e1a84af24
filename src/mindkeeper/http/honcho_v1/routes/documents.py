"""Documents: …/collections/{collection_id}/documents."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from mindkeeper.core.services import documents
from mindkeeper.http.deps import EmbedderDep, ReadUow, WriteUow
from mindkeeper.http.honcho_v1 import mapping
from mindkeeper.http.honcho_v1.auth import AUTH
from mindkeeper.http.honcho_v1.responses import Deleted, Document, Page
from mindkeeper.http.honcho_v1.routes.common import Paging, ok
from mindkeeper.http.honcho_v1.schemas import (
    DocumentCreate,
    DocumentQuery,
    DocumentUpdate,
    ListBody,
)

router = APIRouter(
    prefix="/v1/apps/{app_id}/users/{user_id}/collections/{collection_id}/documents",
    tags=["documents"],
    strict_content_type=False,
    dependencies=[AUTH],
)


@router.post("", response_model=Document)
async def create_document(
    app_id: str,
    user_id: str,
    collection_id: str,
    body: DocumentCreate,
    uow: WriteUow,
    embedder: EmbedderDep,
) -> Response:
    """Embed and store a document."""
    created = await documents.create(
        uow, embedder, app_id, user_id, collection_id, body.content, body.metadata
    )
    return ok(mapping.document(created))


@router.post("/list", response_model=Page[Document])
async def list_documents(
    app_id: str,
    user_id: str,
    collection_id: str,
    uow: ReadUow,
    paging: Paging,
    body: ListBody | None = None,
) -> Response:
    """List a collection's documents."""
    result = await documents.list(
        uow, app_id, user_id, collection_id, body.filter if body else None, paging
    )
    return ok(mapping.page(result, mapping.document))


@router.post("/query", response_model=list[Document])
async def query_documents(
    app_id: str,
    user_id: str,
    collection_id: str,
    body: DocumentQuery,
    uow: ReadUow,
    embedder: EmbedderDep,
) -> Response:
    """Return the documents closest in meaning to the query."""
    found = await documents.query(
        uow, embedder, app_id, user_id, collection_id, body.query, body.filter, body.top_k
    )
    return ok([mapping.document(d) for d in found])


@router.get("/{document_id}", response_model=Document)
async def get_document(
    app_id: str, user_id: str, collection_id: str, document_id: str, uow: ReadUow
) -> Response:
    """Get one document."""
    found = await documents.get_or_raise(uow, app_id, user_id, collection_id, document_id)
    return ok(mapping.document(found))


@router.put("/{document_id}", response_model=Document)
async def update_document(
    app_id: str,
    user_id: str,
    collection_id: str,
    document_id: str,
    body: DocumentUpdate,
    uow: WriteUow,
    embedder: EmbedderDep,
) -> Response:
    """Replace a document's content (re-embedded) and/or metadata."""
    updated = await documents.update(
        uow, embedder, app_id, user_id, collection_id, document_id, body.content, body.metadata
    )
    return ok(mapping.document(updated))


@router.delete("/{document_id}", response_model=Deleted)
async def delete_document(
    app_id: str, user_id: str, collection_id: str, document_id: str, uow: WriteUow
) -> Response:
    """Delete a document."""
    await documents.delete(uow, app_id, user_id, collection_id, document_id)
    return ok({"message": "Document deleted successfully"})
