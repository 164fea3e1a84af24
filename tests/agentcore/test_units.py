"""Units of the model-driven wire layer and the AgentCore identifiers."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from mindkeeper.core.services.agentcore import namespaces
from mindkeeper.core.values import new_id
from mindkeeper.errors import NotFound
from mindkeeper.http.agentcore import ids
from mindkeeper.http.agentcore.surface import build_router
from mindkeeper.http.aws.model import NoRoute, operation, segments
from mindkeeper.http.aws.pagination import BadToken, Tokens, scope_of
from mindkeeper.http.aws.shapes import RequestInvalid, epoch, from_epoch, parse_request
from mindkeeper.storage.repositories.agentcore_records import collection_name, normalise


def test_identifiers_round_trip_and_refuse_made_up_ones() -> None:
    public = new_id()
    event = ids.event_id(public)
    assert ids.message_id(event) == public
    digits, _, spelled = event.partition("#")
    assert ids.message_id(f"{int(digits) + 1}#{spelled}") is None
    assert ids.message_id("123#zz") is None
    record = ids.record_id(public)
    assert len(record) == 40 and ids.document_id(record) == public
    assert ids.document_id(record[:-1] + ("A" if record[-1] != "A" else "B")) is None
    assert ids.job_key(ids.job_id(42)) == 42 and ids.job_key("job-x") is None


def test_memory_arns_resolve_only_at_home() -> None:
    home = ids.Home("aws", "us-east-1", "123456789012")
    arn = home.memory_arn("m_1-AAAAAAAAAA")
    assert home.memory(arn) == "m_1-AAAAAAAAAA"
    assert home.memory("m_1-AAAAAAAAAA") == "m_1-AAAAAAAAAA"
    with pytest.raises(NotFound):
        home.memory(arn.replace("123456789012", "000000000000"))
    with pytest.raises(NotFound):
        home.taggable(arn.replace(":memory/", ":runtime/"))


def test_router_prefers_literals_and_keeps_encoded_labels_whole() -> None:
    router = build_router()
    op, labels = router.match("POST", segments("/memories/create"))
    assert op.name == "CreateMemory" and labels == {}
    op, labels = router.match("POST", segments("/memories/"))
    assert op.name == "ListMemories"
    path = "/memories/m_1-AAAAAAAAAA/actor/user%2Fada%3Ax/sessions/s/events/1%23ab"
    op, labels = router.match("GET", segments(path))
    assert op.name == "GetEvent"
    assert labels == {
        "memoryId": "m_1-AAAAAAAAAA",
        "actorId": "user/ada:x",
        "sessionId": "s",
        "eventId": "1#ab",
    }
    arn = "arn:aws:bedrock-agentcore:us-east-1:123456789012:memory/m_1-AAAAAAAAAA"
    op, labels = router.match("POST", segments(f"/memories/{arn}/events"))
    assert op.name == "CreateEvent" and labels["memoryId"] == arn
    with pytest.raises(NoRoute):
        router.match("PATCH", segments("/memories/x/events"))


def test_patterns_read_as_java_does() -> None:
    shape = operation("bedrock-agentcore", "CreateEvent").input
    base = {"actorId": "a", "eventTimestamp": 1.5, "payload": []}

    def parse(**body: object) -> dict[str, object]:
        return parse_request(shape, {"memoryId": "m_1-AAAAAAAAAA"}, {}, {}, orjson.dumps(body))

    ok = parse(**base, metadata={"k": {"stringValue": "a b\tc"}})
    assert ok["metadata"] == {"k": {"stringValue": "a b\tc"}}
    with pytest.raises(RequestInvalid):  # \s is ASCII whitespace only
        parse(**base, metadata={"k": {"stringValue": "a\u00a0b"}})
    with pytest.raises(RequestInvalid):  # `0-9-_` ends a range: `:` is not in it
        parse(**{**base, "sessionId": "a:b"})


def test_timestamps_keep_microseconds() -> None:
    moment = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert from_epoch(epoch(moment)) == moment


def test_tokens_are_bound_and_checked() -> None:
    tokens = Tokens(b"k")
    token = tokens.encode("events", scope_of("a", 1), ["2025-01-01T00:00:00+00:00", 5])
    assert tokens.decode(token, "events", scope_of("a", 1)) == ["2025-01-01T00:00:00+00:00", 5]
    for bad in (token[:-1], token + "A", "x", ""):
        with pytest.raises(BadToken):
            tokens.decode(bad, "events", scope_of("a", 1))
    with pytest.raises(BadToken):
        tokens.decode(token, "events", scope_of("a", 2))
    with pytest.raises(BadToken):
        Tokens(b"other").decode(token, "events", scope_of("a", 1))


def test_namespaces_resolve_and_normalise() -> None:
    template = "/t/{tenant}/{actorId}/{sessionId}/{memoryStrategyId}/{strategyId}"
    resolved = namespaces.resolve(template, "ada", "s1", "facts-X", {"tenant": "acme"})
    assert resolved == "/t/acme/ada/s1/facts-X/facts-X"
    assert namespaces.custom_variables([template]) == {"tenant"}
    assert normalise("/a/b") == normalise("/a/b/") == "/a/b/"
    long = "/" + "n" * 1000
    assert collection_name(long).startswith(normalise(long)[:480] + "#")
    assert collection_name(long) != collection_name(long + "x")
