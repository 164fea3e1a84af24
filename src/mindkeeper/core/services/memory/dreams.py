"""Dreams: consolidating what an observer knows about a peer, in the background.

`schedule` queues a dream job (`POST .../schedule_dream`) unless an identical one is still
unfinished. `schedule_when_due` queues one by itself, as upstream: once a pair gained
`dream_threshold` conclusions since its last dream (at most once per `dream_min_interval`),
due when the observed peer has been idle for `dream_idle` (the deriver pushes pending ones
back while the peer keeps writing). A job names its peers and session by name (they need
not exist when it is scheduled, as upstream); when it runs, a missing peer ends it with
nothing done.

* `omni`: the model reads the pair's latest conclusions (and the peer card) and answers with
  deductive, inductive and contradiction conclusions, each naming the conclusions it rests
  on (stored as `source_ids`), and an updated card. They are embedded and stored in the
  pair's collection, de-duplicated like facts (`facts.store`).
* `card_refresh`: the model writes the card again from the pair's conclusions, starting from
  the current card unless `rebuild` is set.

Dreams use the deriver's model; a worker without one leaves dream jobs waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mindkeeper.core.ports import Runtime, UnitOfWork
from mindkeeper.core.ports.derived import Conclusion, Order, Pair
from mindkeeper.core.ports.jobs import Job
from mindkeeper.core.services.deriver import Outcome
from mindkeeper.core.services.memory import facts, prompts
from mindkeeper.errors import Conflict

OMNI = "omni"
CARD_REFRESH = "card_refresh"
DREAM_TYPES = (OMNI, CARD_REFRESH)
_MAX_TOKENS = 2000


class DreamsDisabled(Conflict):
    """Dreams are turned off in the server's configuration."""

    def __init__(self) -> None:
        super().__init__("Dreams are not enabled in the system configuration")


def _payload(
    names: tuple[str, str],
    ids: tuple[str | None, str | None],
    dream_type: str,
    session: str | None,
    rebuild: bool,
) -> dict[str, Any]:
    return {
        "observer": names[0],
        "observed": names[1],
        "observer_id": ids[0],
        "observed_id": ids[1],
        "dream_type": dream_type,
        "session": session,
        "rebuild": bool(rebuild) if dream_type == CARD_REFRESH else False,
    }


async def schedule_when_due(
    runtime: Runtime,
    uow: UnitOfWork,
    workspace_id: str,
    observer: tuple[str, str],
    observed: tuple[str, str],
    now: datetime,
) -> bool:
    """Inside the deriver's write transaction: queue an `omni` dream of the pair (observer
    and observed as (id, name)) when it gained `dream_threshold` conclusions since its last
    dream, at most once per `dream_min_interval`, due once the observed peer has been idle
    for `dream_idle`; True when one was queued."""
    policy = runtime.deriver_policy
    if not policy.dream_enabled or policy.dream_threshold <= 0:
        return False
    last = await uow.jobs.last_dream(workspace_id, observer[0], observed[0])
    if last is not None and now - last < policy.dream_min_interval:
        return False
    count = await uow.jobs.count_conclusions(workspace_id, observer[0], observed[0], last)
    if count < policy.dream_threshold:
        return False
    names, ids = (observer[1], observed[1]), (observer[0], observed[0])
    payload = _payload(names, ids, OMNI, None, False)
    if await uow.jobs.dream_pending(workspace_id, payload):
        return False
    await uow.jobs.enqueue_dream(workspace_id, payload, now, now + policy.dream_idle)
    return True


async def schedule(
    runtime: Runtime,
    workspace: str,
    observer: str,
    observed: str | None,
    dream_type: str,
    session: str | None,
    rebuild: bool,
) -> bool:
    """Queue a dream of `observer` about `observed` (default: itself); False when an
    identical one is already unfinished or the workspace does not exist."""
    if not runtime.deriver_policy.dream_enabled:
        raise DreamsDisabled()
    async with runtime.uow() as uow:
        ws = await uow.workspaces.get_by_name(workspace)
        if ws is None:
            return False
        target = observed or observer
        found = {p.name: p.id for p in await uow.peers.get_many(ws.id, names=[observer, target])}
        names = (observer, target)
        ids = (found.get(observer), found.get(target))
        payload = _payload(names, ids, dream_type, session, rebuild)
        if await uow.jobs.dream_pending(ws.id, payload):
            return False
        await uow.jobs.enqueue_dream(ws.id, payload, runtime.now())
        await uow.commit()
    return True


