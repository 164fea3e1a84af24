"""A database of the previous release upgrades in place, and its v1 data shows through v3.

The database is migrated to revision 0004 (the last schema of the v1-only release) and filled
with rows shaped as that release's code wrote them: an app with users, sessions (one
inactive), messages from the user (`is_user` true) and from the assistant (false) with the
session's count kept in step, metamessages (the deriver's summary among them), the deriver's
`honcho` collection and a named one, documents with vectors, and a finished derivation job.
It is then upgraded to head on the same database, and a live server answers: every v1 read
returns the rows as that release wrote them, and v3 shows the app as a workspace, the users
and the synthetic `assistant` sender as peers, each session under its v1 id with its owner as
a member, the messages in order with their token counts, the deriver's documents as the
user's conclusions about itself (found by meaning through their vectors) and the deriver's
summary as the session's summary.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from mindkeeper.bootstrap import build_runtime
from mindkeeper.core.values import new_id
from mindkeeper.providers.tokens import O200kTokenCounter
from mindkeeper.storage import migrate
from mindkeeper.storage.types import Embedding, JSONType, UTCDateTime
from tests.conftest import make_settings, start_server

#: The schema of the release before the shared v3 model.
PREVIOUS = "0004"
T0 = datetime(2025, 3, 1, 9, 30, 0, 250000, tzinfo=UTC)
TOKENS = O200kTokenCounter()
FACTS = ("Ana drinks green tea every morning.", "Ana drinks oolong on Sundays.")
ERRAND = "Buy a new teapot."

Row = dict[str, Any]
_TYPES = {"metadata": JSONType, "embedding": Embedding()}


def _table(name: str, *columns: str) -> sa.TableClause:
    """A table with the columns the 0004-era code wrote (public id, metadata, creation time
    and `columns`)."""
    names = ("public_id", "metadata", "created_at", *columns)
    return sa.table(name, *(sa.column(c, _column_type(c)) for c in names))


def _column_type(name: str) -> Any:
    if name.endswith("_at") or name == "run_after":
        return UTCDateTime()
    return _TYPES.get(name)


TABLES = {
    "workspaces": _table("workspaces", "name"),
    "peers": _table("peers", "name", "workspace_id"),
    "sessions": _table("sessions", "is_active", "message_count", "workspace_id", "peer_id"),
    "messages": _table("messages", "session_id", "is_user", "content", "workspace_id", "peer_id"),
    "notes": _table(
        "notes", "label", "content", "session_id", "message_id", "workspace_id", "peer_id"
    ),
    "collections": _table("collections", "name", "workspace_id", "peer_id"),
    "documents": _table(
        "documents",
        "content",
        "embedding",
        "embedding_model",
        "embedding_dim",
        "collection_id",
        "workspace_id",
        "peer_id",
    ),
    "jobs": sa.table(
        "jobs",
        *(
            sa.column(c, _column_type(c))
            for c in (
                "kind",
                "status",
                "workspace_id",
                "peer_id",
                "session_id",
                "message_id",
                "attempts",
                "run_after",
                "created_at",
                "updated_at",
                "finished_at",
            )
        ),
    ),
}


class OldRows:
    """The rows the previous release wrote, by table; each named for the checks."""

    def __init__(self) -> None:
        self.rows: dict[str, list[Row]] = {name: [] for name in TABLES}
        self.named: dict[str, Row] = {}
        self.clock = T0

    def add(self, table: str, key: str, /, **values: Any) -> Row:
        """A row (named `key`) with a fresh public id, empty metadata and the next creation
        time."""
        self.clock += timedelta(seconds=1)
        row = {"public_id": new_id(), "metadata": {}, "created_at": self.clock, **values}
        self.rows[table].append(row)
        self.named[key] = row
        return row

    def __getitem__(self, name: str) -> Row:
        return self.named[name]

    def id(self, name: str) -> str:
        """The public id of a named row."""
        return str(self.named[name]["public_id"])


def v1_data(vectors: np.ndarray, model_id: str) -> OldRows:
    """An app as the 0004-era v1 code left it (vectors: those of FACTS, then ERRAND)."""
    old = OldRows()
    w = old.add("workspaces", "app", name="acme", metadata={"plan": "pro"})["public_id"]
    ana = old.add("peers", "ana", name="ana", workspace_id=w, metadata={"tier": 1})["public_id"]
    ben = old.add("peers", "ben", name="ben", workspace_id=w)["public_id"]
    owned = {"workspace_id": w, "is_active": True}
    old.add("sessions", "chat", message_count=3, peer_id=ana, metadata={"topic": "tea"}, **owned)
    old.add("sessions", "ended", **{**owned, "is_active": False}, message_count=0, peer_id=ana)
    old.add("sessions", "coffee", message_count=1, peer_id=ben, **owned)
    for name, session, owner, is_user, content in (
        ("m1", "chat", ana, True, "I drink green tea every morning."),
        ("m2", "chat", ana, False, "Noted: green tea, mornings."),
        ("m3", "chat", ana, True, "And oolong on Sundays."),
        ("m4", "coffee", ben, True, "Coffee, black, no sugar."),
    ):
        old.add(
            "messages",
            name,
            session_id=old.id(session),
            is_user=is_user,
            content=content,
            workspace_id=w,
            peer_id=owner,
            metadata={"lang": "en"} if name == "m1" else {},
        )
    mine = {"workspace_id": w, "peer_id": ana}
    chat = old.id("chat")
    old.add("notes", "note", label="note", content="liked", session_id=chat,
            message_id=old.id("m1"), metadata={"k": "v"}, **mine)  # fmt: skip
    old.add("notes", "profile", label="profile", content="unlinked", session_id=None,
            message_id=None, **mine)  # fmt: skip
    old.add(
        "notes",
        "summary",
        label="honcho_chat_summary_short",
        content="Ana drinks green tea in the morning and oolong on Sundays.",
        session_id=chat,
        message_id=old.id("m3"),
        metadata={"message_count": 3, "summary_type": "SHORT"},
        **mine,
    )
    old.add("collections", "honcho", name="honcho", **mine)
    old.add("collections", "errands", name="errands", metadata={"x": 1}, **mine)
    for (name, collection, content, metadata), vector in zip(
        (
            ("d1", "honcho", FACTS[0], {"message_id": old.id("m1")}),
            ("d2", "honcho", FACTS[1], {"message_id": old.id("m3")}),
            ("d3", "errands", ERRAND, {}),
        ),
        vectors,
        strict=True,
    ):
        old.add(
            "documents",
            name,
            content=content,
            metadata=metadata,
            embedding=vector,
            embedding_model=model_id,
            embedding_dim=len(vector),
            collection_id=old.id(collection),
            **mine,
        )
    done = old["m1"]["created_at"]
    old.rows["jobs"].append(
        {
            "kind": "derive",
            "status": "done",
            "session_id": chat,
            "message_id": old.id("m1"),
            "attempts": 1,
            "run_after": done,
            "created_at": done,
            "updated_at": done,
            "finished_at": done,
            **mine,
        }
    )
    return old


async def _write(url: str, old: OldRows) -> None:
    """Insert the rows in foreign-key order, in one transaction."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            for name, table in TABLES.items():
                await conn.execute(table.insert(), old.rows[name])
    finally:
        await engine.dispose()


