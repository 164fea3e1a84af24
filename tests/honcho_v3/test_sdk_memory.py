"""The real honcho-ai 2.7.0 SDK (sync and async clients) over real HTTP: the memory reads (cards,
context, representations, search, summaries, queue status), conclusions of the workspace and of
a pair, scopes, pages and the context's chat formats; with the scripted model, every chat and
stream of the workspace and of a peer, their final responses, and an async dream whose derived
conclusions the SDK follows back to their premises."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from mindkeeper.core.services.memory import summaries
from tests.conftest import LiveServer
from tests.deriver.fakes import FakeModelServer
from tests.honcho_v3.memory_fakes import model_settings, settle, start_fake
from tests.honcho_v3.memory_support import conclude, run_async, summarise
from tests.honcho_v3.sdk import SdkRunner
from tests.honcho_v3.support import expect, new_workspace, uid, ws_url
from tests.honcho_v3.test_search import post_and_index


@pytest.fixture
def fake() -> Iterator[FakeModelServer]:
    """The scripted model server."""
    server = start_fake()
    yield server
    server.stop()


MEMORY_SCRIPT = """
h = client()
out = {}
alice, bob = h.peer("alice"), h.peer("bob")
alice.set_card(["Alice", "nurse"])
out["card"] = alice.card()

first = h.peers(size=1)
second = first.get_next_page()
out["pages"] = [
    [p.id for p in first.items], first.has_next_page(),
    [p.id for p in second.items], second.has_next_page(), second.get_next_page(),
]

everything = h.conclusions.list(filters={"observed_id": "alice"})
out["workspace_conclusions"] = [c.content for c in everything]
out["workspace_conclusions_pair"] = [
    [c.observer_id, c.observed_id, c.content]
    for c in h.conclusions.list(size=1, filters={"observed_id": "bob"}, reverse=True).items
]
ids = [c.id for c in everything]
out["workspace_many"] = sorted(c.content for c in h.conclusions.get_many(ids + ["missing"]))

session = h.session("chat")
ctx = session.context(peer_target="alice", peer_perspective="alice")
out["openai"] = ctx.to_openai(assistant="bob")
out["anthropic"] = ctx.to_anthropic(assistant=bob)

