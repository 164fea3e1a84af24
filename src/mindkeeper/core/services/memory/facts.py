"""Storing derived facts as explicit conclusions, de-duplicated per collection.

The same facts go to every observer's collection about the observed peer (with the session
as provenance). A fact closer than `dedup_distance` (cosine) to another fact of the same
extraction is dropped; one that close to a stored conclusion of the pair is not stored again,
the stored one counts one more derivation (`times_derived`) instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from mindkeeper.core.entities import JSONObject
from mindkeeper.core.ports import UnitOfWork
from mindkeeper.core.ports.derived import NewConclusion, Pair


def distinct(vectors: np.ndarray, dedup_distance: float) -> list[int]:
    """Indexes of the vectors to keep: each one not too close to an earlier kept one
    (vectors are unit length, so cosine distance is 1 - dot product)."""
    kept: list[int] = []
    for i in range(len(vectors)):
        if all(1.0 - float(np.dot(vectors[i], vectors[j])) >= dedup_distance for j in kept):
            kept.append(i)
    return kept


async def store(
    uow: UnitOfWork,
    workspace_id: str,
    observer_ids: Sequence[str],
    observed_id: str,
    session_id: str | None,
    facts: Sequence[str],
    vectors: np.ndarray,
    model: str,
    dedup_distance: float,
    metadata: JSONObject,
    now: datetime,
    level: str = "explicit",
    source_ids: list[str] | None = None,
) -> int:
    """Inside the writer's transaction: store the facts in each observer's collection about
    the observed peer; return how many conclusions were written in all."""
    if not facts:
        return 0
    vectors = np.asarray(vectors, dtype=np.float32)
    keep = distinct(vectors, dedup_distance)
    stored = 0
    for observer_id in observer_ids:
        collection = await uow.conclusions.pair_collection(
            workspace_id, observer_id, observed_id, now
        )
        pair = Pair(workspace_id, observer_id, observed_id)
        new: list[NewConclusion] = []
        again: list[int] = []
        for i in keep:
            near = await uow.conclusions.nearest(pair, vectors[i], model, None, 1, dedup_distance)
            if near:
                again.append(near[0].key)
                continue
            new.append(
                NewConclusion(
                    facts[i], vectors[i], model, session_id, level, source_ids, dict(metadata)
                )
            )
        await uow.conclusions.add_many(collection, new, now)
        await uow.jobs.bump_times_derived(again)
        stored += len(new)
    return stored