async def _messages_after(url: str) -> dict[str, tuple[int, str, int]]:
    """(position, sender, token count) of every message by public id, read from the rows."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                sa.text("SELECT public_id, seq, sender_id, token_count FROM messages")
            )
            return {r.public_id: (r.seq, r.sender_id, r.token_count) for r in rows}
    finally:
        await engine.dispose()


def _ts(value: datetime) -> str:
    """Upstream's timestamps: UTC with `Z`, microseconds only when non-zero."""
    spec = "microseconds" if value.microsecond else "seconds"
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _ok(http: httpx.Client, method: str, url: str, **kwargs: Any) -> Any:
    response = http.request(method, url, **kwargs)
    assert response.status_code == 200, (method, url, response.status_code, response.text)
    return response.json()


def _items(http: httpx.Client, method: str, url: str, **kwargs: Any) -> list[Any]:
    return list(_ok(http, method, url, **kwargs)["items"])


async def test_v1_database_upgrades_in_place_and_shows_through_v3(
    empty_database_url: str, embedder: Any
) -> None:
    url = empty_database_url
    await migrate.upgrade(url, PREVIOUS)
    assert await migrate.current_revision(url) == PREVIOUS
    old = v1_data(await embedder.embed([*FACTS, ERRAND]), embedder.model_id)
    await _write(url, old)

    await migrate.upgrade(url)
    assert await migrate.current_revision(url) == migrate.head_revision()
    assert await migrate.schema_diff(url) == []
    # Senders, positions in insertion order per session, token counts.
    after = await _messages_after(url)
    assistant = after[old.id("m2")][1]
    assert assistant not in (old.id("ana"), old.id("ben"))
    for name, seq, sender in (
        ("m1", 1, "ana"),
        ("m2", 2, None),
        ("m3", 3, "ana"),
        ("m4", 1, "ben"),
    ):
        content = old[name]["content"]
        expected_sender = assistant if sender is None else old.id(sender)
        assert after[old.id(name)] == (seq, expected_sender, TOKENS.count(content))

    settings = make_settings(url, worker_enabled=False)
    server, stop = start_server(settings, build_runtime(settings, embedder=embedder))
    try:
        with server.client() as http:
            _check_v1(http, old)
            _check_v3(http, old, assistant)
    finally:
        stop()


