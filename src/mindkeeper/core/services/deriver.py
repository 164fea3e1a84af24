"""The deriver: learn facts about a peer from one message and keep rolling summaries.

One job, three phases, so that no database lock is held while a model runs and nothing is
written twice:

1. read (no lock): the message, the conversation before it, the latest summaries and how many
   messages came since each summary's anchor;
2. models: extract facts from a peer-authored message (deriver model), embed them, write a
   long summary when `long_summary_every` messages followed the last long one and a short one
   when `short_summary_every` followed the last short one (summary model);
3. write (one transaction): mark the job done under its lease token first (when the lease was
   lost, nothing is written), then store the facts not already known (cosine distance below
   `dedup_distance` to a stored fact drops them) as explicit conclusions of the peer about
   itself (its reserved collection; `memory.facts`), with metadata `{"message_id": ...}`,
   and the summaries as notes anchored at the message.

This module runs the jobs of messages written on the v1 surface (one message per job, the
session's owner observing itself); `memory.derivation` runs the work units of the named
surface.

Counts run from the last summary's anchor up to *this* message, not to the newest message in
the database, so a backlog does not produce a cascade of summaries (Honcho v1 §15.14): there is
one short summary per `short_summary_every` messages, whatever the backlog.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from mindkeeper.core.entities import Message, Note
from mindkeeper.core.ports import Runtime, UnitOfWork
from mindkeeper.core.ports.jobs import Job
from mindkeeper.core.prompts import clean_summary, facts_prompt, parse_facts, summary_prompt
from mindkeeper.core.services.memory import facts

log = logging.getLogger("mindkeeper.deriver")

SHORT_SUMMARY_LABEL = "honcho_chat_summary_short"
LONG_SUMMARY_LABEL = "honcho_chat_summary_long"
_NOTE_MAX = 65_535


@dataclass(slots=True)
class _SummaryPlan:
    """A summary to write: the messages it covers and the summary it continues."""

    messages: list[Message]
    count: int
    previous: str | None


@dataclass(slots=True)
class _Context:
    message: Message
    history: list[Message]
    short: _SummaryPlan | None = None
    long: _SummaryPlan | None = None


@dataclass(slots=True)
class Outcome:
    """What one job produced (for logs and tests)."""

    facts_extracted: int = 0
    facts_stored: int = 0
    summaries: list[str] = field(default_factory=list)
    lost_lease: bool = False
    skipped: str | None = None


async def _summary_plan(
    uow: UnitOfWork, session_id: str, message: Message, label: str, every: int, cap: int
) -> tuple[_SummaryPlan | None, Note | None]:
    latest = await uow.jobs.latest_note(session_id, label)
    note, anchor = latest if latest is not None else (None, 0)
    count = await uow.jobs.count_messages(session_id, anchor, message.key)
    if count < every:
        return None, note
    window = await uow.jobs.messages_window(session_id, anchor, message.key, min(count, cap))
    return _SummaryPlan(window, count, note.content if note else None), note


async def _read(runtime: Runtime, job: Job) -> _Context | None:
    policy = runtime.deriver_policy
    summaries = runtime.models.summary is not None
    async with runtime.uow(write=False) as uow:
        message = await uow.messages.get(
            job.workspace_id, job.peer_id, job.session_id, job.message_id
        )
        if message is None:
            return None
        history = await uow.jobs.messages_window(
            job.session_id, 0, message.key, policy.context_messages + 1
        )
        context = _Context(message, history)
        if not summaries:
            return context
        context.short, _ = await _summary_plan(
            uow,
            job.session_id,
            message,
            SHORT_SUMMARY_LABEL,
            policy.short_summary_every,
            2 * policy.short_summary_every,
        )
        if context.short is not None:
            context.long, long_note = await _summary_plan(
                uow,
                job.session_id,
                message,
                LONG_SUMMARY_LABEL,
                policy.long_summary_every,
                2 * policy.long_summary_every,
            )
            # A short summary continues the latest long one (not the previous short one).
            context.short.previous = long_note.content if long_note else None
    return context


async def _extract(runtime: Runtime, context: _Context) -> tuple[list[str], np.ndarray | None]:
    model = runtime.models.deriver
    message = context.message
    if model is None or not message.is_user or not message.content.strip():
        return [], None
    policy = runtime.deriver_policy
    answer = await model.complete(facts_prompt(context.history, message, policy.fact_max_tokens))
    facts = parse_facts(answer.text)
    if not facts or runtime.embedder is None:
        return facts, None
    return facts, await runtime.embedder.embed(facts)


async def _summarise(runtime: Runtime, context: _Context) -> tuple[str | None, str | None]:
    model = runtime.models.summary
    if model is None or context.short is None:
        return None, None
    policy = runtime.deriver_policy
    long_text = None
    if context.long is not None:
        plan = context.long
        prompt = summary_prompt(plan.messages, plan.previous, True, policy.long_summary_max_tokens)
        long_text = clean_summary((await model.complete(prompt)).text)
    plan = context.short
    previous = long_text or plan.previous
    prompt = summary_prompt(plan.messages, previous, False, policy.short_summary_max_tokens)
    short_text = clean_summary((await model.complete(prompt)).text)
    return short_text, long_text


async def process(runtime: Runtime, job: Job) -> Outcome:
    """Run one claimed derivation job to completion (raises on failure: the caller retries)."""
    assert job.lease_token is not None
    outcome = Outcome()
    context = await _read(runtime, job)
    facts: list[str] = []
    vectors: np.ndarray | None = None
    short_text = long_text = None
    if context is None:
        outcome.skipped = "the message no longer exists"
    else:
        facts, vectors = await _extract(runtime, context)
        short_text, long_text = await _summarise(runtime, context)
    outcome.facts_extracted = len(facts)
    now = runtime.now()
    async with runtime.uow() as uow:
        # The lease check comes first: if another worker took the job over, this transaction
        # writes nothing and is rolled back.
        if not await uow.jobs.complete(job.key, job.lease_token, now):
            outcome.lost_lease = True
            return outcome
        await uow.jobs.lock_peer(job.peer_id)
        if context is not None:
            outcome.facts_stored = await _store_facts(runtime, uow, job, context, facts, vectors)
            for label, text, plan, kind in (
                (LONG_SUMMARY_LABEL, long_text, context.long, "LONG"),
                (SHORT_SUMMARY_LABEL, short_text, context.short, "SHORT"),
            ):
                if text is None or plan is None:
                    continue
                await uow.notes.create(
                    job.workspace_id,
                    job.peer_id,
                    label,
                    text[:_NOTE_MAX],
                    job.session_id,
                    job.message_id,
                    {"message_count": plan.count, "summary_type": kind},
                    now,
                )
                outcome.summaries.append(label)
        await uow.commit()
    return outcome


async def _store_facts(
    runtime: Runtime,
    uow: UnitOfWork,
    job: Job,
    context: _Context,
    found: list[str],
    vectors: np.ndarray | None,
) -> int:
    if not found or vectors is None or runtime.embedder is None:
        return 0
    return await facts.store(
        uow,
        job.workspace_id,
        [job.peer_id],
        job.peer_id,
        job.session_id,
        found,
        vectors,
        runtime.embedder.model_id,
        runtime.deriver_policy.dedup_distance,
        {"message_id": context.message.id},
        runtime.now(),
    )
