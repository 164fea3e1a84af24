"""The `scope` option of the recall routes over HTTP (and the honcho-ai 2.7.0 SDK): search,
representation, session context and chat see only messages and conclusions of the named
scopes' sessions (their union, within any session allowlist); an unknown scope is 404, a
scope without sessions recalls nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.deriver.fakes import FakeModelServer
from tests.honcho_v3.memory_fakes import model_settings, start_fake
from tests.honcho_v3.memory_support import conclude
from tests.honcho_v3.sdk import SdkRunner
from tests.honcho_v3.support import (
    detail,
    execute,
    expect,
    post_messages,
    uid,
    wait_for,
    ws_url,
)

#: Session tags: `alpha` and `beta` are in scope `work`, `gamma` in scope `home`.
WORK = ("alpha", "beta")
HOME = ("gamma",)
TAGS = (*WORK, *HOME)


def _world(http: httpx.Client, ws: str) -> tuple[dict[str, str], list[str]]:
    """Sessions per tag (each holding in its scope one message and one conclusion of ana's,
    naming the tag), an empty scope, and a conclusion of no session. Returns the sessions by
    tag and the ids of the messages."""
    sessions = {tag: uid(tag) for tag in TAGS}
    message_ids = []
    for tag, name in sessions.items():
        scope = "work" if tag in WORK else "home"
        body = {"id": name, "peers": {"ana": {}, "bo": {}}, "scopes": [scope]}
        expect(http.post(ws_url(ws, "sessions"), json=body), 201)
        made = post_messages(http, ws, name, ("ana", f"ana packs apples for {tag}"))
        message_ids.extend(m["id"] for m in made)
        conclude(http, ws, ("ana", "ana", f"Ana fact {tag}."), session=name)
    conclude(http, ws, ("ana", "ana", "Ana fact global."))
    expect(http.post(ws_url(ws, "scopes"), json={"id": "empty"}), 201)
    return sessions, message_ids


def _facts(text: str) -> set[str]:
    """The tags (and `global`) whose conclusions a text quotes."""
    return {tag for tag in (*TAGS, "global") if f"Ana fact {tag}." in text}


def _representation(http: httpx.Client, ws: str, **body: Any) -> httpx.Response:
    return http.post(ws_url(ws, "peers", "ana", "representation"), json=body)


def _search(http: httpx.Client, path: str, **body: Any) -> httpx.Response:
    return http.post(path, json={"query": "apples", **body})


def _tags(sessions: dict[str, str], found: list[dict[str, Any]]) -> set[str]:
    by_name = {name: tag for tag, name in sessions.items()}
    return {by_name[m["session_id"]] for m in found}


def test_representation_keeps_the_scopes_conclusions(http: httpx.Client) -> None:
    ws = uid("ws")
    sessions, _ = _world(http, ws)

    def facts(**body: Any) -> set[str]:
        return _facts(expect(_representation(http, ws, **body), 200)["representation"])

    assert facts() == {*TAGS, "global"}
    assert facts(scope="work") == set(WORK)
    assert facts(scope=["home"]) == set(HOME)
    assert facts(scope=["work", "home", "work"]) == set(TAGS)
    # Within an allowlist: the sessions both name.
    allow = {"session_id": [sessions["alpha"], sessions["gamma"]]}
    assert facts(scope="work", filters=allow) == {"alpha"}
    assert facts(scope="home", session_id=sessions["alpha"]) == set()
    # Fail closed: a scope without sessions, and no scope at all.
    assert expect(_representation(http, ws, scope="empty"), 200) == {"representation": ""}
    assert expect(_representation(http, ws, scope=[]), 200) == {"representation": ""}

    missing = _representation(http, ws, scope=["work", "nope"])
    assert detail(missing, 404) == f"Scope nope not found in workspace {ws}"
    elsewhere = _representation(http, uid("ws"), scope="work")
    assert detail(elsewhere, 404).startswith("Scope work not found in workspace ")
    assert detail(_representation(http, ws, scope=""), 422)[0]["loc"][:2] == ["body", "scope"]
    too_many = [f"s{i}" for i in range(101)]
    errors = detail(_representation(http, ws, scope=too_many), 422)
    assert "too_long" in [e["type"] for e in errors]


def test_search_keeps_the_scopes_messages(http: httpx.Client) -> None:
    ws = uid("ws")
    sessions, _ = _world(http, ws)
    everywhere = ws_url(ws, "search")
    of_ana = ws_url(ws, "peers", "ana", "search")
    in_alpha = ws_url(ws, "sessions", sessions["alpha"], "search")

    def tags(path: str, **body: Any) -> set[str]:
        return _tags(sessions, expect(_search(http, path, **body), 200))

    assert tags(everywhere) == set(TAGS)
    assert tags(everywhere, scope="work") == set(WORK)
    assert tags(everywhere, scope=["work", "home"]) == set(TAGS)
    assert tags(of_ana, scope="home") == set(HOME)
    assert tags(in_alpha, scope="work") == {"alpha"}
    assert tags(in_alpha, scope="home") == set()
    # On top of the filters.
    only_beta = {"session_id": sessions["beta"]}
    assert tags(everywhere, scope="work", filters=only_beta) == {"beta"}
    assert tags(everywhere, scope="home", filters=only_beta) == set()
    assert tags(everywhere, scope="empty") == set()
    assert tags(of_ana, scope=[]) == set()

    for path in (everywhere, of_ana, in_alpha):
        missing = _search(http, path, scope="nope")
        assert detail(missing, 404) == f"Scope nope not found in workspace {ws}"


def test_session_context_narrows_the_representation(http: httpx.Client) -> None:
    ws = uid("ws")
    sessions, _ = _world(http, ws)
    path = ws_url(ws, "sessions", sessions["alpha"], "context")

    def context(**params: Any) -> dict[str, Any]:
        body: dict[str, Any] = expect(http.get(path, params={"peer_target": "ana", **params}), 200)
        return body

    def facts(**params: Any) -> set[str]:
        return _facts(context(**params)["peer_representation"])

    assert facts() == {*TAGS, "global"}
    assert facts(scope="work") == set(WORK)
    assert facts(scope="home") == set(HOME)
    assert facts(sessions=[sessions["beta"], sessions["gamma"]]) == {"beta", "gamma"}
    assert facts(scope="work", sessions=[sessions["beta"], sessions["gamma"]]) == {"beta"}
    assert facts(scope="home", limit_to_session="true") == set()
    assert facts(scope="empty") == set()
    # Only the representation is narrowed: the messages are the session's.
    messages = context(scope="home")["messages"]
    assert [m["content"] for m in messages] == ["ana packs apples for alpha"]

    missing = http.get(path, params={"peer_target": "ana", "scope": "nope"})
    assert detail(missing, 404) == f"Scope nope not found in workspace {ws}"
    blank = http.get(path, params={"peer_target": "ana", "sessions": ""})
    assert detail(blank, 422) == "sessions entries must be non-empty strings"


SDK_SCRIPT = """
honcho = client()
ana = honcho.peer("ana")
alpha = honcho.session(PARAMS["alpha"])
emit({
    "search": sorted({m.session_id for m in honcho.search("apples", scope="work")}),
    "representation": ana.representation(scope="home"),
    "union": ana.representation(scope=["work", "home"]),
    "context": alpha.context(peer_target="ana", scope="work").peer_representation,
    "missing": errors(lambda: ana.representation(scope="nope")),
})
"""


def test_the_sdk_recalls_through_scopes(http: httpx.Client, sdk: SdkRunner) -> None:
    ws = uid("ws")
    sessions, _ = _world(http, ws)
    result = sdk.run(SDK_SCRIPT, workspace=ws, alpha=sessions["alpha"])
    assert result["search"] == sorted(sessions[tag] for tag in WORK)
    assert _facts(result["representation"]) == set(HOME)
    assert _facts(result["union"]) == set(TAGS)
    assert _facts(result["context"]) == set(WORK)
    assert result["missing"] == ["NotFoundError", 404]


@pytest.fixture
def fake() -> Iterator[FakeModelServer]:
    """The scripted model server."""
    server = start_fake()
    yield server
    server.stop()


def _embedded(server: LiveServer, ids: list[str]) -> Callable[[], bool]:
    def check() -> bool:
        listed = ", ".join(f"'{i}'" for i in ids)
        sql = f"SELECT count(*) FROM message_vectors WHERE message_id IN ({listed})"
        return int(execute(server.settings.database_url, sql)[0][0]) == len(ids)

    return check


def _evidence(sessions: dict[str, str], body: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The tags of the conclusions (`global` for none) and of the messages read."""
    by_name = {name: tag for tag, name in sessions.items()}
    evidence = body["evidence"]
    conclusions = {by_name.get(c["session_id"], "global") for c in evidence["conclusions"]}
    return conclusions, {by_name[m["session_id"]] for m in evidence["messages"]}


