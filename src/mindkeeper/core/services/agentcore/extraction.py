"""Extraction: the queue jobs that turn events (or ingested content) into long-term records.

One job per (event, strategy), in the session's line of jobs, run by the deriver worker with
the configured chat model (deriver role for facts and preferences, summary role for summaries
and episodes; each falls back to the other). Without a model the worker does not claim them:
they wait, visible in the queue status and in ListMemoryExtractionJobs.

A job runs in three phases, so that no database lock is held while a model runs:

1. read: the memory, the strategy, the event's items (opened), a few earlier events of the
   actor's session for context, and the records already in the target namespace;
2. models: semantic -> facts from user and assistant messages; user preference ->
   preferences from user messages; summary -> the session's summary rewritten with the new
   messages; episodic -> the episode's record rewritten (and a reflection when the strategy
   names a reflection namespace). Custom strategies run their base behaviour with the prompt
   text they append. New texts are embedded; a fact or preference identical to one already
   in the namespace (or closer than the deriver's dedup distance) is dropped;
3. write, in one transaction: the job is renewed under its lease first (nothing is written
   when the lease was lost), then records are added or rewritten and the job completed.

A model failure or an unparsable answer fails the attempt; the queue retries with backoff and
dead-letters after `deriver_max_attempts` (ListMemoryExtractionJobs reports those as FAILED;
StartMemoryExtractionJob gives them fresh attempts).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import orjson

from mindkeeper.core.ports import Runtime
from mindkeeper.core.ports.agentcore import (
    EventQuery,
    ExtractionJob,
    Memory,
    NewRecord,
    Record,
    Strategy,
)
from mindkeeper.core.ports.jobs import Job
from mindkeeper.core.ports.models import ChatMessage, ChatModel, ModelNotConfigured, Prompt
from mindkeeper.core.prompts import clean_summary, parse_facts
from mindkeeper.core.services.agentcore import namespaces
from mindkeeper.core.services.agentcore.common import (
    active_memory,
    open_event,
    open_text,
    seal_text,
)
from mindkeeper.core.values import new_id
from mindkeeper.errors import NotFound

#: Earlier events of the session given to the model as context.
CONTEXT_EVENTS = 6
#: The longest record text (the model's limit).
RECORD_MAX = 16_000

SEMANTIC_SYSTEM = """\
You keep the long-term memory of an AI agent. From the latest messages of a conversation,
extract standalone facts worth remembering: about the user, the world the user describes, and
decisions or information the assistant gave that the user accepted. Use the earlier
conversation only to resolve references.

Rules:
- One fact per item, a short standalone sentence that makes sense without the conversation.
- Only what the messages state or clearly imply; no guesses.
- If there is nothing worth keeping, return an empty list.

Answer with one JSON object and nothing else: {"facts": ["...", ...]}"""

PREFERENCE_SYSTEM = """\
You keep the long-term memory of an AI agent. From the latest user messages of a
conversation, extract the user's preferences, habits and stated likes or dislikes.

Rules:
- One preference per item, a short standalone sentence starting with "The user".
- Only what the user states or clearly implies; nothing said only by the assistant.
- If there is none, return an empty list.

