"""Conclusions by name: create in batches, list with filters, query by meaning, read, delete.

Observers, observed peers and provenance sessions are named; conclusions are created only
between peers that exist (no implicit creation), all embedded in one model call before the
write transaction opens. Filters use Honcho v3's keys for documents (`FILTERS`).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mindkeeper.core.filters import Field, Kind, ResourceSpec, parse_filters
from mindkeeper.core.ports import Embedder, Runtime, UnitOfWork
from mindkeeper.core.ports.derived import Conclusion, NewConclusion, Pair
from mindkeeper.core.services.conversations.scope import peer_not_found, session_not_found
from mindkeeper.core.services.memory import names
from mindkeeper.core.values import Clock, Page, PageRequest, utcnow
from mindkeeper.errors import Invalid, NotFound, Unavailable

#: Longest conclusion and longest query, in o200k_base tokens (the embedding input cap).
MAX_TOKENS = 8192
#: Most conclusions one request may create.
BATCH_MAX = 100

_TEXT, _JSON = Kind.TEXT, Kind.JSON
#: The keys a conclusion filter may use (upstream's public names and its document columns).
FILTERS = ResourceSpec(
    "Document",
    {
        "id": Field("id", _TEXT),
        "content": Field("content", _TEXT),
        "level": Field("level", _TEXT),
        "observer_id": Field("observer", _TEXT),
        "observer": Field("observer", _TEXT),
        "observed_id": Field("observed", _TEXT),
        "observed": Field("observed", _TEXT),
        "session_id": Field("session", _TEXT),
        "session_name": Field("session", _TEXT),
        "workspace_id": Field("workspace", _TEXT),
        "workspace_name": Field("workspace", _TEXT),
        "created_at": Field("created_at", Kind.TIMESTAMP),
        "deleted_at": Field("deleted_at", Kind.TIMESTAMP),
        "times_derived": Field("times_derived", Kind.NUMBER),
        "source_ids": Field("source_ids", _JSON),
        "metadata": Field("metadata", _JSON),
    },
    unknown_keys_absent=True,
)
_OBSERVER_KEYS = ("observer_id", "observer")
_OBSERVED_KEYS = ("observed_id", "observed")
PAIR_REQUIRED = "observer and observed must be specified for semantic search"


def no_embedder() -> Unavailable:
    """The error of a route that needs the embedder when none is configured."""
    return Unavailable("No embedder is configured (MINDKEEPER_EMBEDDER is 'none')")


def check_query(query: str, count_tokens: Callable[[str], int]) -> None:
    """Refuse a query longer than the embedding input cap."""
    if len(query) > MAX_TOKENS and count_tokens(query) > MAX_TOKENS:
        raise Invalid(f"Query exceeds maximum token limit of {MAX_TOKENS}.")


def over_token_cap(
    contents: Sequence[str], count_tokens: Callable[[str], int]
) -> builtins.list[tuple[int, int]]:
    """(index, tokens) of every content over `MAX_TOKENS` (a token is at least 1 character)."""
    over = []
    for index, content in enumerate(contents):
        if len(content) > MAX_TOKENS:
            tokens = count_tokens(content)
            if tokens > MAX_TOKENS:
                over.append((index, tokens))
    return over


@dataclass(frozen=True, slots=True)
class ConclusionInput:
    """A conclusion to create, naming its peers and (optionally) its session."""

    content: str
    observer: str
    observed: str
    session: str | None = None


async def _resolve(
    uow: UnitOfWork, workspace: str, items: Sequence[ConclusionInput]
) -> tuple[str, dict[str, str], dict[str, str]]:
    """(workspace id, peer name -> id, session name -> id); NotFound for anything missing."""
    sessions = builtins.list(dict.fromkeys(i.session for i in items if i.session is not None))
    peers = builtins.list(dict.fromkeys(n for i in items for n in (i.observer, i.observed)))
    ws = await uow.workspaces.get_by_name(workspace) if names.storable(workspace) else None
    session_ids: dict[str, str] = {}
    for name in sessions:
        found = None if ws is None else await uow.sessions.get_by_name(ws.id, name)
        if found is None or not found.is_active:
            raise session_not_found(name, workspace)
        session_ids[name] = found.id
    if ws is None:
        raise peer_not_found(peers[0], workspace)
    peer_ids = {p.name: p.id for p in await uow.peers.get_many(ws.id, names=peers)}
    for name in peers:
        if name not in peer_ids:
            raise peer_not_found(name, workspace)
    return ws.id, peer_ids, session_ids


async def create(
    runtime: Runtime, workspace: str, items: Sequence[ConclusionInput]
) -> builtins.list[Conclusion]:
    """Store explicit conclusions, all or nothing, and return them in request order."""
    async with runtime.uow(write=False) as uow:  # missing peers and sessions fail first
        await _resolve(uow, workspace, items)
    embedder = runtime.embedder
    if embedder is None:
        raise no_embedder()
    vectors = await embedder.embed([i.content for i in items])
    async with runtime.uow() as uow:
        workspace_id, peer_ids, session_ids = await _resolve(uow, workspace, items)
        now = runtime.now()
        created: dict[int, Conclusion] = {}
        groups: dict[tuple[str, str], builtins.list[int]] = {}
        for index, item in enumerate(items):
            pair = (peer_ids[item.observer], peer_ids[item.observed])
            groups.setdefault(pair, []).append(index)
        for (observer_id, observed_id), indexes in groups.items():
            collection = await uow.conclusions.pair_collection(
                workspace_id, observer_id, observed_id, now
            )
            new = []
            for i in indexes:
                session = items[i].session
                new.append(
                    NewConclusion(
                        items[i].content,
                        np.asarray(vectors[i], dtype=np.float32),
                        embedder.model_id,
                        None if session is None else session_ids[session],
                    )
                )
            stored = await uow.conclusions.add_many(collection, new, now)
            created.update(zip(indexes, stored, strict=True))
        await uow.commit()
    return [created[i] for i in range(len(items))]


def _named(filters: dict[str, Any], keys: Sequence[str]) -> str | None:
    """The first top-level key of `keys` holding a plain name."""
    for key in keys:
        value = filters.get(key)
        if isinstance(value, str) and value != "*":
            return names.text(value)
    return None


async def list(
    uow: UnitOfWork, workspace: str, filters: dict[str, Any] | None, page: PageRequest
) -> Page[Conclusion]:
    """A page of the workspace's conclusions, newest first (empty for an unknown workspace)."""
    where = parse_filters(filters, FILTERS)
    empty: Page[Conclusion] = Page(items=[], total=0, page=page.page, size=page.size)
    if not names.storable(workspace):
        return empty
    async with uow:
        ws = await uow.workspaces.get_by_name(workspace)
        if ws is None:
            return empty
        narrow: builtins.list[str | None] = []
        for keys in (_OBSERVER_KEYS, _OBSERVED_KEYS):
            name = _named(filters or {}, keys)
            peer = None if name is None else await uow.peers.get_by_name(ws.id, name)
            if name is not None and peer is None:
                return empty
            narrow.append(None if peer is None else peer.id)
        return await uow.conclusions.list(ws.id, narrow[0], narrow[1], where, page)


