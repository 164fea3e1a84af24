"""The dialectic chat route: upstream's 422 shapes, clear errors before any byte is streamed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from honcho import Honcho, InternalServerError, NotFoundError

from tests.conftest import LiveServer
from tests.deriver.fakes import FakeModelServer, Fault


def _user(http: httpx.Client) -> str:
    app = http.post("/v1/apps", json={"name": "chat"}).json()
    user = http.post(f"/v1/apps/{app['id']}/users", json={"name": "u"}).json()
    session = http.post(f"/v1/apps/{app['id']}/users/{user['id']}/sessions", json={}).json()
    return f"/v1/apps/{app['id']}/users/{user['id']}/sessions/{session['id']}/chat"


@pytest.fixture
def chat_server(
    server_factory: Callable[..., LiveServer], deriver_settings: Callable[..., dict[str, Any]]
) -> LiveServer:
    return server_factory(**deriver_settings(worker_enabled=False))


def test_query_validation_matches_upstream(chat_server: LiveServer) -> None:
    with chat_server.client() as http:
        url = _user(http)
        assert http.post(url, json={"queries": "a" * 10_000}).status_code == 200
        assert http.post(url, json={"queries": ["a" * 10_000] * 25}).status_code == 200
        cases = [
            ("a" * 10_001, "Value error, Query too long"),
            (["q"] * 26, "Value error, Too many queries"),
            (["a" * 10_001], "Value error, One or more queries too long"),
            ([], "Value error, At least one query is required"),  # upstream: 500
        ]
        for queries, message in cases:
            response = http.post(url, json={"queries": queries})
            assert response.status_code == 422, queries
            (error,) = response.json()["detail"]
            assert error["type"] == "value_error"
            assert error["loc"] == ["body", "queries"]
            assert error["msg"] == message
            assert error["ctx"] == {"error": {}}
        response = http.post(url, json={"queries": 5})
        assert response.status_code == 422
        assert [(e["loc"], e["type"]) for e in response.json()["detail"]] == [
            (["body", "queries", "str"], "string_type"),
            (["body", "queries", "list[str]"], "list_type"),
        ]


def test_unknown_user_is_404_even_when_streaming(chat_server: LiveServer) -> None:
    with chat_server.client() as http:
        app = http.post("/v1/apps", json={"name": "nouser"}).json()
        url = f"/v1/apps/{app['id']}/users/nobody-xxxxxxxxxxxxxx/sessions/s/chat"
        for stream in (False, True):
            response = http.post(url, json={"queries": "q", "stream": stream})
            assert response.status_code == 404
            assert response.headers["content-type"] == "application/json"
            assert response.json() == {"detail": "User with ID 'nobody-xxxxxxxxxxxxxx' not found"}


USER_404 = {"detail": "User with ID 'nobody-xxxxxxxxxxxxxx' not found"}
SESSION_404 = {"detail": "Session not found or does not belong to user"}


def test_unknown_user_or_session_is_404_before_the_missing_model_503(
    server_factory: Callable[..., LiveServer],
) -> None:
    live = server_factory()  # no MINDKEEPER_CHAT_MODEL: resources are still checked first
    with live.client() as http:
        app = http.post("/v1/apps", json={"name": "order"}).json()
        users = f"/v1/apps/{app['id']}/users"
        user = http.post(users, json={"name": "u"}).json()["id"]
        other = http.post(users, json={"name": "o"}).json()["id"]
        theirs = http.post(f"{users}/{other}/sessions", json={}).json()["id"]
        own = http.post(f"{users}/{user}/sessions", json={}).json()["id"]
        cases = [
            (f"{users}/nobody-xxxxxxxxxxxxxx/sessions/{own}/chat", USER_404),
            (f"/v1/apps/nosuchapp/users/nobody-xxxxxxxxxxxxxx/sessions/{own}/chat", USER_404),
            (f"{users}/{user}/sessions/nosuchsession12345678/chat", SESSION_404),
            (f"{users}/{user}/sessions/{theirs}/chat", SESSION_404),  # another user's session
        ]
        for url, detail in cases:
            for stream in (False, True):
                response = http.post(url, json={"queries": "q", "stream": stream})
                assert response.status_code == 404, (url, stream)
                assert response.headers["content-type"] == "application/json"
                assert response.json() == detail
        for stream in (False, True):
            response = http.post(
                f"{users}/{user}/sessions/{own}/chat", json={"queries": "q", "stream": stream}
            )
            assert response.status_code == 503
        # Nothing was written on the way: no reserved collection, no representation note.
        assert http.post(f"{users}/{user}/collections/list", json={}).json()["items"] == []
        assert http.post(f"{users}/{user}/metamessages/list", json={}).json()["items"] == []
    honcho = Honcho(base_url=live.url, max_retries=0)
    with pytest.raises(NotFoundError) as raised:
        honcho.apps.users.sessions.chat(
            app_id=app["id"], user_id=user, session_id=theirs, queries="q"
        )
    assert raised.value.status_code == 404
    honcho.close()


def test_unknown_session_is_404_with_a_model_too(chat_server: LiveServer) -> None:
    with chat_server.client() as http:
        url = _user(http).rsplit("/", 2)[0] + "/nosuchsession12345678/chat"
        for stream in (False, True):
            response = http.post(url, json={"queries": "q", "stream": stream})
            assert response.status_code == 404
            assert response.json() == SESSION_404


def test_without_a_model_chat_is_a_clear_503_naming_the_setting(
    server_factory: Callable[..., LiveServer],
) -> None:
    live = server_factory()  # no MINDKEEPER_CHAT_MODEL
    with live.client() as http:
        url = _user(http)
        for stream in (False, True):
            response = http.post(url, json={"queries": "q", "stream": stream})
            assert response.status_code == 503
            assert response.headers["x-should-retry"] == "false"
            detail = response.json()["detail"]
            assert "MINDKEEPER_CHAT_MODEL" in detail and "MINDKEEPER_DIALECTIC_MODEL" in detail
        status = http.get("/queue/status").json()
        assert status["deriver"]["unavailable"].startswith("the deriver has no chat model")
    honcho = Honcho(base_url=live.url)  # the SDK's retries are steered off by x-should-retry
    app_id, user_id, session_id = url.split("/")[3], url.split("/")[5], url.split("/")[7]
    with pytest.raises(InternalServerError) as raised:
        honcho.apps.users.sessions.chat(
            app_id=app_id, user_id=user_id, session_id=session_id, queries="q"
        )
    assert raised.value.status_code == 503
    honcho.close()


def test_stream_that_breaks_after_the_first_chunk_is_truncated(
    chat_server: LiveServer, fake_models: FakeModelServer
) -> None:
    fake_models.fail(Fault("break", model="fake-dialectic"))
    with chat_server.client() as http:
        url = _user(http)
        with (
            pytest.raises(httpx.HTTPError),
            http.stream("POST", url, json={"queries": "q", "stream": True}) as response,
        ):
            assert response.status_code == 200
            b"".join(response.iter_bytes())
        # The server is still fine afterwards.
        assert http.post(url, json={"queries": "q"}).status_code == 200


def test_anthropic_dialectic_streams(
    server_factory: Callable[..., LiveServer],
    fake_models: FakeModelServer,
    deriver_settings: Callable[..., dict[str, Any]],
) -> None:
    settings = deriver_settings(
        worker_enabled=False,
        dialectic_provider="anthropic",
        dialectic_base_url=fake_models.url,
        dialectic_api_key="sk-ant-test",
    )
    live = server_factory(**settings)
    with live.client() as http:
        url = _user(http)
        with http.stream("POST", url, json={"queries": "q", "stream": True}) as response:
            assert response.status_code == 200
            text = "".join(response.iter_text())
        assert text == "Based on memory: nothing known."
        assert http.post(url, json={"queries": "q"}).json() == {"content": text}
    calls = fake_models.calls_for("fake-dialectic")
    assert [c.protocol for c in calls] == ["anthropic", "anthropic"]
    assert calls[0].body["system"].startswith("You are the memory of an AI application.")