def _v1(old: OldRows, name: str) -> Row:
    """The v1 JSON of a named row, as the previous release answered it."""
    row, w = old[name], old.id("app")
    common = {"metadata": row["metadata"], "created_at": _ts(row["created_at"])}
    if name == "app":
        return {"id": w, "name": row["name"], **common}
    if name in ("ana", "ben"):
        created = common["created_at"]
        user = {"id": row["public_id"], "name": row["name"], "app_id": w}
        return {**user, "created_at": created, "metadata": row["metadata"]}
    owner = {"user_id": row["peer_id"], "app_id": w}
    scoped = {"app_id": w, "user_id": row["peer_id"]}  # the order of messages and documents
    if name in ("chat", "ended", "coffee"):
        return {"id": row["public_id"], "is_active": row["is_active"], **owner, **common}
    if name.startswith("m"):
        return {
            "id": row["public_id"],
            "content": row["content"],
            "is_user": row["is_user"],
            "session_id": row["session_id"],
            **common,
            **scoped,
        }
    if name.startswith("d"):
        return {
            "id": row["public_id"],
            "content": row["content"],
            **common,
            "collection_id": row["collection_id"],
            **scoped,
        }
    if name in ("honcho", "errands"):
        return {"id": row["public_id"], "name": row["name"], **owner, **common}
    return {  # a metamessage
        "id": row["public_id"],
        "label": row["label"],
        "content": row["content"],
        **owner,
        "session_id": row["session_id"],
        "message_id": row["message_id"],
        **common,
        "metamessage_type": row["label"],
    }


def _check_v1(http: httpx.Client, old: OldRows) -> None:
    """Every v1 read returns the rows as the previous release wrote them (key order too)."""

    def v1(*names: str) -> list[Row]:
        return [_v1(old, n) for n in names]

    def same(got: Any, want: Any) -> None:
        assert got == want
        assert [list(x) for x in got] == [list(x) for x in want]  # key order

    a = f"/v1/apps/{old.id('app')}"
    by_id = _ok(http, "GET", "/v1/apps", params={"app_id": old.id("app")})
    same([by_id, _ok(http, "GET", "/v1/apps/name/acme")], v1("app", "app"))
    same(_items(http, "POST", f"{a}/users/list", json={}), v1("ana", "ben"))
    u = f"{a}/users/{old.id('ana')}"
    same(_items(http, "POST", f"{u}/sessions/list", json={}), v1("chat", "ended"))
    s = f"{u}/sessions/{old.id('chat')}"
    same(_items(http, "POST", f"{s}/messages/list", json={}), v1("m1", "m2", "m3"))
    same([_ok(http, "GET", f"{s}/messages/{old.id('m2')}")], v1("m2"))
    notes = _items(http, "POST", f"{u}/metamessages/list", json={})
    same(notes, v1("note", "profile", "summary"))
    same(_items(http, "POST", f"{u}/collections/list", json={}), v1("honcho", "errands"))
    for collection, documents in (("honcho", ("d1", "d2")), ("errands", ("d3",))):
        c = f"{u}/collections/{old.id(collection)}/documents"
        same(_items(http, "POST", f"{c}/list", json={}), v1(*documents))
    query = {"query": "oolong", "top_k": 1}
    found = _ok(http, "POST", f"{u}/collections/{old.id('honcho')}/documents/query", json=query)
    same(found, v1("d2"))
    b = f"{a}/users/{old.id('ben')}/sessions/{old.id('coffee')}/messages/list"
    same(_items(http, "POST", b, json={}), v1("m4"))