CHAT_SDK_SCRIPT = """
honcho = client()
response = honcho.peer("ana").chat("apples?", scope="home", include_evidence=True)
emit({
    "content": response.content,
    "sessions": sorted({c.session_id for c in response.evidence.conclusions}),
})
"""


def test_chat_reads_only_the_scopes_sessions(
    server_factory: Callable[..., LiveServer], fake: FakeModelServer, honcho_sdk_dir: Path
) -> None:
    live = server_factory(**model_settings(fake))
    ws = uid("ws")
    with live.client() as http:
        sessions, message_ids = _world(http, ws)
        wait_for(_embedded(live, message_ids), "message vectors")

        def chat(path: str, **body: Any) -> dict[str, Any]:
            query = {"query": "apples?", "include_evidence": True, **body}
            answer: dict[str, Any] = expect(http.post(path, json=query), 200)
            return answer

        of_ana = ws_url(ws, "peers", "ana", "chat")
        everyone = ws_url(ws, "chat")

        whole = chat(of_ana)
        assert _facts(whole["content"]) == {*TAGS, "global"}
        assert _evidence(sessions, whole) == ({*TAGS, "global"}, set(TAGS))

        work = chat(of_ana, scope="work")
        assert _facts(work["content"]) == set(WORK)
        assert _evidence(sessions, work) == (set(WORK), set(WORK))

        union = chat(of_ana, scope=["home", "work"])
        assert _evidence(sessions, union) == (set(TAGS), set(TAGS))

        allow = {"session_id": [sessions["alpha"], sessions["gamma"]]}
        within = chat(of_ana, scope="work", filters=allow)
        assert _evidence(sessions, within) == ({"alpha"}, {"alpha"})

        # A session outside the scope: its history is not read either.
        outside = chat(of_ana, scope="work", session_id=sessions["gamma"])
        assert _evidence(sessions, outside) == (set(), set())
        assert outside["content"] == "Known: nothing."

        empty = chat(of_ana, scope="empty")
        assert _evidence(sessions, empty) == (set(), set())

        home = chat(everyone, scope="home")
        assert _facts(home["content"]) == set(HOME)
        assert _evidence(sessions, home)[0] == set(HOME)

        streamed = http.post(everyone, json={"query": "apples?", "stream": True, "scope": "work"})
        assert streamed.status_code == 200
        events = [json.loads(b.removeprefix("data: ")) for b in streamed.text.split("\n\n") if b]
        assert _facts("".join(e["delta"]["content"] for e in events[:-1])) == set(WORK)

        for path in (of_ana, everyone):
            missing = http.post(path, json={"query": "q", "scope": "nope"})
            assert detail(missing, 404) == f"Scope nope not found in workspace {ws}"

    result = SdkRunner(live.url, honcho_sdk_dir).run(CHAT_SDK_SCRIPT, workspace=ws)
    assert _facts(result["content"]) == set(HOME)
    assert result["sessions"] == [sessions["gamma"]]
