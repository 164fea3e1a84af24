"""The dialectic chat of the named (v3) surface: answer a question about a peer from what an
observer knows, or about anyone from what the workspace knows.

`prepare_peer` / `prepare_workspace` do everything that can fail for a reason the caller
should see as a normal error before any answer is sent, in upstream's order: the session
allowlist and the response format (422), then (peer chat) the observer is got or created,
the target peer must exist and the session must exist and be active (404), and last a
dialectic model must be configured (`ModelNotConfigured`, naming the setting). Then they
gather the context: conclusions nearest to the query (the observer's about the target, or the
whole workspace's), the peer card (when `peer_card.use` is on), the session's latest summary
and recent messages (up to `HISTORY_TOKENS`), and the target's messages nearest to the query
(where the observer could see them). What was read is the answer's evidence.

`scope` (scope names) narrows all of it to the sessions of those scopes, within any session
allowlist (an unknown scope is NotFound; a scope without sessions recalls nothing).

`reasoning_level` sets how much is read and how long the answer may be (`LEVELS`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mindkeeper.core.entities import Peer, Session
from mindkeeper.core.filters.tree import In, Kind, Never, Node
from mindkeeper.core.ports import Runtime, UnitOfWork
from mindkeeper.core.ports.derived import Conclusion, NamedMessage, Pair, SearchScope
from mindkeeper.core.ports.models import ChatModel, Prompt
from mindkeeper.core.services.conversations import peers as named_peers
from mindkeeper.core.services.conversations import scopes as named_scopes
from mindkeeper.core.services.conversations import workspaces as named_workspaces
from mindkeeper.core.services.conversations.scope import (
    peer_not_found,
    retrying,
    session_not_found,
)
from mindkeeper.core.services.memory import configuration, prompts, recall, response_format
from mindkeeper.core.services.memory import summaries as session_summaries

#: Per reasoning level: conclusions read, messages searched, answer length (tokens).
LEVELS: dict[str, tuple[int, int, int]] = {
    "minimal": (5, 3, 400),
    "low": (10, 5, 1000),
    "medium": (20, 10, 1500),
    "high": (30, 15, 2500),
    "max": (50, 25, 4000),
}
#: Recent messages of the session given to the model, in tokens.
HISTORY_TOKENS = 4096


@dataclass(frozen=True, slots=True)
class Question:
    """A chat request as the surface parsed it (names as the client gave them)."""

    workspace: str
    query: str
    observer: str | None = None
    target: str | None = None
    session: str | None = None
    filters: dict[str, Any] | None = None
    reasoning_level: str = "low"
    response_format: Any = None
    scope: str | Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A retrieval step, reported as upstream's agent reports its tool calls."""

    tool_name: str
    tool_input: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Evidence:
    """What was read to answer (not proof that the answer leaned on it)."""

    conclusions: list[Conclusion] = field(default_factory=list)
    messages: list[NamedMessage] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ChatCall:
    """A prepared question: the model, the prompt, the schema asked for, the evidence."""

    model: ChatModel
    prompt: Prompt
    schema: dict[str, Any] | None
    evidence: Evidence


def _checked(question: Question) -> tuple[list[str] | None, dict[str, Any] | None]:
    allowlist = recall.session_allowlist(question.filters, question.session)
    recall.scope_names(question.scope)
    schema = None
    if question.response_format is not None:
        schema = response_format.check(question.response_format)
    return allowlist, schema


async def _observer(runtime: Runtime, workspace: str, name: str) -> None:
    """Get or create the observer (and its workspace), as upstream's chat does."""

    async def attempt() -> None:
        uow = runtime.uow()
        async with uow:
            ws = await named_workspaces.ensure(uow, workspace, runtime.now)
            await named_peers.ensure_many(uow, ws.id, [name], runtime.now())
            await uow.commit()

    await retrying(attempt)


@dataclass(slots=True)
class _Scope:
    workspace_id: str
    observer: Peer | None
    target: Peer | None
    session: Session | None
    allowed: tuple[str, ...] | None
    names: dict[str, str]
    #: The message filter of the allowed sessions (by name), None when all are allowed.
    where: Node | None = None


async def _session_ids(
    uow: UnitOfWork, workspace_id: str, names: Sequence[str] | None
) -> tuple[str, ...] | None:
    if names is None:
        return None
    ids = []
    for name in names:
        found = await uow.sessions.get_by_name(workspace_id, name)
        if found is not None:
            ids.append(found.id)
    return tuple(ids)


async def _scope(uow: UnitOfWork, question: Question, allowlist: list[str] | None) -> _Scope:
    ws = await named_workspaces.require(uow, question.workspace)
    observer = target = None
    if question.observer is not None:
        observer = await uow.peers.get_by_name(ws.id, question.observer)
        if observer is None:
            raise peer_not_found(question.observer, question.workspace)
        target = observer
        if question.target is not None:
            target = await uow.peers.get_by_name(ws.id, question.target)
            if target is None:
                raise peer_not_found(question.target, question.workspace)
    session = None
    if question.session is not None:
        session = await uow.sessions.get_by_name(ws.id, question.session)
        if session is None or not session.is_active:
            raise session_not_found(question.session, question.workspace)
    wanted = allowlist
    if wanted is None and question.session is not None:
        wanted = [question.session]
    scoped = recall.scope_names(question.scope)
    if scoped is not None:
        in_scopes = await named_scopes.session_names(uow, question.workspace, scoped)
        wanted = recall.narrow(wanted, in_scopes)
    allowed = await _session_ids(uow, ws.id, wanted)
    where: Node | None = None
    if wanted is not None:
        where = In("session", Kind.TEXT, tuple(wanted)) if wanted else Never()
    return _Scope(ws.id, observer, target, session, allowed, {}, where)