async def main():
    a = aclient()
    out["search"] = [m.content for m in await a.search("Which dog breed did they get?", limit=1)]
    status = await a.queue_status()
    out["queue"] = [status.total_work_units, status.pending_work_units]
    out["queue_of_nobody"] = (await a.queue_status(observer="nobody")).total_work_units

    pa = (await a.peer("alice")).aio
    out["set_card"] = await pa.set_card(["Alice", "night nurse"])
    out["get_card"] = await pa.get_card()
    out["card_async"] = await pa.card()
    out["set_card_of_bob"] = await pa.set_card(["Bob"], target="bob")
    peer_ctx = await pa.context(target="bob")
    out["peer_context"] = [
        peer_ctx.peer_id, peer_ctx.target_id, peer_ctx.representation, peer_ctx.peer_card
    ]
    out["representation"] = await pa.representation()
    out["representation_of_bob"] = await pa.representation(target="bob", session="chat")
    out["peer_search"] = [m.content for m in await pa.search("trip to Japan", limit=1)]

    sa = (await a.session("chat")).aio
    actx = await sa.context(summary=True, tokens=2000, peer_target="alice")
    out["session_context"] = [
        actx.summary.content if actx.summary else None,
        [m.content for m in actx.messages],
        actx.peer_card,
        actx.peer_representation,
    ]
    sstatus = await sa.queue_status()
    out["session_queue"] = [sstatus.total_work_units, sstatus.pending_work_units]
    out["session_representation"] = await sa.representation("alice", target="bob")
    out["session_search"] = [m.content for m in await sa.search("wedding", limit=1)]
    found = await sa.summaries()
    out["summaries"] = [
        found.id,
        found.short_summary.content if found.short_summary else None,
        found.short_summary.message_id if found.short_summary else None,
        found.long_summary,
    ]

    scope = await a.scope("trips")
    await scope.aio.add_sessions(["chat", "other"])
    out["scope"] = (await a.get_scope("trips")).id
    jobs = await scope.aio.status()
    out["scope_status"] = sorted((name, job.state) for name, job in jobs.items())
    await scope.aio.remove_session("other")
    out["scope_sessions"] = [s.id async for s in await scope.aio.sessions()]

    view = (await a.peer("alice")).conclusions_of("bob").aio
    listed = await view.list()
    out["view_list"] = [c.content for c in listed]
    one = listed.items[0]
    out["view_get"] = (await view.get(one.id)).content
    try:
        await view.get(PARAMS["self_conclusion"])
    except Exception as exc:
        out["view_get_other_pair"] = type(exc).__name__
    out["view_many"] = sorted(c.content for c in await view.get_many([c.id for c in listed]))
    out["view_derived"] = [c.id async for c in await view.derived(one.id)]
    out["view_representation"] = await view.representation()
    await view.delete(one.id)
    out["view_after_delete"] = [c.content async for c in await view.list()]

    wc = a.conclusions
    out["workspace_list_async"] = sorted(
        [c.content async for c in await wc.list(filters={"observer_id": "alice"})]
    )
    by_id = await wc.get_many([PARAMS["self_conclusion"]])
    out["workspace_many_async"] = [c.content for c in by_id]

    page = await a.peers(size=1)
    more = await page.get_next_page()
    out["async_pages"] = [
        [p.id for p in page.items], page.has_next_page(),
        [p.id for p in more.items], more.has_next_page(), await more.get_next_page(),
    ]
    emit(out)
