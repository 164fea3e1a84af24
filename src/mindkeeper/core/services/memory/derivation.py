"""The deriver of the named (v3) surface: one work unit at a time.

A work unit is a claimed derivation job and the jobs attached to it under its lease (the
same sender's next messages of the session, `queue.attach`). Three phases, as in v1, so that
no database lock is held while a model runs and nothing is written twice:

1. read (no lock): the messages, the conversation before them, the observers' peer cards
   about the sender, and the summary steps due (a message whose position is a multiple of
   the session's short or long period);
2. models: one fact extraction for all the messages (deriver model), the facts embedded;
   each distinct card updated with the facts (when `peer_card.create` is on); the due
   summaries in order (summary model), each continuing the previous one;
3. write (one transaction): mark the jobs done under the lease token first; then the facts,
   as explicit conclusions with the session as provenance, in every observer's collection
   about the sender (`facts.store`), the cards, the summaries (`summaries.save`); and when the
   sender has no unfinished work left in the session, `events.work_unit_finished`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from mindkeeper.core.entities import Message, Peer, Session
from mindkeeper.core.ports import Runtime, UnitOfWork
from mindkeeper.core.ports.jobs import Job
from mindkeeper.core.prompts import clean_summary, parse_facts
from mindkeeper.core.services.deriver import Outcome
from mindkeeper.core.services.memory import dreams, events, facts, prompts, summaries

log = logging.getLogger("mindkeeper.deriver")

_CARD_MAX_TOKENS = 800


@dataclass(slots=True)
class _Step:
    """A summary to write up to `message`, over `window`."""

    kind: str
    message: Message
    window: list[Message]
    count: int


@dataclass(slots=True)
class _Unit:
    jobs: list[Job]
    session: Session
    sender: Peer
    messages: list[Message]
    history: list[Message]
    names: dict[str, str]
    observers: list[str]
    cards: dict[str, list[str] | None] = field(default_factory=dict)
    steps: list[_Step] = field(default_factory=list)
    previous: dict[str, str | None] = field(default_factory=dict)


def _payload(job: Job) -> dict[str, Any]:
    return job.payload or {}


def _periods(runtime: Runtime, payload: dict[str, Any]) -> dict[str, int]:
    policy = runtime.deriver_policy
    short, long = payload.get("short_every"), payload.get("long_every")
    return {
        summaries.LONG: long if isinstance(long, int) and long > 0 else policy.long_summary_every,
        summaries.SHORT: short
        if isinstance(short, int) and short > 0
        else policy.short_summary_every,
    }


async def _plan_summaries(
    runtime: Runtime, uow: UnitOfWork, unit: _Unit, payload: dict[str, Any]
) -> None:
    if not payload.get("summary") or runtime.models.summary is None:
        return
    periods = _periods(runtime, payload)
    anchors: dict[str, int] = {}
    for kind in (summaries.LONG, summaries.SHORT):
        latest = await summaries.latest(uow, unit.session.id, kind, runtime.tokens.count)
        anchors[kind] = latest.message_key if latest is not None else 0
        unit.previous[kind] = latest.content if latest is not None else None
    for message in unit.messages:
        for kind in (summaries.LONG, summaries.SHORT):  # a long one first, the short continues it
            every = periods[kind]
            if message.seq % every or message.key <= anchors[kind]:
                continue
            count = await uow.jobs.count_messages(unit.session.id, anchors[kind], message.key)
            window = await uow.jobs.messages_window(
                unit.session.id, anchors[kind], message.key, min(count, 2 * every)
            )
            unit.steps.append(_Step(kind, message, window, count))
            anchors[kind] = message.key


async def _read(runtime: Runtime, jobs: Sequence[Job]) -> _Unit | None:
    head = jobs[0]
    payload = _payload(head)
    async with runtime.uow(write=False) as uow:
        session = await uow.jobs.session(head.workspace_id, head.session_id)
        sender = await uow.peers.get(head.workspace_id, head.peer_id)
        if session is None or sender is None:
            return None
        found = [await uow.messages.get_in_session(session.id, j.message_id) for j in jobs]
        messages = [m for m in found if m is not None]
        if not messages:
            return None
        history = await uow.jobs.messages_window(
            session.id, 0, messages[0].key - 1, runtime.deriver_policy.context_messages
        )
        observers = [o for o in payload.get("observers") or [] if isinstance(o, str)]
        ids = {m.sender_id for m in history} | {sender.id, *observers}
        peers = await uow.peers.get_many(head.workspace_id, list(ids))
        names = {p.id: p.name for p in peers}
        unit = _Unit(list(jobs), session, sender, messages, history, names, observers)
        if payload.get("peer_card") and runtime.models.deriver is not None:
            for observer in observers:
                unit.cards[observer] = await uow.peer_cards.get(
                    head.workspace_id, observer, sender.id
                )
        await _plan_summaries(runtime, uow, unit, payload)
        return unit


def _lines(unit: _Unit, messages: Sequence[Message]) -> list[tuple[str, str]]:
    return [(unit.names.get(m.sender_id, m.sender_id), m.content) for m in messages]


async def _extract(runtime: Runtime, unit: _Unit) -> tuple[list[str], np.ndarray | None]:
    model, embedder = runtime.models.deriver, runtime.embedder
    new = [m.content for m in unit.messages if m.content.strip()]
    if model is None or embedder is None or not unit.observers or not new:
        return [], None
    policy = runtime.deriver_policy
    instructions = _payload(unit.jobs[0]).get("instructions")
    prompt = prompts.facts_prompt(
        unit.sender.name,
        _lines(unit, unit.history),
        new,
        instructions if isinstance(instructions, str) else None,
        policy.fact_max_tokens,
    )
    found = parse_facts((await model.complete(prompt)).text)
    if not found:
        return [], None
    return found, await embedder.embed(found)


async def _cards(runtime: Runtime, unit: _Unit, found: Sequence[str]) -> dict[str, list[str]]:
    """The updated card of each observer (one model call per distinct current card)."""
    model = runtime.models.deriver
    if model is None or not found or not unit.cards:
        return {}
    by_card: dict[tuple[str, ...], list[str]] = {}
    updated: dict[str, list[str]] = {}
    for observer, card in unit.cards.items():
        key = tuple(card or ())
        if key not in by_card:
            prompt = prompts.card_prompt(unit.sender.name, card, found, _CARD_MAX_TOKENS)
            answer = prompts.json_object((await model.complete(prompt)).text, "the peer card")
            by_card[key] = prompts.strings(answer.get("card"), prompts.CARD_MAX)
        updated[observer] = by_card[key]
    return updated


async def _summarise(runtime: Runtime, unit: _Unit) -> list[tuple[_Step, str]]:
    model = runtime.models.summary
    if model is None or not unit.steps:
        return []
    policy = runtime.deriver_policy
    previous = dict(unit.previous)
    written: list[tuple[_Step, str]] = []
    long_at: dict[int, str] = {}
    for step in unit.steps:
        is_long = step.kind == summaries.LONG
        before = previous[step.kind] if is_long else long_at.get(step.message.key)
        if before is None:
            before = previous[step.kind]
        limit = policy.long_summary_max_tokens if is_long else policy.short_summary_max_tokens
        prompt = prompts.summary_prompt(_lines(unit, step.window), before, is_long, limit)
        text = clean_summary((await model.complete(prompt)).text)
        previous[step.kind] = text
        if is_long:
            long_at[step.message.key] = text
        written.append((step, text))
    return written


async def _dreams(
    runtime: Runtime, uow: UnitOfWork, unit: _Unit, learnt: bool, now: datetime
) -> None:
    """The sender is active: its pending dreams wait longer; pairs that learnt enough may
    dream (when the session's and workspace's `dream.enabled` allow)."""
    policy = runtime.deriver_policy
    workspace_id = unit.session.workspace_id
    await uow.jobs.postpone_dreams(workspace_id, unit.sender.id, now, now + policy.dream_idle)
    if not learnt or _payload(unit.jobs[0]).get("dream") is False:
        return
    observed = (unit.sender.id, unit.sender.name)
    for observer in unit.observers:
        name = unit.names.get(observer)
        if name is not None:
            await dreams.schedule_when_due(
                runtime, uow, workspace_id, (observer, name), observed, now
            )


async def process(runtime: Runtime, jobs: Sequence[Job]) -> Outcome:
    """Run one claimed work unit (`jobs[0]` claimed, the others attached) to completion;
    raises on failure (the caller retries)."""
    head = jobs[0]
    assert head.lease_token is not None
    outcome = Outcome()
    unit = await _read(runtime, jobs)
    found: list[str] = []
    vectors: np.ndarray | None = None
    cards: dict[str, list[str]] = {}
    written: list[tuple[_Step, str]] = []
    if unit is None:
        outcome.skipped = "the messages, their sender or their session no longer exist"
    else:
        found, vectors = await _extract(runtime, unit)
        cards = await _cards(runtime, unit, found)
        written = await _summarise(runtime, unit)
    outcome.facts_extracted = len(found)
    now = runtime.now()
    async with runtime.uow() as uow:
        if not await uow.jobs.complete(head.key, head.lease_token, now):
            outcome.lost_lease = True
            return outcome
        if unit is not None:
            for observer in sorted(unit.observers):
                await uow.jobs.lock_peer(observer)
            if vectors is not None and runtime.embedder is not None:
                outcome.facts_stored = await facts.store(
                    uow,
                    head.workspace_id,
                    unit.observers,
                    unit.sender.id,
                    unit.session.id,
                    found,
                    vectors,
                    runtime.embedder.model_id,
                    runtime.deriver_policy.dedup_distance,
                    {"message_ids": [m.id for m in unit.messages]},
                    now,
                )
            if runtime.deriver_policy.dream_enabled:
                await _dreams(runtime, uow, unit, outcome.facts_stored > 0, now)
            for observer, card in cards.items():
                await uow.peer_cards.put(head.workspace_id, observer, unit.sender.id, card, now)
            for step, text in written:
                await summaries.save(
                    uow,
                    unit.session,
                    step.kind,
                    text,
                    step.message,
                    runtime.tokens.count(text),
                    now,
                    {"message_count": step.count},
                )
                outcome.summaries.append(step.kind)
            if await uow.jobs.unit_drained(unit.session.id, unit.sender.id):
                kinds: tuple[str, ...] = ("representation",) if unit.observers else ()
                kinds += ("summary",) if written else ()
                await events.work_unit_finished(
                    uow,
                    events.WorkUnit(
                        head.workspace_id,
                        unit.session.id,
                        unit.sender.id,
                        tuple(unit.observers),
                        kinds,
                    ),
                    now,
                )
        await uow.commit()
    return outcome