def _configuration(scope: _Scope, workspace: Any) -> configuration.Resolved:
    session_config = scope.session.configuration if scope.session is not None else None
    return configuration.resolve(configuration.Defaults(), workspace, session_config)


async def _gather(
    runtime: Runtime, uow: UnitOfWork, scope: _Scope, question: Question, vector: Any
) -> tuple[Evidence, list[str] | None, str | None, list[tuple[str, str]]]:
    top_k, message_k, _ = LEVELS[question.reasoning_level]
    embedder = runtime.embedder
    calls: list[ToolCall] = []
    found: list[Conclusion] = []
    if vector is not None and embedder is not None:
        calls.append(ToolCall("search_memory", {"query": question.query, "top_k": top_k}))
        if scope.observer is not None and scope.target is not None:
            pair = Pair(scope.workspace_id, scope.observer.id, scope.target.id, scope.allowed)
            found = await uow.conclusions.nearest(pair, vector, embedder.model_id, None, top_k)
        else:
            ids = await uow.jobs.nearest_in_workspace(
                scope.workspace_id, vector, embedder.model_id, top_k, scope.allowed
            )
            by_id = {c.id: c for c in await uow.conclusions.get_many(scope.workspace_id, ids)}
            found = [by_id[i] for i in ids if i in by_id]
    ws = await uow.workspaces.get(scope.workspace_id)
    settings = _configuration(scope, ws.configuration if ws is not None else {})
    card = None
    if scope.observer is not None and scope.target is not None and settings.peer_card_use:
        calls.append(ToolCall("get_peer_card", {"target": scope.target.name}))
        card = await uow.peer_cards.get(scope.workspace_id, scope.observer.id, scope.target.id)
    read: list[NamedMessage] = []
    summary = None
    recent: list[tuple[str, str]] = []
    if scope.session is not None and (scope.allowed is None or scope.session.id in scope.allowed):
        calls.append(ToolCall("get_session_history", {"session_id": scope.session.name}))
        short = await session_summaries.latest(
            uow, scope.session.id, session_summaries.SHORT, runtime.tokens.count
        )
        summary = short.content if short is not None else None
        after = short.message_key if short is not None else 0
        history = await uow.message_index.tail(scope.session.id, after, HISTORY_TOKENS)
        recent = [(m.sender, m.message.content) for m in history]
        read.extend(history)
    if vector is not None and embedder is not None and scope.target is not None:
        calls.append(ToolCall("search_messages", {"query": question.query, "limit": message_k}))
        perspective = None
        if scope.observer is not None and scope.observer.id != scope.target.id:
            perspective = scope.observer.id
        search = SearchScope(
            scope.workspace_id,
            scope.session.id if scope.session is not None else None,
            scope.target.id,
            perspective,
            scope.where,
        )
        keys = await uow.message_index.nearest(search, vector, embedder.model_id, message_k)
        seen = {m.message.id for m in read}
        for item in await uow.message_index.by_keys(keys):
            allowed = scope.allowed is None or item.message.session_id in scope.allowed
            if allowed and item.message.id not in seen:
                read.append(item)
                recent.append((item.sender, item.message.content))
    return Evidence(found, read, calls), card, summary, recent


async def _prepare(
    runtime: Runtime, question: Question, allowlist: list[str] | None, schema: Any
) -> ChatCall:
    async with runtime.uow(write=False) as uow:
        scope = await _scope(uow, question, allowlist)
    model = runtime.models.require("dialectic")
    embedder = runtime.embedder
    vector = None
    if embedder is not None and question.query.strip():
        vector = np.asarray((await embedder.embed([question.query]))[0], dtype=np.float32)
    async with runtime.uow(write=False) as uow:
        evidence, card, summary, recent = await _gather(runtime, uow, scope, question, vector)
    observer = scope.observer.name if scope.observer is not None else "the workspace"
    observed = scope.target.name if scope.target is not None else "its peers"
    prompt = prompts.dialectic_prompt(
        question.query,
        observer,
        observed,
        [c.content for c in evidence.conclusions],
        card,
        summary,
        recent,
        schema,
        LEVELS[question.reasoning_level][2],
    )
    return ChatCall(model, prompt, schema, evidence)


async def prepare_peer(runtime: Runtime, question: Question) -> ChatCall:
    """Check and gather for `POST .../peers/{observer}/chat`."""
    assert question.observer is not None
    allowlist, schema = _checked(question)
    await _observer(runtime, question.workspace, question.observer)
    return await _prepare(runtime, question, allowlist, schema)


async def prepare_workspace(runtime: Runtime, question: Question) -> ChatCall:
    """Check and gather for `POST .../chat` (the workspace's knowledge; no observer)."""
    allowlist, schema = _checked(question)
    return await _prepare(runtime, question, allowlist, schema)


def finish(call: ChatCall, text: str) -> str | None:
    """The answer as sent: None when empty; the JSON document when a schema was asked for."""
    if not text:
        return None
    return response_format.extract(text) if call.schema is not None else text


async def answer(call: ChatCall) -> str | None:
    """The model's whole answer."""
    return finish(call, (await call.model.complete(call.prompt)).text)


def stream(call: ChatCall) -> AsyncIterator[str]:
    """The model's answer as it is written."""
    return call.model.stream(call.prompt)