"""


def test_memory_reads_sync_and_async(http: httpx.Client, api: LiveServer, sdk: SdkRunner) -> None:
    ws = new_workspace(http)
    made = post_and_index(
        http,
        api,
        ws,
        "chat",
        ("alice", "I adopted a golden retriever puppy last spring"),
        ("bob", "My sister is getting married in June"),
        ("alice", "We booked flights to Tokyo for the holidays"),
    )
    post_and_index(http, api, ws, "other", ("bob", "The quarterly report is due on Friday"))
    own = conclude(http, ws, ("alice", "alice", "Alice is a nurse"))
    conclude(
        http,
        ws,
        ("alice", "bob", "Bob has a sister"),
        ("alice", "bob", "Bob likes weddings"),
        session="chat",
    )
    run_async(summarise(api, ws, "chat", summaries.SHORT, "They talked", made[0]["id"], 5))
    out = sdk.run(MEMORY_SCRIPT, workspace=ws, self_conclusion=own[0]["id"])

    assert out["card"] == ["Alice", "nurse"]
    assert out["pages"] == [["alice"], True, ["bob"], False, None]
    assert out["workspace_conclusions"] == ["Alice is a nurse"]
    assert out["workspace_conclusions_pair"] == [["alice", "bob", "Bob has a sister"]]
    assert out["workspace_many"] == ["Alice is a nurse"]
    representation = out["openai"][0]
    assert representation["role"] == "system"
    assert representation["content"].startswith("<peer_representation>")
    assert "Alice is a nurse" in representation["content"]
    assert out["openai"][1:] == [
        {"role": "system", "content": "<peer_card>['Alice', 'nurse']</peer_card>"},
        {"role": "system", "content": "<summary>They talked</summary>"},
        {"role": "assistant", "name": "bob", "content": "My sister is getting married in June"},
        {
            "role": "user",
            "name": "alice",
            "content": "We booked flights to Tokyo for the holidays",
        },
    ]
    assert [m["role"] for m in out["anthropic"]] == ["user"] * 3 + ["assistant", "user"]
    assert out["anthropic"][0]["content"] == out["openai"][0]["content"]
    assert out["anthropic"][3:] == [
        {"role": "assistant", "content": "My sister is getting married in June"},
        {"role": "user", "content": "alice: We booked flights to Tokyo for the holidays"},
    ]

    assert out["search"] == ["I adopted a golden retriever puppy last spring"]
    # Without a model, one derivation per message waits.
    assert out["queue"] == [4, 4] and out["queue_of_nobody"] == 0
    assert out["set_card"] == ["Alice", "night nurse"]
    assert out["get_card"] == out["card_async"] == ["Alice", "night nurse"]
    assert out["set_card_of_bob"] == ["Bob"]
    peer_id, target_id, peer_view, peer_card = out["peer_context"]
    assert (peer_id, target_id, peer_card) == ("alice", "bob", ["Bob"])
    assert "Bob has a sister" in peer_view and "Alice is a nurse" not in peer_view
    assert "Alice is a nurse" in out["representation"]
    assert "Bob has a sister" not in out["representation"]
    assert "Bob likes weddings" in out["representation_of_bob"]
    assert out["peer_search"] == ["We booked flights to Tokyo for the holidays"]

    summary, messages, card, view = out["session_context"]
    assert summary == "They talked"
    assert messages == [
        "My sister is getting married in June",
        "We booked flights to Tokyo for the holidays",
    ]
    assert card == ["Alice", "night nurse"]
    assert "Alice is a nurse" in view
    assert out["session_queue"] == [3, 3]
    assert "Bob has a sister" in out["session_representation"]
    assert out["session_search"] == ["My sister is getting married in June"]
    assert out["summaries"] == ["chat", "They talked", made[0]["id"], None]

    assert out["scope"] == "trips"
    assert out["scope_status"] == [["chat", "completed"], ["other", "completed"]]
    assert out["scope_sessions"] == ["chat"]

    assert out["view_list"] == ["Bob likes weddings", "Bob has a sister"]
    assert out["view_get"] == "Bob likes weddings"
    assert out["view_get_other_pair"] == "NotFoundError"
    assert out["view_many"] == ["Bob has a sister", "Bob likes weddings"]
    assert out["view_derived"] == []
    assert "Bob has a sister" in out["view_representation"]
    assert "Alice is a nurse" not in out["view_representation"]
    assert out["view_after_delete"] == ["Bob has a sister"]
    assert out["workspace_list_async"] == ["Alice is a nurse", "Bob has a sister"]
    assert out["workspace_many_async"] == ["Alice is a nurse"]
    assert out["async_pages"] == [["alice"], True, ["bob"], False, None]


CHAT_SCRIPT = """
import time

h = client()
stream = h.chat_stream("Who keeps bees?")
out = {"before": stream.get_final_response()}
out["workspace_stream"] = "".join(stream)
out["workspace_final"] = [stream.get_final_response(), stream.is_complete]
with_evidence = h.peer("quinn").chat_stream("Bees?", include_evidence=True)
out["peer_stream_final"] = ["".join(with_evidence), with_evidence.get_final_response()]
out["peer_stream_evidence"] = sorted(c.content for c in with_evidence.evidence.conclusions)

