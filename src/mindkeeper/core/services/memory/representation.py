"""Representations: a curated subset of an observer's conclusions about a peer, rendered as
markdown (sections per level, omitted when empty).

Which conclusions: up to `max_conclusions`; with a search query about a third of them (or
`search_top_k`) are the closest in meaning (within `search_max_distance`), with
`include_most_frequent` a share (a half, or a third beside the search) are the most often
derived, and the newest fill the rest. Each section lists its conclusions oldest first.

What the renderer reads from a conclusion's metadata (written by whoever derives it): a
deductive one's `premises` (strings), an inductive one's `confidence`, `pattern_type` and
`sources`, a contradiction's `sources`; absent premises and sources are the contents of the
conclusions named by `source_ids`. An explicit conclusion is stamped with the time of its
source message (metadata `message_id`, or the first of `message_ids`) when that is known.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from mindkeeper.core.ports import Embedder, UnitOfWork
from mindkeeper.core.ports.derived import Conclusion, Order, Pair

log = logging.getLogger("mindkeeper.memory")

_SOURCES_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Options:
    """How to curate a representation."""

    max_conclusions: int = 25
    search_query: str | None = None
    search_top_k: int | None = None
    search_max_distance: float | None = None
    include_most_frequent: bool = False


async def embed_query(embedder: Embedder | None, options: Options) -> np.ndarray | None:
    """The search query's vector, or None (no query, no embedder, or the embedder failed)."""
    if options.search_query is None or embedder is None:
        return None
    try:
        return np.asarray((await embedder.embed([options.search_query.replace("\x00", "")]))[0])
    except Exception:  # the representation falls back to recency, as upstream's does
        log.exception("embedding a representation query failed")
        return None


def _shares(options: Options, searching: bool) -> tuple[int, int]:
    """(semantic, most frequent) counts out of `max_conclusions`."""
    total = options.max_conclusions
    semantic = 0
    if searching:
        semantic = min(total, options.search_top_k or max(1, total // 3))
    frequent = 0
    if options.include_most_frequent:
        frequent = min(total - semantic, total // 3 if searching else total // 2)
    return semantic, frequent


async def gather(
    uow: UnitOfWork,
    pair: Pair,
    options: Options,
    vector: np.ndarray | None,
    model: str | None,
) -> builtins.list[Conclusion]:
    """Inside an open unit of work: the conclusions a representation shows."""
    if pair.session_ids is not None and not pair.session_ids:
        return []
    semantic, frequent = _shares(options, vector is not None and model is not None)
    picked: dict[int, Conclusion] = {}
    if semantic and vector is not None and model is not None:
        for c in await uow.conclusions.nearest(
            pair, vector, model, None, semantic, options.search_max_distance
        ):
            picked.setdefault(c.key, c)
    if frequent:
        for c in await uow.conclusions.ranked(pair, Order.FREQUENT, frequent, tuple(picked)):
            picked.setdefault(c.key, c)
    rest = options.max_conclusions - len(picked)
    for c in await uow.conclusions.ranked(pair, Order.RECENT, rest, tuple(picked)):
        picked.setdefault(c.key, c)
    return builtins.list(picked.values())


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _strings(value: Any) -> builtins.list[str]:
    if not isinstance(value, list):
        return []
    return [str(v) for v in value if isinstance(v, str | int | float)]


def _source_message(c: Conclusion) -> str | None:
    single = c.metadata.get("message_id")
    if isinstance(single, str):
        return single
    many = c.metadata.get("message_ids")
    if isinstance(many, list) and many and isinstance(many[0], str):
        return many[0]
    return None


@dataclass(frozen=True, slots=True)
class _Sources:
    contents: dict[str, str]
    times: dict[str, datetime]


async def _sources(uow: UnitOfWork, workspace_id: str, items: Sequence[Conclusion]) -> _Sources:
    ids = {i for c in items if c.level != "explicit" for i in (c.source_ids or [])}
    contents = {c.id: c.content for c in await uow.conclusions.get_many(workspace_id, list(ids))}
    messages = {m for c in items if c.level == "explicit" for m in [_source_message(c)] if m}
    times = await uow.message_index.created_at(workspace_id, list(messages))
    return _Sources(contents, times)


def _lines(c: Conclusion, sources: _Sources) -> builtins.list[str]:
    premises = _strings(c.metadata.get("premises")) or [
        sources.contents[i] for i in (c.source_ids or []) if i in sources.contents
    ]
    if c.level == "explicit":
        message = _source_message(c)
        when = sources.times.get(message, c.created_at) if message else c.created_at
        return [f"[{_stamp(when)}] {c.content}"]
    if c.level == "deductive":
        lines = [f"[{_stamp(c.created_at)}] {c.content}"]
        if premises:
            lines += ["   Premises:", *(f"   - {p}" for p in premises)]
        return lines
    shown = _strings(c.metadata.get("sources")) or premises
    if c.level == "inductive":
        confidence = c.metadata.get("confidence") or "medium"
        lines = [f" **Pattern** [{confidence}]: {c.content}"]
        kind = c.metadata.get("pattern_type")
        if kind:
            lines.append(f"   **Type**: {kind}")
        if shown:
            lines.append("   **Sources**:")
            lines += [f"   - {s}" for s in shown[:_SOURCES_SHOWN]]
            if len(shown) > _SOURCES_SHOWN:
                lines.append(f"   - ... and {len(shown) - _SOURCES_SHOWN} more")
        return lines
    lines = [f" **CONTRADICTION**: {c.content}"]
    if shown:
        lines += ["   **Conflicting statements**:", *(f"   - {s}" for s in shown)]
    return lines


_SECTIONS = (
    ("explicit", "## Explicit Observations"),
    ("deductive", "## Deductive Observations"),
    ("inductive", "## Inductive Observations"),
    ("contradiction", "## Contradictions"),
)


async def render(uow: UnitOfWork, workspace_id: str, items: Sequence[Conclusion]) -> str:
    """Inside an open unit of work: the markdown of a representation ("" when empty)."""
    if not items:
        return ""
    sources = await _sources(uow, workspace_id, items)
    ordered = sorted(items, key=lambda c: (c.created_at, c.key))
    parts = []
    for level, title in _SECTIONS:
        lines = [line for c in ordered if c.level == level for line in _lines(c, sources)]
        if lines:
            parts.append(title + "\n\n" + "".join(f"{line}\n" for line in lines))
    return "\n".join(parts)


async def build(
    uow: UnitOfWork,
    pair: Pair,
    options: Options,
    vector: np.ndarray | None,
    model: str | None,
) -> str:
    """Inside an open unit of work: gather and render the pair's representation."""
    return await render(uow, pair.workspace_id, await gather(uow, pair, options, vector, model))