async def query(
    uow: UnitOfWork,
    embedder: Embedder | None,
    count_tokens: Callable[[str], int],
    workspace: str,
    text: str,
    top_k: int,
    max_distance: float | None,
    filters: dict[str, Any] | None,
) -> builtins.list[Conclusion]:
    """The conclusions of one observer/observed pair closest in meaning to `text`."""
    given = filters or {}
    observer, observed = _named(given, _OBSERVER_KEYS), _named(given, _OBSERVED_KEYS)
    if observer is None or observed is None:
        raise Invalid(PAIR_REQUIRED)
    rest = {k: v for k, v in given.items() if k not in (*_OBSERVER_KEYS, *_OBSERVED_KEYS)}
    where = parse_filters(rest, FILTERS)
    text = names.text(text)
    check_query(text, count_tokens)
    if embedder is None:
        raise no_embedder()
    vector = (await embedder.embed([text]))[0]
    if not names.storable(workspace):
        return []
    async with uow:
        ws = await uow.workspaces.get_by_name(workspace)
        if ws is None:
            return []
        found = {p.name: p.id for p in await uow.peers.get_many(ws.id, names=[observer, observed])}
        if observer not in found or observed not in found:
            return []
        pair = Pair(ws.id, found[observer], found[observed])
        return await uow.conclusions.nearest(
            pair, vector, embedder.model_id, where, top_k, max_distance
        )


def document_not_found(conclusion_id: str, workspace: str) -> NotFound:
    """The error for a missing (or deleted) conclusion."""
    return NotFound(
        f"Document {conclusion_id} not found or does not belong to workspace {workspace}"
    )


async def get(uow: UnitOfWork, workspace: str, conclusion_id: str) -> Conclusion:
    """One conclusion of the workspace, or NotFound."""
    if not names.storable(workspace, conclusion_id):
        raise document_not_found(conclusion_id, workspace)
    async with uow:
        ws = await uow.workspaces.get_by_name(workspace)
        found = None if ws is None else await uow.conclusions.get(ws.id, conclusion_id)
    if found is None:
        raise document_not_found(conclusion_id, workspace)
    return found


async def delete(
    uow: UnitOfWork, workspace: str, conclusion_id: str, clock: Clock = utcnow
) -> None:
    """Soft-delete a conclusion (hidden from every read at once), or NotFound."""
    if not names.storable(workspace, conclusion_id):
        raise document_not_found(conclusion_id, workspace)
    async with uow:
        ws = await uow.workspaces.get_by_name(workspace)
        if ws is None or not await uow.conclusions.soft_delete(ws.id, conclusion_id, clock()):
            raise document_not_found(conclusion_id, workspace)
        await uow.commit()