@dataclass(slots=True)
class _Context:
    pair: Pair
    name: str
    conclusions: list[Conclusion]
    card: list[str] | None


async def _read(runtime: Runtime, job: Job) -> _Context | None:
    payload = job.payload or {}
    async with runtime.uow(write=False) as uow:
        names = [str(payload.get("observer")), str(payload.get("observed"))]
        found = {p.name: p for p in await uow.peers.get_many(job.workspace_id, names=names)}
        observer, observed = found.get(names[0]), found.get(names[1])
        if observer is None or observed is None:
            return None
        sessions: tuple[str, ...] | None = None
        if isinstance(payload.get("session"), str):
            session = await uow.sessions.get_by_name(job.workspace_id, payload["session"])
            sessions = (session.id,) if session is not None else ()
        pair = Pair(job.workspace_id, observer.id, observed.id, sessions)
        latest = await uow.conclusions.ranked(
            pair, Order.RECENT, runtime.deriver_policy.dream_max_conclusions
        )
        card = await uow.peer_cards.get(job.workspace_id, observer.id, observed.id)
    return _Context(pair, observed.name, list(reversed(latest)), card)


@dataclass(slots=True)
class _New:
    level: str
    content: str
    sources: list[str]
    metadata: dict[str, Any]


def _parse_omni(answer: dict[str, Any], given: list[Conclusion]) -> list[_New]:
    out: list[_New] = []
    for level, key, refs in (
        ("deductive", "deductive", "premises"),
        ("inductive", "inductive", "sources"),
        ("contradiction", "contradictions", "sources"),
    ):
        items = answer.get(key)
        for item in items if isinstance(items, list) else []:
            texts = prompts.strings([item], 1)
            if not texts:
                continue
            refs_of = item.get(refs) if isinstance(item, dict) else None
            sources = [given[i].id for i in prompts.numbers(refs_of, len(given))]
            metadata: dict[str, Any] = {}
            confidence = item.get("confidence") if isinstance(item, dict) else None
            if level == "inductive" and isinstance(confidence, str):
                metadata["confidence"] = confidence[:20]
            out.append(_New(level, texts[0], sources, metadata))
    return out[: prompts.MAX_ITEMS]


async def process(runtime: Runtime, job: Job) -> Outcome:
    """Run one claimed dream job (raises on failure: the caller retries)."""
    assert job.lease_token is not None
    outcome = Outcome()
    payload = job.payload or {}
    context = await _read(runtime, job)
    card: list[str] | None = None
    new: list[_New] = []
    if context is None:
        outcome.skipped = "the observer or the observed peer does not exist"
    elif context.conclusions:
        model = runtime.models.require("deriver")
        contents = [c.content for c in context.conclusions]
        if payload.get("dream_type") == CARD_REFRESH:
            start = None if payload.get("rebuild") else context.card
            prompt = prompts.card_prompt(context.name, start, contents, _MAX_TOKENS)
            answer = prompts.json_object((await model.complete(prompt)).text, "the peer card")
            card = prompts.strings(answer.get("card"), prompts.CARD_MAX)
        else:
            levels = [(c.level, c.content) for c in context.conclusions]
            prompt = prompts.dream_prompt(context.name, levels, context.card, _MAX_TOKENS)
            answer = prompts.json_object((await model.complete(prompt)).text, "the dream")
            new = _parse_omni(answer, context.conclusions)
            if "card" in answer:
                card = prompts.strings(answer.get("card"), prompts.CARD_MAX)
    vectors = None
    if new and runtime.embedder is not None:
        vectors = await runtime.embedder.embed([n.content for n in new])
    outcome.facts_extracted = len(new)
    now = runtime.now()
    async with runtime.uow() as uow:
        if not await uow.jobs.complete(job.key, job.lease_token, now):
            outcome.lost_lease = True
            return outcome
        if context is not None:
            pair = context.pair
            await uow.jobs.lock_peer(pair.observer_id)
            if vectors is not None and runtime.embedder is not None:
                for item, vector in zip(new, vectors, strict=True):
                    outcome.facts_stored += await facts.store(
                        uow,
                        pair.workspace_id,
                        [pair.observer_id],
                        pair.observed_id,
                        None,
                        [item.content],
                        vector.reshape(1, -1),
                        runtime.embedder.model_id,
                        runtime.deriver_policy.dedup_distance,
                        item.metadata,
                        now,
                        level=item.level,
                        source_ids=item.sources,
                    )
            if card is not None:
                await uow.peer_cards.put(
                    pair.workspace_id, pair.observer_id, pair.observed_id, card, now
                )
        await uow.commit()
    return outcome
