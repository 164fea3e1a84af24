"""The message index: messages are embedded after they are written, by the worker.

`enqueue_embeddings` runs inside the transaction that writes messages and queues one `embed`
job naming them (payload `{"message_ids": [...]}`); the job has no session, so it never waits
behind a session's derivations. A worker running an `embed` job also takes the messages of
other pending `embed` jobs (up to `BATCH_MAX` messages in all) into the same model call; the
jobs whose messages were embedded that way find nothing left to do when their turn comes.
Vectors are written in the transaction that marks the job done under its lease, and a
message that already has a vector of the current model is never embedded again.

`reindex_messages` embeds every message that has no vector of the configured model (written
before the index existed, through the v1 surface, or under another embedder), in batches
committed one by one, so it can be interrupted and resumed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from mindkeeper.core.entities import Message
from mindkeeper.core.ports import Runtime, UnitOfWork
from mindkeeper.core.ports.derived import MessageText, MessageVector
from mindkeeper.core.ports.jobs import Job
from mindkeeper.errors import Unavailable

#: Embed the messages named by the payload.
EMBED = "embed"
KINDS = (EMBED,)
#: Most messages embedded by one job run (its own and those of other pending jobs).
BATCH_MAX = 256
#: Other pending jobs whose messages one run may take along.
READ_AHEAD_JOBS = 32


async def enqueue_embeddings(
    uow: UnitOfWork, messages: Sequence[Message], now: datetime, *, enabled: bool
) -> int:
    """Inside the messages' transaction: queue their embedding (one job per workspace).

    `enabled`: an embedder is configured; without one nothing is queued (a later
    `mindkeeper reindex` embeds them). Returns the number of jobs queued.
    """
    if not enabled or not messages:
        return 0
    by_workspace: dict[str, list[str]] = {}
    for message in messages:
        by_workspace.setdefault(message.workspace_id, []).append(message.id)
    for workspace_id, ids in by_workspace.items():
        await uow.jobs.enqueue_task(EMBED, workspace_id, {"message_ids": ids}, now)
    return len(by_workspace)


def _payload_ids(job: Job) -> list[str]:
    ids = (job.payload or {}).get("message_ids")
    if not isinstance(ids, list):
        return []
    return [i for i in ids if isinstance(i, str)]


async def process(runtime: Runtime, job: Job) -> bool:
    """Run one claimed `embed` job; False when its lease was lost (nothing written)."""
    assert job.lease_token is not None
    embedder = runtime.embedder
    texts: list[MessageText] = []
    if embedder is not None:
        ids = dict.fromkeys(_payload_ids(job))
        async with runtime.uow(write=False) as uow:
            if len(ids) < BATCH_MAX:
                for other in await uow.message_index.queued_message_ids(EMBED, READ_AHEAD_JOBS):
                    if len(ids) >= BATCH_MAX:
                        break
                    ids.setdefault(other)
            texts = await uow.message_index.unembedded(list(ids), embedder.model_id)
    vectors = await embedder.embed([t.content for t in texts]) if embedder and texts else None
    async with runtime.uow() as uow:
        if not await uow.jobs.complete(job.key, job.lease_token, runtime.now()):
            return False
        if embedder is not None and vectors is not None:
            await uow.message_index.put_vectors(
                [
                    MessageVector(t.id, t.workspace_id, vector)
                    for t, vector in zip(texts, vectors, strict=True)
                ],
                embedder.model_id,
                runtime.now(),
            )
        await uow.commit()
    return True


@dataclass(frozen=True, slots=True)
class ReindexResult:
    """What a run of `reindex_messages` did."""

    model_id: str
    total: int
    embedded: int


async def reindex_messages(
    runtime: Runtime,
    batch_size: int = 64,
    on_progress: Callable[[int, int], None] | None = None,
) -> ReindexResult:
    """Embed every message without a vector of the configured embedder, batch by batch."""
    embedder = runtime.embedder
    if embedder is None:
        raise Unavailable("No embedder is configured (MINDKEEPER_EMBEDDER is 'none')")
    model_id = embedder.model_id
    async with runtime.uow(write=False) as uow:
        total = await uow.message_index.count_stale(model_id)
    embedded = 0
    after = 0
    while True:
        async with runtime.uow(write=False) as uow:
            batch = await uow.message_index.stale(model_id, after, max(1, batch_size))
        if not batch:
            break
        vectors = await embedder.embed([t.content for t in batch])
        async with runtime.uow() as uow:
            await uow.message_index.put_vectors(
                [
                    MessageVector(t.id, t.workspace_id, v)
                    for t, v in zip(batch, vectors, strict=True)
                ],
                model_id,
                runtime.now(),
            )
            await uow.commit()
        embedded += len(batch)
        after = batch[-1].key
        if on_progress is not None:
            on_progress(embedded, total)
    return ReindexResult(model_id, total, embedded)