Answer with one JSON object and nothing else: {"facts": ["The user ...", ...]}"""

SUMMARY_SYSTEM = """\
You keep a running summary of a conversation between a user and an AI agent, for the agent's
long-term memory. Keep what matters later: who the user is, what they want, decisions, open
questions. Write plain prose, no headings. Answer with the summary only."""

EPISODE_SYSTEM = """\
You record an episode of an AI agent's work for its long-term memory: the situation, what the
agent did, and how it turned out. Write plain prose. Answer with the episode only."""

REFLECTION_SYSTEM = """\
You keep an AI agent's reflections across episodes: lessons that generalise, what worked and
what did not. Update the reflections with the latest episode. Answer with the reflections
only."""


@dataclass(slots=True)
class Outcome:
    """What one job produced (for logs and tests)."""

    stored: int = 0
    replaced: int = 0
    lost_lease: bool = False
    skipped: str | None = None


@dataclass(slots=True)
class _Plan:
    memory: Memory
    strategy: Strategy
    actor: str
    session: str
    namespace: str
    timestamp: datetime
    turns: builtins.list[tuple[str, str]]
    context: builtins.list[tuple[str, str]]
    existing: builtins.list[Record]
    reflection_namespace: str | None = None
    reflections: builtins.list[Record] = field(default_factory=builtins.list)


def turns_of(items: builtins.list[Any]) -> builtins.list[tuple[str, str]]:
    """(role, text) of the items extraction reads: conversational and JSON (never blobs)."""
    out: builtins.list[tuple[str, str]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        turn = item.get("conversational")
        if isinstance(turn, dict):
            text = str((turn.get("content") or {}).get("text") or "")
            out.append((str(turn.get("role") or "OTHER"), text))
        elif isinstance(item.get("json"), dict):
            out.append(("JSON", orjson.dumps(item["json"].get("content")).decode()))
    return out


def _render(turns: builtins.list[tuple[str, str]]) -> str:
    return "\n".join(f"{role.lower()}: {text}" for role, text in turns)


def _system(base: str, strategy: Strategy, step: str) -> str:
    override = getattr(strategy, step)
    if override is None:
        return base
    return f"{base}\n\nAdditional instructions:\n{override.append}"


def facts_prompt(plan: _Plan, preferences: bool) -> Prompt:
    """The prompt extracting facts (or preferences) from the new messages."""
    wanted = ("USER", "JSON") if preferences else ("USER", "ASSISTANT", "JSON")
    latest = [t for t in plan.turns if t[0] in wanted]
    users = "\n".join(text for role, text in plan.turns if role == "USER")
    text = (
        f"<conversation>\n{_render(plan.context) or '(none)'}\n</conversation>\n\n"
        f"<messages>\n{_render(latest)}\n</messages>\n\n"
        f"<latest_user_message>\n{users}\n</latest_user_message>\n\n"
        'Extract what is worth remembering from these messages as {"facts": [...]}.'
    )
    base = PREFERENCE_SYSTEM if preferences else SEMANTIC_SYSTEM
    return Prompt(_system(base, plan.strategy, "extraction"), (ChatMessage("user", text),))


def summary_prompt(plan: _Plan, system: str, previous: str | None) -> Prompt:
    """The prompt rewriting a running summary (or an episode) with the new messages."""
    earlier = f"<earlier_summary>\n{previous}\n</earlier_summary>\n\n" if previous else ""
    text = f"{earlier}<messages>\n{_render(plan.turns)}\n</messages>\n\nWrite the updated text" + (
        ", continuing the earlier summary." if previous else "."
    )
    return Prompt(_system(system, plan.strategy, "consolidation"), (ChatMessage("user", text),))


def _model(runtime: Runtime, summary: bool) -> ChatModel:
    models = runtime.models
    model = (models.summary or models.deriver) if summary else (models.deriver or models.summary)
    if model is None:
        raise ModelNotConfigured("No chat model is configured for memory extraction")
    return model


async def _plan(runtime: Runtime, job: Job) -> _Plan | str:
    payload = job.payload or {}
    async with runtime.uow(write=False) as uow:
        memory = await uow.agentcore.memory_of_workspace(job.workspace_id)
        if memory is None:
            return "the memory is gone"
        strategy = memory.strategy(str(payload.get("strategy")))
        if strategy is None or strategy.behaviour == "none":
            return "the strategy is gone"
        peer = await uow.peers.get(job.workspace_id, job.peer_id)
        actor = "" if peer is None else peer.name
        session = await uow.sessions.name_of(job.workspace_id, job.session_id) or ""
        context: builtins.list[tuple[str, str]] = []
        if "event" in payload:
            stored = await uow.agentcore.get_event(memory.workspace_id, str(payload["event"]))
            if stored is None or stored.payload_blob is None:
                return "the event is gone"
            turns = turns_of(open_event(runtime, memory, stored.id, stored.payload_blob))
            timestamp = stored.timestamp
            earlier = await uow.agentcore.list_events(
                EventQuery(
                    job.session_id,
                    job.peer_id,
                    runtime.now(),
                    CONTEXT_EVENTS,
                    (stored.timestamp, stored.key),
                )
            )
            for row in reversed(earlier):
                if row.payload_blob is not None:
                    context += turns_of(open_event(runtime, memory, row.id, row.payload_blob))
        else:
            turns = turns_of(list(payload.get("items") or []))
            timestamp = datetime.fromisoformat(str(payload["timestamp"]))
        values = dict(payload.get("values") or {})
        namespace = namespaces.resolve(strategy.template, actor, session, strategy.id, values)
        now = runtime.now()
        existing = await uow.agentcore.records_in_namespace(
            memory.workspace_id, memory.observer_id, namespace, strategy.id, now
        )
        plan = _Plan(memory, strategy, actor, session, namespace, timestamp, turns, context, [])
        plan.existing = [
            replace(r, content=open_text(runtime, memory, r.id, r.content)) for r in existing
        ]
        template = strategy.reflection_template or (
            strategy.reflection.template if strategy.reflection is not None else None
        )
        if strategy.behaviour == "episodic" and template:
            plan.reflection_namespace = namespaces.resolve(
                template, actor, session, strategy.id, values
            )
            found = await uow.agentcore.records_in_namespace(
                memory.workspace_id, memory.observer_id, plan.reflection_namespace, strategy.id, now
            )
            plan.reflections = [
                replace(r, content=open_text(runtime, memory, r.id, r.content)) for r in found
            ]
    return plan


@dataclass(slots=True)
class _Write:
    new: builtins.list[tuple[str, str | None]] = field(default_factory=builtins.list)
    rewrite: builtins.list[tuple[Record, str]] = field(default_factory=builtins.list)


async def _run_models(runtime: Runtime, plan: _Plan) -> _Write:
    write = _Write()
    behaviour = plan.strategy.behaviour
    if behaviour in ("semantic", "user_preference"):
        wanted = (
            ("USER", "JSON") if behaviour == "user_preference" else ("USER", "ASSISTANT", "JSON")
        )
        if not any(role in wanted for role, _ in plan.turns):
            return write
        completion = await _model(runtime, False).complete(
            facts_prompt(plan, behaviour == "user_preference")
        )
        known = {" ".join(r.content.lower().split()) for r in plan.existing}
        for fact in parse_facts(completion.text):
            key = " ".join(fact.lower().split())
            if key not in known:
                known.add(key)
                write.new.append((fact[:RECORD_MAX], plan.namespace))
        return write
    system = EPISODE_SYSTEM if behaviour == "episodic" else SUMMARY_SYSTEM
    current = plan.existing[-1] if plan.existing else None
    completion = await _model(runtime, True).complete(
        summary_prompt(plan, system, current.content if current else None)
    )
    text = clean_summary(completion.text)[:RECORD_MAX]
    if current is None:
        write.new.append((text, plan.namespace))
    else:
        write.rewrite.append((current, text))
    if plan.reflection_namespace is not None:
        previous = plan.reflections[-1] if plan.reflections else None
        reflection = await _model(runtime, True).complete(
            summary_prompt(
                replace(plan, turns=[("EPISODE", text)]),
                REFLECTION_SYSTEM,
                previous.content if previous else None,
            )
        )
        reflected = clean_summary(reflection.text)[:RECORD_MAX]
        if previous is None:
            write.new.append((reflected, plan.reflection_namespace))
        else:
            write.rewrite.append((previous, reflected))
    return write


async def _embed(
    runtime: Runtime, texts: builtins.list[str]
) -> tuple[np.ndarray | None, str | None]:
    if runtime.embedder is None or not texts:
        return None, None
    return await runtime.embedder.embed(texts), runtime.embedder.model_id


async def process(runtime: Runtime, job: Job) -> Outcome:
    """Run one extraction job; the outcome says whether its lease was lost."""
    assert job.lease_token is not None
    plan = await _plan(runtime, job)
    write = _Write() if isinstance(plan, str) else await _run_models(runtime, plan)
    texts = [text for text, _ in write.new] + [text for _, text in write.rewrite]
    vectors, model = await _embed(runtime, texts)
    now = runtime.now()
    outcome = Outcome(skipped=plan if isinstance(plan, str) else None)
    async with runtime.uow() as uow:
        lease = now + runtime.deriver_policy.lease
        if not await uow.jobs.renew(job.key, job.lease_token, lease):
            return Outcome(lost_lease=True)
        if not isinstance(plan, str):
            memory, strategy = plan.memory, plan.strategy
            days = strategy.record_expiry_days
            expires = None if days is None else now + timedelta(days=days)
            for index, (text, namespace) in enumerate(write.new):
                record_id = new_id()
                level = (
                    "explicit" if strategy.behaviour in ("semantic", "user_preference") else None
                )
                await uow.agentcore.add_record(
                    NewRecord(
                        id=record_id,
                        workspace_id=memory.workspace_id,
                        observer_id=memory.observer_id,
                        namespace=namespace,
                        content=seal_text(runtime, memory, record_id, text),
                        strategy_id=strategy.id,
                        timestamp=plan.timestamp,
                        expires_at=expires,
                        metadata={},
                        embedding=None if vectors is None else vectors[index],
                        embedding_model=model,
                        now=now,
                        observed_id=job.peer_id,
                        session_id=job.session_id,
                        level=level,
                        source_ids=[str(job.payload["event"])]
                        if job.payload and "event" in job.payload
                        else None,
                        expiry_days=days,
                    )
                )
                outcome.stored += 1
            offset = len(write.new)
            for index, (record, text) in enumerate(write.rewrite):
                target = replace(
                    record,
                    content=seal_text(runtime, memory, record.id, text),
                    timestamp=plan.timestamp,
                    expires_at=expires if expires is not None else record.expires_at,
                )
                embedding = None
                if vectors is not None and model is not None:
                    embedding = (vectors[offset + index], model)
                await uow.agentcore.replace_record(
                    memory.workspace_id, memory.observer_id, target, embedding, now
                )
                outcome.replaced += 1
        await uow.jobs.complete(job.key, job.lease_token, now)
        await uow.commit()
    return outcome


async def list_jobs(
    runtime: Runtime,
    account_id: str,
    memory_id: str,
    failed_only: bool,
    session: str | None,
    actor: str | None,
    strategy_id: str | None,
    after: int | None,
    limit: int,
) -> tuple[builtins.list[ExtractionJob], int | None]:
    """A page of the memory's unfinished and failed extraction jobs, in queue order."""
    async with runtime.uow(write=False) as uow:
        memory = await active_memory(uow, account_id, memory_id)
        workspace = memory.workspace_id
        session_id = (
            None if session is None else await uow.agentcore.find_session(workspace, session)
        )
        peer_id = None if actor is None else await uow.agentcore.find_peer(workspace, actor)
        if (session is not None and session_id is None) or (actor is not None and peer_id is None):
            return [], None
        rows = await uow.agentcore.list_extraction_jobs(
            workspace, failed_only, session_id, peer_id, strategy_id, after, limit + 1
        )
    page = rows[:limit]
    return page, (page[-1].key if len(rows) > limit else None)


async def start_job(runtime: Runtime, account_id: str, memory_id: str, key: int | None) -> None:
    """Run a failed extraction job again (fresh attempts); NotFound for an unknown job."""
    now = runtime.now()
    async with runtime.uow() as uow:
        memory = await active_memory(uow, account_id, memory_id)
        if key is None or not await uow.agentcore.restart_extraction_job(
            memory.workspace_id, key, now
        ):
            raise NotFound("Extraction job not found")
        await uow.commit()
