"""Message search by name: hybrid search over a workspace, one peer's messages or one session.

Two rankings are fused with reciprocal rank fusion (k = 60, ranks from 1): by meaning, the
2 x `limit` nearest message vectors (4 x with `peer_perspective`), and by text, up to
2 x `limit` text matches (`MessageIndexRepository.text_matches`). The fused list is cut to
`limit`; equal scores keep insertion order. Messages not embedded yet are found by text only;
without an embedder the text ranking is the whole answer.

`filters` use Honcho v3's message keys (`FILTERS`) plus `peer_perspective` (a peer name: only
messages of sessions the peer was a member of when they were written). The route's own scope
replaces `workspace_id` (and `session_id` or `peer_id` on the session and peer routes) at the
top level of the filters. `scope` (scope names) keeps messages of the sessions of those scopes
only, on top of the filters (an unknown scope is NotFound; a scope without sessions matches
nothing).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from mindkeeper.core.filters import parse_filters
from mindkeeper.core.filters.tree import And, In, Kind, Never, Node
from mindkeeper.core.ports import Runtime
from mindkeeper.core.ports.derived import NamedMessage, SearchScope
from mindkeeper.core.services.conversations import scopes
from mindkeeper.core.services.conversations.filters import MESSAGES
from mindkeeper.core.services.memory import names, recall
from mindkeeper.core.services.memory.conclusions import check_query
from mindkeeper.errors import Invalid

RRF_K = 60

#: The keys a message filter may use (those of message lists).
FILTERS = MESSAGES
PERSPECTIVE = "peer_perspective"


def fuse(*rankings: Sequence[int], k: int = RRF_K) -> builtins.list[int]:
    """Reciprocal rank fusion of rankings of message keys (ties: lower key first)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda key: (-scores[key], key))


def _within(where: Node | None, sessions: Sequence[str]) -> Node:
    """The filter and "the message is in one of the sessions" (by name)."""
    kept: Node = In("session", Kind.TEXT, tuple(sessions)) if sessions else Never()
    return kept if where is None else And((where, kept))


async def search(
    runtime: Runtime,
    workspace: str,
    query: str,
    filters: dict[str, Any] | None,
    limit: int,
    *,
    session: str | None = None,
    peer: str | None = None,
    scope: str | Sequence[str] | None = None,
) -> builtins.list[NamedMessage]:
    """Messages of the workspace (or of one session, or sent by one peer) matching `query`,
    of the sessions of the `scope` named scopes only when it is given."""
    scoped = recall.scope_names(scope)
    given = dict(filters or {})
    perspective = given.pop(PERSPECTIVE, None)
    if perspective is not None and not isinstance(perspective, str):
        raise Invalid(f"{PERSPECTIVE} must be a peer id")
    for key, forced in (("workspace_id", True), ("session_id", session), ("peer_id", peer)):
        if forced:
            given.pop(key, None)
    where: Node | None = parse_filters(given, FILTERS)
    query = names.text(query)
    check_query(query, runtime.tokens.count)
    embedder = runtime.embedder
    vector = (await embedder.embed([query]))[0] if embedder is not None else None
    if not names.storable(workspace, session, peer, perspective):
        return []
    async with runtime.uow(write=False) as uow:
        if scoped is not None:
            where = _within(where, await scopes.session_names(uow, workspace, scoped))
        ws = await uow.workspaces.get_by_name(workspace)
        if ws is None:
            return []
        seen = SearchScope(ws.id, where=where)
        if session is not None:
            found = await uow.sessions.get_by_name(ws.id, session)
            if found is None:
                return []
            seen = SearchScope(ws.id, session_id=found.id, where=where)
        if peer is not None:
            sender = await uow.peers.get_by_name(ws.id, peer)
            if sender is None:
                return []
            seen = SearchScope(ws.id, sender_id=sender.id, where=where)
        if perspective is not None:
            viewer = await uow.peers.get_by_name(ws.id, perspective)
            if viewer is None:
                return []
            seen = SearchScope(
                ws.id, seen.session_id, seen.sender_id, perspective_id=viewer.id, where=where
            )
        by_meaning: builtins.list[int] = []
        if vector is not None and embedder is not None:
            wanted = (4 if perspective is not None else 2) * limit
            by_meaning = await uow.message_index.nearest(seen, vector, embedder.model_id, wanted)
        by_text = await uow.message_index.text_matches(seen, query, 2 * limit)
        return await uow.message_index.by_keys(fuse(by_meaning, by_text)[:limit])
