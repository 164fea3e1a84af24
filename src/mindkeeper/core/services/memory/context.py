"""Representations and context by name: a peer's representation of a peer, a peer's context
(representation and card), and a session's context within a token budget.

Session context: with a `peer_target`, the representation of the target (from
`peer_perspective`, itself by default) and the matching card are built first and their
tokens taken off the budget. Then the summary: the long one when it exists, fits in 40 % of
the remaining budget and is longer than the short one, else the short one when it fits. Then
the newest messages *after* the summary's last covered message whose token counts, summed
from the newest back, fit in what is left (stopping at the first that does not fit), oldest
first. Honcho v3 repeats the summary's last message in `messages`; this does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mindkeeper.core.entities import Peer, Session, Workspace
from mindkeeper.core.ports import Runtime, UnitOfWork
from mindkeeper.core.ports.derived import NamedMessage, Pair
from mindkeeper.core.services.conversations import scopes
from mindkeeper.core.services.conversations.scope import peer_not_found
from mindkeeper.core.services.memory import names, recall, representation, summaries
from mindkeeper.core.services.memory.representation import Options
from mindkeeper.core.services.memory.summaries import Summary
from mindkeeper.errors import Invalid

#: The default and largest session-context budget, in tokens.
MAX_TOKENS = 100_000
#: Share of the budget a summary may take.
SUMMARY_SHARE = 0.4


async def _peer(uow: UnitOfWork, ws: Workspace | None, name: str) -> Peer | None:
    if ws is None or not names.storable(name):
        return None
    return await uow.peers.get_by_name(ws.id, name)


async def _workspace(uow: UnitOfWork, name: str) -> Workspace | None:
    return await uow.workspaces.get_by_name(name) if names.storable(name) else None


async def peer_representation(
    runtime: Runtime,
    workspace: str,
    peer: str,
    target: str | None,
    session: str | None,
    filters: dict[str, Any] | None,
    options: Options,
    scope: str | Sequence[str] | None = None,
) -> str:
    """The peer's representation of `target` (itself by default), "" when there is nothing;
    `session` and the allowlist in `filters` keep conclusions of those sessions only, and
    `scope` those of the sessions of the named scopes (NotFound for an unknown scope)."""
    allowlist = recall.session_allowlist(filters, session)
    scoped = recall.scope_names(scope)
    vector = await representation.embed_query(runtime.embedder, options)
    async with runtime.uow(write=False) as uow:
        wanted = [session] if session is not None else allowlist
        if scoped is not None:
            in_scopes = await scopes.session_names(uow, workspace, scoped)
            wanted = recall.narrow(wanted, in_scopes)
        ws = await _workspace(uow, workspace)
        observer = await _peer(uow, ws, peer)
        observed = observer if target is None else await _peer(uow, ws, target)
        if ws is None or observer is None or observed is None:
            return ""
        session_ids = None
        if wanted is not None:
            usable = [name for name in wanted if names.storable(name)]
            session_ids = tuple((await uow.conclusions.session_ids(ws.id, usable)).values())
        pair = Pair(ws.id, observer.id, observed.id, session_ids)
        return await representation.build(uow, pair, options, vector, _model(runtime))


def _model(runtime: Runtime) -> str | None:
    return None if runtime.embedder is None else runtime.embedder.model_id


@dataclass(frozen=True, slots=True)
class PeerContext:
    """A peer's view of a peer: representation and card."""

    peer: str
    target: str
    representation: str
    card: list[str] | None


async def peer_context(
    runtime: Runtime, workspace: str, peer: str, target: str | None, options: Options
) -> PeerContext:
    """The peer's representation of and card about `target` (itself by default)."""
    vector = await representation.embed_query(runtime.embedder, options)
    async with runtime.uow(write=False) as uow:
        ws = await _workspace(uow, workspace)
        observer = await _peer(uow, ws, peer)
        if ws is None or observer is None:
            raise peer_not_found(peer, workspace)
        observed = observer if target is None else await _peer(uow, ws, target)
        if observed is None:
            return PeerContext(peer, target or peer, "", None)
        pair = Pair(ws.id, observer.id, observed.id)
        text = await representation.build(uow, pair, options, vector, _model(runtime))
        card = await uow.peer_cards.get(ws.id, observer.id, observed.id)
    return PeerContext(peer, target or peer, text, card)


