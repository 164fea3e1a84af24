"""Checks of /openapi.json against a live server, shared by the Honcho suites.

A suite picks the paths it answers for (`in_scope`) and an exercise that calls each of its
operations once through a `Recorder`; `exercise_and_check` runs it against `openapi_server`
(a fixture every suite sees: the root conftest loads this module as a plugin) and checks what
it saw: every response must be described by the document (status, media type, and for JSON a
body that validates against the schema) and every documented operation of the scope must have
answered with a success at least once. Schemas are made strict before validating (every
object that lists its properties refuses others), so a key the server sends without
documenting it fails too.
"""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mindkeeper.bootstrap import build_runtime
from mindkeeper.core.ports.models import Completion, Prompt
from mindkeeper.core.services import keys
from mindkeeper.core.values import utcnow
from mindkeeper.providers.secrets import JwtCodec
from tests.conftest import LiveServer, make_settings, start_server

JWT_SECRET = "openapi-test-secret-" + "x" * 40
DOCUMENT_URI = "urn:mindkeeper:openapi"
METHODS = ("get", "put", "post", "delete", "patch")
SUCCESS = ("200", "201", "202", "204")

#: Which documented paths a suite answers for.
Scope = Callable[[str], bool]

FORMATS = FormatChecker(())


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """RFC 3339 date-times carry a zone (`Z` or an offset)."""
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


class CannedChat:
    """A chat model that answers every prompt with the same words (whole or streamed)."""

    model_id = "fake:canned"

    async def complete(self, prompt: Prompt) -> Completion:
        """The whole answer."""
        return Completion("Nothing is known about the user yet.")

    async def stream(self, prompt: Prompt) -> AsyncIterator[str]:
        """The answer in two chunks."""
        yield "Nothing is known "
        yield "about the user yet."

    async def aclose(self) -> None:
        """Nothing to close."""


@pytest.fixture
def openapi_server(database_url: str, embedder: Any) -> Iterator[LiveServer]:
    """A live server with authentication on (the keys routes need it) and a chat model."""
    settings = make_settings(
        database_url, auth_enabled=True, auth_jwt_secret=JWT_SECRET, worker_enabled=False
    )
    server, stop = start_server(
        settings, build_runtime(settings, embedder=embedder, chat_model=CannedChat())
    )
    yield server
    stop()


def exercise_and_check(
    server: LiveServer, exercise: Callable[[Recorder], None], in_scope: Scope
) -> None:
    """Run `exercise` with an admin key against an `openapi_server`, then `check_recorded`."""
    token = keys.mint_admin(JwtCodec(JWT_SECRET), utcnow()).token
    with server.client(headers={"Authorization": f"Bearer {token}"}) as client:
        document = client.get("/openapi.json").json()
        recorder = Recorder(client)
        exercise(recorder)
    check_recorded(document, recorder.seen, in_scope)


def operations(document: dict[str, Any], in_scope: Scope) -> Iterator[tuple[str, str, Any]]:
    """(method, path, operation) of every documented operation in scope."""
    for path, item in document["paths"].items():
        if not in_scope(path):
            continue
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def undescribed(document: dict[str, Any], in_scope: Scope) -> list[str]:
    """Operations in scope whose success response has no schema (a 204 needs none)."""
    missing = []
    for method, path, operation in operations(document, in_scope):
        success = {c: r for c, r in operation["responses"].items() if c in SUCCESS}
        described = [
            code == "204" or any(media.get("schema") for media in r.get("content", {}).values())
            for code, r in success.items()
        ]
        if not described or not all(described):
            missing.append(f"{method} {path}")
    return missing


class Recorder:
    """An HTTP client that keeps every response it gets."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.seen: list[httpx.Response] = []

    def call(self, method: str, url: str, status: int = 200, **kwargs: Any) -> Any:
        """Send a request, check its status, keep the response, return the JSON body."""
        response = self.client.request(method, url, **kwargs)
        assert response.status_code == status, (method, url, response.status_code, response.text)
        self.seen.append(response)
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def _strict(node: Any) -> Any:
    """A copy of a schema tree where objects with listed properties refuse any others."""
    if isinstance(node, list):
        return [_strict(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items()}
    if isinstance(node.get("properties"), dict) and "additionalProperties" not in node:
        out["additionalProperties"] = False
    return out


def _matcher(document: dict[str, Any], in_scope: Scope) -> list[tuple[str, Any, str, int]]:
    """(method, pattern, path template, literal segments) of every documented operation."""
    out = []
    for method, path, _ in operations(document, in_scope):
        segments = path.strip("/").split("/")
        regex = "/".join("[^/]+" if s.startswith("{") else re.escape(s) for s in segments)
        literals = sum(not s.startswith("{") for s in segments)
        out.append((method, re.compile(f"^/{regex}$"), path, literals))
    return out


def _template(matchers: list[tuple[str, Any, str, int]], method: str, path: str) -> str:
    """The documented path a request was routed to (literal segments win, as in routing)."""
    found = [(lit, tpl) for m, rx, tpl, lit in matchers if m == method and rx.match(path)]
    assert found, f"{method} {path} is not in the document"
    return str(max(found)[1])


def check_recorded(document: dict[str, Any], seen: list[httpx.Response], in_scope: Scope) -> None:
    """Every response is described and valid; every operation in scope answered a success."""
    strict = _strict(copy.deepcopy(document))
    registry: Registry[Any] = Registry().with_resource(
        DOCUMENT_URI, Resource(contents=strict, specification=DRAFT202012)
    )
    matchers = _matcher(document, in_scope)
    answered: set[tuple[str, str]] = set()
    for response in seen:
        method, path = response.request.method, response.request.url.path
        template = _template(matchers, method, path)
        status = str(response.status_code)
        described = document["paths"][template][method.lower()]["responses"]
        assert status in described, (method, template, status)
        content = described[status].get("content", {})
        if status == "204":
            assert response.content == b"" and content == {}, (method, template)
        else:
            media = response.headers["content-type"].split(";")[0]
            assert media in content, (method, template, media)
            if media == "application/json":
                where = _pointer(
                    "paths", template, method.lower(), "responses", status, "content", media
                )
                validator = Draft202012Validator(
                    {"$ref": f"{DOCUMENT_URI}#{where}/schema"},
                    registry=registry,
                    format_checker=FORMATS,
                )
                errors = [
                    f"{list(e.absolute_path)}: {e.message}"
                    for e in validator.iter_errors(response.json())
                ]
                assert errors == [], (method, template, errors)
        if status in SUCCESS:
            answered.add((method, template))

    documented = {(method, path) for method, path, _ in operations(document, in_scope)}
    assert documented - answered == set(), "operations the exercise never reached"
