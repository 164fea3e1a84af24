"""The dialectic chat: answer an application's questions about a peer from what was learnt.

`prepare` does everything that can fail for a reason the caller should see as a normal error
before any answer is sent, resources first: it checks that the peer exists and that the
session is the peer's (NotFound), then that a dialectic model is configured
(ModelNotConfigured); it gathers the facts nearest to the queries in the reserved collection
(created on first use, as Honcho v1 does), the latest summaries and recent messages of the
session, and saves the representation note (`honcho_user_representation`) on the session's
newest peer message. `answer` and `stream` then call the model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from mindkeeper.core.entities import Document, Message
from mindkeeper.core.ports import Runtime, StoredVector
from mindkeeper.core.ports.models import ChatModel, Prompt
from mindkeeper.core.prompts import dialectic_prompt, representation
from mindkeeper.core.services import collections, peers, sessions
from mindkeeper.core.services.deriver import LONG_SUMMARY_LABEL, SHORT_SUMMARY_LABEL

REPRESENTATION_LABEL = "honcho_user_representation"
_LAST = 2**62
_NOTE_MAX = 65_535


@dataclass(frozen=True, slots=True)
class DialecticCall:
    """A prepared question: the model and the prompt with its context."""

    model: ChatModel
    prompt: Prompt
    facts: tuple[str, ...]


def _merge(results: Sequence[Sequence[Document]], limit: int) -> list[str]:
    """Interleave per-query results (best first), without repeats, up to `limit`."""
    facts: list[str] = []
    seen: set[str] = set()
    for rank in range(max((len(r) for r in results), default=0)):
        for docs in results:
            if rank < len(docs) and docs[rank].id not in seen:
                seen.add(docs[rank].id)
                facts.append(docs[rank].content)
    return facts[:limit]


async def prepare(
    runtime: Runtime, workspace_id: str, peer_id: str, session_id: str, queries: Sequence[str]
) -> DialecticCall:
    """Check the peer, the session and the model, gather context, save the representation note."""
    async with runtime.uow(write=False) as uow:
        await peers.require(uow, workspace_id, peer_id)
        await sessions.require(uow, workspace_id, peer_id, session_id)
    model = runtime.models.require("dialectic")
    policy = runtime.dialectic_policy
    queries = [q for q in queries if q.strip()] or list(queries)
    embedder = runtime.embedder
    vectors = await embedder.embed(queries) if embedder is not None and queries else None
    recent: list[Message] = []
    short = long = None
    async with runtime.uow() as uow:
        collection = await collections.get_or_create_reserved(
            uow, workspace_id, peer_id, runtime.now
        )
        results: list[list[Document]] = []
        if vectors is not None and embedder is not None:
            for vector in vectors:
                results.append(
                    await uow.documents.nearest(
                        workspace_id,
                        peer_id,
                        collection.id,
                        StoredVector(vector, embedder.model_id),
                        None,
                        policy.max_facts,
                        policy.fact_max_distance,
                    )
                )
        facts = _merge(results, policy.max_facts)
        session = await uow.sessions.get(workspace_id, peer_id, session_id)
        newest_user: Message | None = None
        if session is not None:
            short = await uow.jobs.latest_note(session_id, SHORT_SUMMARY_LABEL)
            long = await uow.jobs.latest_note(session_id, LONG_SUMMARY_LABEL)
            anchor = short[1] if short is not None else 0
            recent = await uow.jobs.messages_window(
                session_id, anchor, _LAST, policy.context_messages
            )
            newest_user = await uow.jobs.newest_user_message(session_id)
        short_text = short[0].content if short is not None else None
        if newest_user is not None:
            await uow.notes.create(
                workspace_id,
                peer_id,
                REPRESENTATION_LABEL,
                representation(facts, short_text)[:_NOTE_MAX],
                session_id,
                newest_user.id,
                {},
                runtime.now(),
            )
        await uow.commit()
    prompt = dialectic_prompt(
        "\n".join(queries),
        facts,
        short_text,
        long[0].content if long is not None else None,
        recent,
        policy.max_tokens,
    )
    return DialecticCall(model, prompt, tuple(facts))


async def answer(call: DialecticCall) -> str:
    """Return the model's whole answer."""
    return (await call.model.complete(call.prompt)).text


def stream(call: DialecticCall) -> AsyncIterator[str]:
    """Yield the model's answer as it is written."""
    return call.model.stream(call.prompt)
