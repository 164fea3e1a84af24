"""Every modelled constraint at its boundary and one past it, sent as raw HTTP (botocore checks
some of them itself, the server must check all of them), plus what the models leave to the
server (JSON item size, one namespace scope, filters that need a value)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.agentcore.support import assert_error, raw_call

NOW = 1740830400.5


def _event(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "actorId": "a",
        "sessionId": "s",
        "eventTimestamp": NOW,
        "payload": [{"conversational": {"content": {"text": "x"}, "role": "USER"}}],
    }
    body.update(overrides)
    return body


def _text(n: int) -> list[dict[str, Any]]:
    return [{"conversational": {"content": {"text": "x" * n}, "role": "USER"}}]


def _meta(n: int) -> dict[str, Any]:
    return {f"k{i}": {"stringValue": "v"} for i in range(n)}


def _record(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "requestIdentifier": "r",
        "namespaces": ["/n/"],
        "content": {"text": "x"},
        "timestamp": NOW,
    }
    body.update(overrides)
    return body


def _search(**criteria: Any) -> dict[str, Any]:
    return {"namespace": "/n/", "searchCriteria": {"searchQuery": "q", **criteria}}


EVENTS = "/memories/{m}/events"
LIST = "/memories/{m}/actor/a/sessions/s"
RECORDS = "/memories/{m}/memoryRecords"
CREATE = "/memories/{m}/memoryRecords/batchCreate"
RETRIEVE = "/memories/{m}/retrieve"

# (method, path, body, error fragment or None when the request must pass validation)
CASES: list[tuple[str, str, Any, str | None]] = [
    ("POST", EVENTS, _event(actorId="a" * 255), None),
    ("POST", EVENTS, _event(actorId="a" * 256), "length less than or equal to 255"),
    ("POST", EVENTS, _event(actorId="has space"), "regular expression"),
    ("POST", EVENTS, _event(actorId=""), "length greater than or equal to 1"),
    ("POST", EVENTS, _event(sessionId="s" * 100), None),
    ("POST", EVENTS, _event(sessionId="s" * 101), "length less than or equal to 100"),
    ("POST", EVENTS, _event(sessionId="a.b"), "regular expression"),
    ("POST", EVENTS, _event(payload=_text(1) * 100), None),
    ("POST", EVENTS, _event(payload=_text(1) * 101), "length less than or equal to 100"),
    ("POST", EVENTS, _event(payload=[]), None),
    ("POST", EVENTS, _event(payload=_text(100_000)), None),
    ("POST", EVENTS, _event(payload=_text(100_001)), "less than or equal to 100000"),
    ("POST", EVENTS, _event(payload=_text(0)), "greater than or equal to 1"),
    (
        "POST",
        EVENTS,
        _event(payload=[{"conversational": {"content": {"text": "x"}, "role": "BOT"}}]),
        "enum value set",
    ),
    ("POST", EVENTS, _event(payload=[{"json": {"content": "x" * 102_000}}]), None),
    ("POST", EVENTS, _event(payload=[{"json": {"content": "x" * 102_400}}]), "102400 bytes"),
    ("POST", EVENTS, _event(payload=[{"blob": "x", "json": {"content": 1}}]), "exactly one"),
    ("POST", EVENTS, _event(payload=[{}]), "exactly one"),
    ("POST", EVENTS, _event(metadata=_meta(15)), None),
    ("POST", EVENTS, _event(metadata=_meta(16)), "length less than or equal to 15"),
    ("POST", EVENTS, _event(metadata={"k" * 128: {"stringValue": "v"}}), None),
    ("POST", EVENTS, _event(metadata={"k" * 129: {"stringValue": "v"}}), "Map keys"),
    ("POST", EVENTS, _event(metadata={"k": {"stringValue": "v" * 256}}), None),
    ("POST", EVENTS, _event(metadata={"k": {"stringValue": "v" * 257}}), "256"),
    ("POST", EVENTS, _event(metadata={"k": {"stringValue": "ü"}}), "regular expression"),
    ("POST", EVENTS, _event(branch={"name": "b" * 100}), None),
    ("POST", EVENTS, _event(branch={"name": "b" * 101}), "length less than or equal to 100"),
    ("POST", EVENTS, _event(branch={"name": "b", "rootEventId": "abc"}), "regular expression"),
    ("POST", EVENTS, _event(branch={}), "must not be null"),
    ("POST", EVENTS, _event(eventTimestamp="2025-03-01T00:00:00Z"), "epoch seconds"),
    ("POST", EVENTS, _event(eventTimestamp=-1), "between 0 and"),
    ("POST", EVENTS, _event(eventTimestamp=253402300800), "between 0 and"),
    ("POST", EVENTS, _event(eventTimestamp=253402300799.5), None),
    ("POST", EVENTS, _event(extractionMode="ALWAYS"), "enum value set"),
    (
        "POST",
        EVENTS,
        _event(extractionConfig={"namespaceVariables": {f"k{i}": "v" for i in range(6)}}),
        "length less than or equal to 5",
    ),
    (
        "POST",
        EVENTS,
        _event(extractionConfig={"namespaceVariables": {"actorId": "v"}}),
        "Map keys",
    ),
    ("POST", EVENTS, {"actorId": "a", "payload": []}, "eventTimestamp"),
    ("POST", LIST, {"maxResults": 100}, None),
    ("POST", LIST, {"maxResults": 101}, "less than or equal to 100"),
    ("POST", LIST, {"maxResults": 0}, "greater than or equal to 1"),
    ("POST", LIST, {"maxResults": 1.5}, "integer"),
    ("POST", LIST, {"includePayloads": "yes"}, "boolean"),
    (
        "POST",
        LIST,
        {"filter": {"eventMetadata": [{"left": {"metadataKey": "k"}, "operator": "EXISTS"}] * 6}},
        "length less than or equal to 5",
    ),
    ("POST", "/memories/{m}/actors", {"maxResults": 100}, None),
    ("POST", "/memories/{m}/actors", {"maxResults": 101}, "less than or equal to 100"),
    ("POST", "/memories/{m}/extractionJobs", {"maxResults": 50}, None),
    ("POST", "/memories/{m}/extractionJobs", {"maxResults": 51}, "less than or equal to 50"),
    ("POST", "/memories/{m}/extractionJobs", {"filter": {"status": "RUNNING"}}, "enum"),
    ("POST", RETRIEVE, _search(topK=100), None),
    ("POST", RETRIEVE, _search(topK=101), "less than or equal to 100"),
    ("POST", RETRIEVE, _search(searchQuery="q" * 10_000), None),
    ("POST", RETRIEVE, _search(searchQuery="q" * 10_001), "10000"),
    ("POST", RETRIEVE, {"namespace": "/n/"}, "searchCriteria"),
    ("POST", RETRIEVE, {"searchCriteria": {"searchQuery": "q"}}, "Exactly one"),
    (
        "POST",
        RETRIEVE,
        {"namespace": "/" + "n" * 1023, "searchCriteria": {"searchQuery": "q"}},
        None,
    ),
    (
        "POST",
        RETRIEVE,
        {"namespace": "/" + "n" * 1024, "searchCriteria": {"searchQuery": "q"}},
        "1024",
    ),
    ("POST", RETRIEVE, {"namespace": "/a b", "searchCriteria": {"searchQuery": "q"}}, "regular"),
    ("POST", RECORDS, {"namespace": "/n/", "memoryStrategyId": "x" * 101}, "100"),
    ("POST", CREATE, {"records": [_record()] * 100}, None),
    ("POST", CREATE, {"records": [_record()] * 101}, "length less than or equal to 100"),
    ("POST", CREATE, {"records": [_record(content={"text": "x" * 16_000})]}, None),
    ("POST", CREATE, {"records": [_record(content={"text": "x" * 16_001})]}, "16000"),
    ("POST", CREATE, {"records": [_record(requestIdentifier="r" * 80)]}, None),
    ("POST", CREATE, {"records": [_record(requestIdentifier="r" * 81)]}, "80"),
    ("POST", CREATE, {"records": [_record(namespaces=["/a/", "/b/"])]}, "length less than or"),
    (
        "POST",
        CREATE,
        {"records": [_record(metadata={f"k{i}": {"numberValue": i} for i in range(21)})]},
        "20",
    ),
    (
        "POST",
        CREATE,
        {"records": [_record(metadata={"k": {"stringListValue": ["a"] * 6}})]},
        "length less than or equal to 5",
    ),
    (
        "POST",
        CREATE,
        {"records": [], "recordExpirySpecification": {"recordExpiryDurationDays": 30}},
        "greater than or equal to 31",
    ),
    ("GET", "/memories/{m}/memoryRecord/mem-" + "a" * 46, None, None),
    ("GET", "/memories/{m}/memoryRecord/mem-" + "a" * 47, None, "50"),
    ("GET", "/memories/{m}/memoryRecord/mem-" + "a" * 35, None, "40"),
    ("GET", "/memories/{m}/memoryRecord/xyz-" + "a" * 36, None, "regular expression"),
    ("GET", "/memories/{m}/actor/a/sessions/s/events/abc", None, "regular expression"),
    ("POST", "/memories/short/events", _event(), "greater than or equal to 12"),
    ("POST", "/memories/has space-AAAAAAAAAA/events", _event(), "regular expression"),
]


@pytest.mark.parametrize(("method", "path", "body", "problem"), CASES)
def test_constraint_at_its_boundary(
    http: Any, memory: str, method: str, path: str, body: Any, problem: str | None
) -> None:
    response = raw_call(http, method, path.format(m=memory), body)
    if problem is None:
        assert response.status_code < 400 or response.status_code == 404, response.text
        return
    assert_error(response, "ValidationException", 400, problem)
    payload = response.json()
    assert payload["reason"] == "FieldValidationFailed"


CONTROL_CASES: list[tuple[str, str, Any, str]] = [
    ("POST", "/memories/create", {"name": "n_1", "eventExpiryDuration": 2}, "3"),
    ("POST", "/memories/create", {"name": "n_2", "eventExpiryDuration": 3651}, "3650"),
    (
        "POST",
        "/memories/create",
        {"name": "n_3", "eventExpiryDuration": 3, "description": ""},
        "greater than or equal to 1",
    ),
    (
        "POST",
        "/memories/create",
        {"name": "n_4", "eventExpiryDuration": 3, "description": "d" * 4097},
        "4096",
    ),
    (
        "POST",
        "/memories/create",
        {"name": "n_5", "eventExpiryDuration": 3, "tags": {f"k{i}": "v" for i in range(51)}},
        "50",
    ),
    (
        "POST",
        "/memories/create",
        {"name": "n_6", "eventExpiryDuration": 3, "clientToken": "t" * 501},
        "500",
    ),
    (
        "POST",
        "/memories/create",
        {
            "name": "n_7",
            "eventExpiryDuration": 3,
            "memoryStrategies": [
                {"semanticMemoryStrategy": {"name": "s", "namespaceTemplates": ["/" + "a" * 512]}}
            ],
        },
        "512",
    ),
    (
        "POST",
        "/memories/create",
        {
            "name": "n_8",
            "eventExpiryDuration": 3,
            "memoryStrategies": [
                {"semanticMemoryStrategy": {"name": "s"}, "summaryMemoryStrategy": {"name": "t"}}
            ],
        },
        "exactly one",
    ),
    (
        "POST",
        "/memories/create",
        {"name": "n_9", "eventExpiryDuration": 3, "namespaceKeys": [{"key": "sessionId"}]},
        "regular expression",
    ),
    (
        "POST",
        "/memories/create",
        {"name": "n_10", "eventExpiryDuration": 3, "encryptionKeyArn": "not-an-arn"},
        "regular expression",
    ),
    ("GET", "/memories/bad/details", None, "12"),
    ("GET", "/memories/abc_def-AAAAAAAAAA/details?view=partial", None, "enum"),
    ("POST", "/memories/", {"maxResults": 101}, "100"),
    ("DELETE", "/memories/abc_def-AAAAAAAAAA/delete?clientToken=" + "t" * 501, None, "500"),
]


@pytest.mark.parametrize(("method", "path", "body", "problem"), CONTROL_CASES)
def test_control_plane_constraints(
    http: Any, method: str, path: str, body: Any, problem: str
) -> None:
    assert_error(raw_call(http, method, path, body), "ValidationException", 400, problem)
