"""Session summaries: the storage contract shared by the writer (the deriver) and the readers
(session context, the summaries route).

A summary is a note on the session labelled `honcho_chat_summary_short` or
`honcho_chat_summary_long`, anchored at the last message it covers, with metadata
`{"token_count": n, "summary_type": "SHORT"|"LONG", ...}`. The newest note of a label is the
session's summary of that kind. Notes written before this contract (the v1 deriver's) lack
`token_count`; it is counted when read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from mindkeeper.core.entities import JSONObject, Message, Note, Session
from mindkeeper.core.ports import UnitOfWork

SHORT = "honcho_chat_summary_short"
LONG = "honcho_chat_summary_long"
KINDS = (SHORT, LONG)


@dataclass(frozen=True, slots=True)
class Summary:
    """One summary of a session."""

    #: `SHORT` or `LONG`.
    kind: str
    content: str
    #: Public id of the last message covered.
    message_id: str
    #: Internal key of that message (context starts after it).
    message_key: int
    created_at: datetime
    token_count: int


async def save(
    uow: UnitOfWork,
    session: Session,
    kind: str,
    content: str,
    last_message: Message,
    token_count: int,
    now: datetime,
    metadata: JSONObject | None = None,
) -> Note:
    """Inside the writer's transaction: store a summary of `session` up to `last_message`."""
    if kind not in KINDS:
        raise ValueError(f"unknown summary kind {kind!r}")
    owner = session.peer_id or last_message.sender_id
    extra = {
        **(metadata or {}),
        "token_count": token_count,
        "summary_type": "SHORT" if kind == SHORT else "LONG",
    }
    return await uow.notes.create(
        session.workspace_id,
        owner,
        kind,
        content,
        session.id,
        last_message.id,
        extra,
        now,
    )


async def latest(
    uow: UnitOfWork, session_id: str, kind: str, count_tokens: Callable[[str], int]
) -> Summary | None:
    """Inside an open unit of work: the session's newest summary of that kind."""
    found = await uow.jobs.latest_note(session_id, kind)
    if found is None:
        return None
    note, key = found
    if note.message_id is None:
        return None
    tokens = note.metadata.get("token_count")
    if not isinstance(tokens, int) or isinstance(tokens, bool):
        tokens = count_tokens(note.content)
    return Summary(kind, note.content, note.message_id, key, note.created_at, tokens)


async def for_session(
    uow: UnitOfWork, workspace: str, session: str, count_tokens: Callable[[str], int]
) -> tuple[Summary | None, Summary | None]:
    """The named session's newest (short, long) summaries; both None for an unknown session."""
    if "\x00" in workspace or "\x00" in session:  # no stored name holds one
        return None, None
    async with uow:
        ws = await uow.workspaces.get_by_name(workspace)
        found = None if ws is None else await uow.sessions.get_by_name(ws.id, session)
        if found is None:
            return None, None
        return (
            await latest(uow, found.id, SHORT, count_tokens),
            await latest(uow, found.id, LONG, count_tokens),
        )