async def main():
    a = aclient()
    out["workspace_chat"] = await a.chat("Who keeps bees?")
    answer = await a.chat("Who bakes?", session="s", include_evidence=True)
    out["workspace_chat_evidence"] = [
        answer.content, sorted(c.content for c in answer.evidence.conclusions)
    ]
    astream = await a.chat_stream("Who bakes?", include_evidence=True)
    out["workspace_astream"] = [
        astream.get_final_response(),
        "".join([chunk async for chunk in astream]),
        astream.get_final_response(),
        sorted(c.content for c in astream.evidence.conclusions),
    ]

    quinn = await a.peer("quinn")
    rae = (await a.peer("rae")).aio
    out["peer_chat"] = await quinn.aio.chat("What does Quinn do?")
    about = await rae.chat("Quinn?", target="quinn", include_evidence=True)
    out["peer_chat_target"] = [
        about.content,
        sorted((c.observer_id, c.observed_id, c.content) for c in about.evidence.conclusions),
    ]
    pstream = await rae.chat_stream("Quinn?", target=quinn, session="s")
    out["peer_astream"] = ["".join([c async for c in pstream]), pstream.get_final_response()]

    await a.schedule_dream(observer=quinn)
    deadline = time.monotonic() + 60
    while True:
        status = await a.queue_status()
        if status.pending_work_units == status.in_progress_work_units == 0:
            break
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.05)
    out["dream_status"] = [status.total_work_units, status.completed_work_units]
    view = quinn.conclusions.aio
    explicit = {c.content: c.id async for c in await view.list(filters={"level": "explicit"})}
    derived = [c async for c in await view.derived(explicit["Quinn bakes bread."])]
    out["derived"] = sorted((c.level, c.content) for c in derived)
    deduced = next(c for c in derived if c.level == "deductive")
    premises = await view.get_many(deduced.source_ids)
    out["premises"] = sorted(c.content for c in premises)
    out["deduced"] = (await view.get(deduced.id)).source_ids == deduced.source_ids
    emit(out)
"""


def test_chats_streams_and_dreams(
    server_factory: Callable[..., LiveServer], fake: FakeModelServer, honcho_sdk_dir: Path
) -> None:
    live = server_factory(**model_settings(fake))
    ws = uid("ws")
    with live.client() as http:
        body = {"id": "s", "peers": {"quinn": {}, "rae": {"observe_others": True}}}
        expect(http.post(ws_url(ws, "sessions"), json=body), 201)
        facts = ["Quinn bakes bread.", "Quinn keeps bees."]
        messages = {"messages": [{"peer_id": "quinn", "content": f"FACT: {f}"} for f in facts]}
        expect(http.post(ws_url(ws, "sessions", "s", "messages"), json=messages), 201)
        settle(http, ws)
    out = SdkRunner(live.url, honcho_sdk_dir).run(CHAT_SCRIPT, workspace=ws)
    both = ["Quinn bakes bread.", "Quinn keeps bees."]
    # The workspace's chat reads quinn's own conclusions and rae's about quinn.
    twice = sorted(both * 2)

    assert out["before"] == {"content": ""}
    assert _facts(out["workspace_stream"]) == twice
    assert out["workspace_final"] == [{"content": out["workspace_stream"]}, True]
    streamed, final = out["peer_stream_final"]
    assert _facts(streamed) == both and final == {"content": streamed}
    assert out["peer_stream_evidence"] == both

    assert _facts(out["workspace_chat"]) == twice
    content, evidence = out["workspace_chat_evidence"]
    assert _facts(content) == twice and evidence == twice
    before, streamed, final, evidence = out["workspace_astream"]
    assert before == {"content": ""}
    assert _facts(streamed) == twice and final == {"content": streamed} and evidence == twice

    assert _facts(out["peer_chat"]) == both
    content, evidence = out["peer_chat_target"]
    assert _facts(content) == both
    assert evidence == [["rae", "quinn", fact] for fact in both]
    streamed, final = out["peer_astream"]
    assert _facts(streamed) == both and final == {"content": streamed}

    # Two derivations, then the dream.
    assert out["dream_status"] == [3, 3]
    assert out["derived"] == [
        ["deductive", "Deduced from the first two."],
        ["inductive", "A pattern across all."],
    ]
    assert out["premises"] == both
    assert out["deduced"] is True


def _facts(answer: str) -> list[str]:
    """The sentences the scripted dialectic quoted, sorted."""
    assert answer.startswith("Known: "), answer
    return sorted(
        f"{part.strip()}." for part in answer[len("Known: ") :].split(".") if part.strip()
    )