@dataclass(frozen=True, slots=True)
class SessionContextRequest:
    """What a session context should hold."""

    tokens: int = MAX_TOKENS
    summary: bool = True
    peer_target: str | None = None
    peer_perspective: str | None = None
    limit_to_session: bool = False
    options: Options = field(default_factory=lambda: Options(max_conclusions=100))
    #: Scope names and a session allowlist that narrow the representation's conclusions.
    scope: Sequence[str] | None = None
    sessions: Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class SessionContext:
    """Messages within the budget, the summary before them, and a peer's view."""

    session: str
    workspace: str
    messages: Sequence[NamedMessage]
    summary: Summary | None
    representation: str | None
    card: list[str] | None


def pick_summary(short: Summary | None, long: Summary | None, budget: int) -> Summary | None:
    """The long summary when it fits in the summary share and beats the short one, else the
    short one when it fits, else none."""
    room = budget * SUMMARY_SHARE
    if long is not None and long.token_count <= room:
        if short is None or long.token_count > short.token_count:
            return long
    if short is not None and short.token_count <= room:
        return short
    return None


async def _view(
    runtime: Runtime,
    uow: UnitOfWork,
    ws: Workspace | None,
    workspace: str,
    found: Session | None,
    request: SessionContextRequest,
    vector: np.ndarray | None,
    wanted: list[str] | None,
) -> tuple[str, list[str] | None]:
    assert request.peer_target is not None
    observer_name = request.peer_perspective or request.peer_target
    target = await _peer(uow, ws, request.peer_target)
    if ws is None or target is None:
        raise peer_not_found(request.peer_target, workspace)
    observer = (
        target if observer_name == request.peer_target else await _peer(uow, ws, observer_name)
    )
    if observer is None:
        raise peer_not_found(observer_name, workspace)
    session_ids: tuple[str, ...] | None = None
    if request.limit_to_session:
        session_ids = () if found is None else (found.id,)
    if wanted is not None:
        usable = [name for name in wanted if names.storable(name)]
        named = tuple((await uow.conclusions.session_ids(ws.id, usable)).values())
        session_ids = named if session_ids is None else tuple(i for i in session_ids if i in named)
    pair = Pair(ws.id, observer.id, target.id, session_ids)
    text = await representation.build(uow, pair, request.options, vector, _model(runtime))
    card = await uow.peer_cards.get(ws.id, observer.id, target.id)
    return text, card


async def session_context(
    runtime: Runtime, workspace: str, session: str, request: SessionContextRequest
) -> SessionContext:
    """The session's context within `request.tokens` (empty for an unknown session); `scope`
    and `sessions` narrow the representation to conclusions of those sessions (NotFound for
    an unknown scope)."""
    if request.peer_perspective is not None and request.peer_target is None:
        raise Invalid("peer_target must be provided if peer_perspective is provided")
    wanted = None if request.sessions is None else recall.listed_sessions(request.sessions)
    scoped = recall.scope_names(request.scope)
    count = runtime.tokens.count
    vector = None
    if request.peer_target is not None:
        vector = await representation.embed_query(runtime.embedder, request.options)
    async with runtime.uow(write=False) as uow:
        if scoped is not None:
            wanted = recall.narrow(wanted, await scopes.session_names(uow, workspace, scoped))
        ws = await _workspace(uow, workspace)
        found = None
        if ws is not None and names.storable(session):
            found = await uow.sessions.get_by_name(ws.id, session)
        budget = request.tokens
        text: str | None = None
        card: list[str] | None = None
        if request.peer_target is not None:
            text, card = await _view(runtime, uow, ws, workspace, found, request, vector, wanted)
            budget -= count(text) + (count("\n".join(card)) if card else 0)
        if found is None:
            return SessionContext(session, workspace, [], None, text, card)
        chosen = None
        if request.summary:
            short = await summaries.latest(uow, found.id, summaries.SHORT, count)
            long = await summaries.latest(uow, found.id, summaries.LONG, count)
            chosen = pick_summary(short, long, budget)
        after = 0
        if chosen is not None:
            budget -= chosen.token_count
            after = chosen.message_key
        messages = await uow.message_index.tail(found.id, after, budget)
    return SessionContext(session, workspace, messages, chosen, text, card)