def _check_v3(http: httpx.Client, old: OldRows, assistant: str) -> None:
    """The same rows through v3: names for ids, members, senders, conclusions, summaries."""
    w = "/v3/workspaces/acme"
    workspaces = _items(http, "POST", "/v3/workspaces/list", json={"filters": {"id": "acme"}})
    assert workspaces == [
        {
            "id": "acme",
            "metadata": {"plan": "pro"},
            "configuration": {},
            "created_at": _ts(old["app"]["created_at"]),
            "uid": old.id("app"),
        }
    ]
    peers = _items(http, "POST", f"{w}/peers/list")
    assert [(p["id"], p["uid"], p["metadata"]) for p in peers] == [
        ("ana", old.id("ana"), {"tier": 1}),
        ("ben", old.id("ben"), {}),
        ("assistant", assistant, {}),
    ]
    chat, ended, coffee = old.id("chat"), old.id("ended"), old.id("coffee")
    sessions = _items(http, "POST", f"{w}/sessions/list")
    assert [(s["id"], s["uid"], s["metadata"]) for s in sessions] == [
        (chat, chat, {"topic": "tea"}),
        (coffee, coffee, {}),
    ]
    mine = _items(http, "POST", f"{w}/peers/ana/sessions")
    assert [(s["id"], s["is_active"]) for s in mine] == [(chat, True), (ended, False)]
    members = {
        s: [p["id"] for p in _items(http, "GET", f"{w}/sessions/{s}/peers")] for s in (chat, coffee)
    }
    assert members == {chat: ["ana", "assistant"], coffee: ["ben"]}

    messages = _items(http, "POST", f"{w}/sessions/{chat}/messages/list")
    want = []
    for name, sender in (("m1", "ana"), ("m2", "assistant"), ("m3", "ana")):
        row = old[name]
        count = TOKENS.count(row["content"])
        want.append((row["public_id"], sender, row["content"], count, _ts(row["created_at"])))
    got = [
        (m["id"], m["peer_id"], m["content"], m["token_count"], m["created_at"]) for m in messages
    ]
    assert got == want
    assert messages[0]["metadata"] == {"lang": "en"}

    # The deriver's collection holds the user's conclusions about itself; other collections
    # have no v3 counterpart.
    pair = {"observer_id": "ana", "observed_id": "ana"}
    page = _ok(http, "POST", f"{w}/conclusions/list", json={"filters": pair})
    assert [
        (c["id"], c["content"], c["observer_id"], c["observed_id"], c["level"], c["session_id"])
        for c in page["items"]
    ] == [(old.id(d), old[d]["content"], "ana", "ana", "explicit", None) for d in ("d2", "d1")]
    assert _ok(http, "POST", f"{w}/conclusions/list")["total"] == 2
    query = {"query": "green tea", "top_k": 1, "filters": pair}
    assert [c["id"] for c in _ok(http, "POST", f"{w}/conclusions/query", json=query)] == [
        old.id("d1")
    ]

    summary = old["summary"]
    summaries = _ok(http, "GET", f"{w}/sessions/{chat}/summaries")
    assert summaries == {
        "id": chat,
        "short_summary": {
            "content": summary["content"],
            "message_id": old.id("m3"),
            "summary_type": "honcho_chat_summary_short",
            "created_at": summary["created_at"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "token_count": TOKENS.count(summary["content"]),
        },
        "long_summary": None,
    }
