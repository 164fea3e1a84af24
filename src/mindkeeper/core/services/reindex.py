"""Re-embed documents whose vectors were made by another embedder (or by none).

Vectors of different models are never compared (search filters on the model), so after a
change of embedder the old documents are invisible to search until re-embedded. Work goes in
batches by internal key, each committed on its own: an interrupted run loses at most one batch,
and the next run picks up what is still stale. A document whose content changed while its
batch was being embedded is left for the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mindkeeper.core.ports import Runtime
from mindkeeper.errors import Unavailable


@dataclass(frozen=True, slots=True)
class ReindexResult:
    """What a run did."""

    model_id: str
    total: int
    updated: int
    skipped: int


async def reindex(
    runtime: Runtime,
    batch_size: int = 64,
    on_progress: Callable[[int, int], None] | None = None,
) -> ReindexResult:
    """Re-embed every stale document with the configured embedder; report progress per batch."""
    embedder = runtime.embedder
    if embedder is None:
        raise Unavailable("No embedder is configured (MINDKEEPER_EMBEDDER is 'none')")
    model_id = embedder.model_id
    async with runtime.uow(write=False) as uow:
        total = await uow.jobs.count_stale_documents(model_id)
    updated = skipped = 0
    after = 0
    while True:
        async with runtime.uow(write=False) as uow:
            batch = await uow.jobs.stale_documents(model_id, after, batch_size)
        if not batch:
            break
        vectors = await embedder.embed([d.content for d in batch])
        async with runtime.uow() as uow:
            for doc, vector in zip(batch, vectors, strict=True):
                if await uow.jobs.set_embedding(doc.key, vector, model_id, doc.content):
                    updated += 1
                else:
                    skipped += 1
            await uow.commit()
        after = batch[-1].key
        if on_progress is not None:
            on_progress(updated + skipped, total)
    return ReindexResult(model_id, total, updated, skipped)
