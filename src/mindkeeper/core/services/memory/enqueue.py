"""Queueing the deriver's work for messages written on the named (v3) surface.

Runs inside the transaction that writes the messages, so a message is never stored without
its work. For each message the configuration is resolved (message -> session -> workspace
-> defaults, `configuration.resolve`) and the observers of its sender are computed now, from
the memberships as they are at this moment (`configuration.observers`). One derivation job is
queued per message that calls for anything: facts (reasoning on and somebody observes the
sender) or summaries (enabled). The job's payload says what to do:

    {"observers": [peer ids], "instructions": str | None, "peer_card": bool,
     "summary": bool, "short_every": int | None, "long_every": int | None, "dream": bool}

`short_every` / `long_every` are the session's or workspace's summary periods (None: the
server's, read by the worker). Messages of the v1 surface are queued by `queue.enqueue_derivations`
instead (no payload: the session's owner observes itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mindkeeper.core.entities import JSONObject, Message, Session
from mindkeeper.core.ports import UnitOfWork
from mindkeeper.core.ports.work_units import NewWork
from mindkeeper.core.services.memory import configuration

#: Defaults for everything but the summary periods, which the worker fills in.
_DEFAULTS = configuration.Defaults(short_every=0, long_every=0)


def _period(config: JSONObject | None, key: str) -> int | None:
    section = (config or {}).get("summary")
    value = section.get(key) if isinstance(section, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def enqueue_for_messages(
    uow: UnitOfWork,
    session: Session,
    messages: Sequence[Message],
    configurations: Sequence[JSONObject | None],
    now: datetime,
) -> int:
    """Inside the messages' transaction: queue their derivation jobs; return how many."""
    if not messages:
        return 0
    workspace = await uow.workspaces.get(session.workspace_id)
    workspace_config = workspace.configuration if workspace is not None else {}
    members = await uow.members.list(session.id, active_only=False)
    senders = {
        p.id: p
        for p in await uow.peers.get_many(
            session.workspace_id, list({m.sender_id for m in messages})
        )
    }
    short = _period(session.configuration, "messages_per_short_summary") or _period(
        workspace_config, "messages_per_short_summary"
    )
    long = _period(session.configuration, "messages_per_long_summary") or _period(
        workspace_config, "messages_per_long_summary"
    )
    session_settings = configuration.resolve(_DEFAULTS, workspace_config, session.configuration)
    items: list[NewWork] = []
    watchers: dict[str, list[str]] = {}
    # One payload per distinct (sender, settings): most messages of a batch share both.
    payloads: dict[tuple[str, configuration.Resolved], dict[str, Any] | None] = {}
    for message, message_config in zip(messages, configurations, strict=True):
        sender = senders.get(message.sender_id)
        if sender is None:
            continue
        settings = configuration.with_message(session_settings, message_config)
        key = (sender.id, settings)
        if key not in payloads:
            observers: list[str] = []
            if settings.reasoning:
                if sender.id not in watchers:
                    watchers[sender.id] = configuration.observers(sender, members)
                observers = watchers[sender.id]
            payloads[key] = (
                None
                if not observers and not settings.summary
                else {
                    "observers": observers,
                    "instructions": settings.custom_instructions,
                    "peer_card": settings.peer_card_create,
                    "summary": settings.summary,
                    "short_every": short,
                    "long_every": long,
                    "dream": settings.dream,
                }
            )
        payload = payloads[key]
        if payload is not None:
            items.append(NewWork(message.id, sender.id, payload))
    return await uow.jobs.enqueue_work(session.workspace_id, session.id, items, now)
