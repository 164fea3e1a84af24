"""End to end with the honcho-ai client: messages -> the worker derives facts and summaries
-> the dialectic chat answers from them, whole and streamed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from honcho import Honcho

from tests.conftest import LiveServer
from tests.deriver.conftest import wait_for_queue
from tests.deriver.fakes import FakeModelServer

#: Distinct enough that no two are near-duplicates (cosine distance >= 0.15) for MiniLM.
FACTS = [
    "The user lives in Lisbon.",
    "The user works as a veterinary surgeon.",
    "The user plays the cello in an amateur orchestra.",
    "The user is allergic to peanuts.",
    "The user has two daughters.",
    "The user prefers trains to planes.",
]


def _conversation(tag: str, pairs: int) -> list[dict[str, Any]]:
    messages = []
    for i in range(pairs):
        fact = f" FACT: {FACTS[i]}" if i < len(FACTS) else ""
        messages.append({"content": f"[s:{tag}] turn {i}.{fact}", "is_user": True})
        messages.append({"content": f"Noted, turn {i}.", "is_user": False})
    return messages


def _labels(honcho: Honcho, app_id: str, user_id: str, session_id: str) -> list[Any]:
    page = honcho.apps.users.metamessages.list(
        app_id=app_id, user_id=user_id, session_id=session_id, size=100
    )
    return list(page.items)


def test_messages_become_facts_and_summaries_then_chat_answers(
    server_factory: Callable[..., LiveServer],
    fake_models: FakeModelServer,
    deriver_settings: Callable[..., dict[str, Any]],
) -> None:
    live = server_factory(**deriver_settings())
    honcho = Honcho(base_url=live.url, max_retries=0)
    app = honcho.apps.create(name="e2e")
    user = honcho.apps.users.create(app_id=app.id, name="alice")
    session = honcho.apps.users.sessions.create(app_id=app.id, user_id=user.id)
    ids = dict(app_id=app.id, user_id=user.id, session_id=session.id)
    messages = _conversation("e2e", 30)  # 60 messages: summaries at 20, 40 and 60
    honcho.apps.users.sessions.messages.batch(**ids, messages=messages[:40])
    for m in messages[40:]:
        honcho.apps.users.sessions.messages.create(**ids, **m)

    status = wait_for_queue(live.url)
    assert (status["done"], status["dead"], status["failed_attempts"]) == (60, 0, 0)
    assert status["models"]["openai:fake-facts"]["requests"] == 30  # user messages only

    collection = honcho.apps.users.collections.get_by_name(
        app_id=app.id, user_id=user.id, name="honcho"
    )
    docs = honcho.apps.users.collections.documents.list(
        app_id=app.id, user_id=user.id, collection_id=collection.id, size=100
    )
    assert sorted(d.content for d in docs.items) == sorted(FACTS)
    user_messages = honcho.apps.users.sessions.messages.list(**ids, size=100).items
    by_id = {m.id: m for m in user_messages}
    for doc in docs.items:
        assert doc.content in by_id[doc.metadata["message_id"]].content

    notes = _labels(honcho, **ids)
    summaries = [(n.metamessage_type, n.metadata, n.message_id) for n in notes]
    all_ids = [m.id for m in user_messages]
    assert summaries == [
        ("honcho_chat_summary_short", {"message_count": 20, "summary_type": "SHORT"}, all_ids[19]),
        ("honcho_chat_summary_short", {"message_count": 20, "summary_type": "SHORT"}, all_ids[39]),
        ("honcho_chat_summary_long", {"message_count": 60, "summary_type": "LONG"}, all_ids[59]),
        ("honcho_chat_summary_short", {"message_count": 20, "summary_type": "SHORT"}, all_ids[59]),
    ]
    assert notes[0].content == "Summary of 20 messages."
    assert notes[3].content == "Summary of 20 messages continuing."  # builds on the long one

    answer = honcho.apps.users.sessions.chat(**ids, queries="Where does the user live?")
    assert answer.content.startswith("Based on memory: ")
    assert "The user lives in Lisbon." in answer.content
    prompt = fake_models.calls_for("fake-dialectic")[-1].body["messages"][-1]["content"]
    assert "<query>\nWhere does the user live?\n</query>" in prompt
    assert "Summary of 20 messages continuing." in prompt  # the latest short summary

    with honcho.apps.users.sessions.with_streaming_response.chat(
        **ids, queries=["What does the user do for work?", "Any allergies?"], stream=True
    ) as response:
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        chunks = list(response.iter_text())
    streamed = "".join(chunks)
    assert len(chunks) > 1 and streamed.startswith("Based on memory: ")
    assert "The user works as a veterinary surgeon." in streamed
    assert "The user is allergic to peanuts." in streamed
    call = fake_models.calls_for("fake-dialectic")[-1]
    assert call.stream is True

    representations = [
        n for n in _labels(honcho, **ids) if n.metamessage_type.endswith("representation")
    ]
    assert len(representations) == 2  # one per chat call, streaming included
    assert all(n.message_id == all_ids[58] for n in representations)  # newest user message
    assert "The user lives in Lisbon." in representations[0].content
    honcho.close()


def test_a_backlog_gives_one_summary_per_twenty_messages(
    server_factory: Callable[..., LiveServer],
    deriver_settings: Callable[..., dict[str, Any]],
) -> None:
    """Upstream summarised every message of a backlog (a cascade); counts here stop at the job."""
    live = server_factory(**deriver_settings(worker_enabled=False))
    honcho = Honcho(base_url=live.url, max_retries=0)
    app = honcho.apps.create(name="backlog")
    user = honcho.apps.users.create(app_id=app.id, name="bob")
    session = honcho.apps.users.sessions.create(app_id=app.id, user_id=user.id)
    ids = dict(app_id=app.id, user_id=user.id, session_id=session.id)
    honcho.apps.users.sessions.messages.batch(**ids, messages=_conversation("b", 23))
    pending = wait_for_queue(live.url, lambda s: s["pending"] == 46)
    assert pending["stalled"] is False and pending["running"] == 0
    worker = server_factory(**deriver_settings())  # a second process shape: same DB, worker on
    wait_for_queue(worker.url)
    summaries = [n for n in _labels(honcho, **ids) if "summary" in n.metamessage_type]
    assert [n.metadata["message_count"] for n in summaries] == [20, 20]
    honcho.close()


def test_chat_on_unknown_session_is_404(
    server_factory: Callable[..., LiveServer],
    deriver_settings: Callable[..., dict[str, Any]],
) -> None:
    live = server_factory(**deriver_settings())
    with httpx.Client(base_url=live.url) as http:
        app = http.post("/v1/apps", json={"name": "x"}).json()
        user = http.post(f"/v1/apps/{app['id']}/users", json={"name": "u"}).json()
        url = f"/v1/apps/{app['id']}/users/{user['id']}/sessions/nosuchsession12345678/chat"
        response = http.post(url, json={"queries": "anything?"})
        assert response.status_code == 404
        assert response.json() == {"detail": "Session not found or does not belong to user"}
