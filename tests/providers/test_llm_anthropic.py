"""The Anthropic Messages client against the fake server, streaming included."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mindkeeper.core.ports.models import (
    ChatMessage,
    MalformedOutput,
    ModelError,
    Prompt,
    UsageMeter,
)
from mindkeeper.providers.llm.anthropic import AnthropicChatModel, normalise_base_url
from mindkeeper.providers.llm.base import HttpPolicy
from tests.deriver.fakes import FakeModelServer, Fault

PROMPT = Prompt(
    "You are terse.",
    (ChatMessage("user", "Hi"), ChatMessage("assistant", "Hello"), ChatMessage("user", "Bye")),
    max_tokens=64,
)
FAST = HttpPolicy(timeout=2.0, max_retries=2, retry_base=0.01, retry_max=0.05)


@pytest.fixture
def fake() -> Iterator[FakeModelServer]:
    server = FakeModelServer().start()
    server.responders["claude-test"] = lambda _text: "Goodbye for now."
    yield server
    server.stop()


def _model(fake: FakeModelServer, meter: UsageMeter) -> AnthropicChatModel:
    return AnthropicChatModel(
        "claude-test", base_url=fake.url + "/v1", api_key="sk-ant", policy=FAST, meter=meter
    )


def test_base_url_with_or_without_v1() -> None:
    assert normalise_base_url("https://api.anthropic.com/v1/") == "https://api.anthropic.com"
    assert normalise_base_url("http://proxy:8080") == "http://proxy:8080"


async def test_complete(fake: FakeModelServer) -> None:
    meter = UsageMeter()
    model = _model(fake, meter)
    answer = await model.complete(PROMPT)
    await model.aclose()
    assert answer.text == "Goodbye for now."
    assert (answer.input_tokens, answer.output_tokens) == (13, 3)
    (call,) = fake.calls
    assert call.protocol == "anthropic"
    assert call.body["system"] == "You are terse."
    assert [m["role"] for m in call.body["messages"]] == ["user", "assistant", "user"]
    assert call.body["max_tokens"] == 64
    assert meter.snapshot()["anthropic:claude-test"]["requests"] == 1


async def test_stream_reads_named_events(fake: FakeModelServer) -> None:
    meter = UsageMeter()
    model = _model(fake, meter)
    chunks = [c async for c in model.stream(PROMPT)]
    await model.aclose()
    assert chunks == ["Goodbye ", "for ", "now."]
    usage = meter.snapshot()["anthropic:claude-test"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (13, 3)


async def test_overloaded_529_is_retried(fake: FakeModelServer) -> None:
    fake.fail(Fault("status", 529, body='{"type":"error","error":{"type":"overloaded_error"}}'))
    meter = UsageMeter()
    model = _model(fake, meter)
    assert "".join([c async for c in model.stream(PROMPT)]) == "Goodbye for now."
    await model.aclose()
    assert meter.snapshot()["anthropic:claude-test"]["retries"] == 1


async def test_errors(fake: FakeModelServer) -> None:
    model = _model(fake, UsageMeter())
    fake.fail(Fault("status", 400, body='{"type":"error","error":{"message":"bad"}}'))
    with pytest.raises(ModelError) as raised:
        await model.complete(PROMPT)
    assert raised.value.status == 400 and not raised.value.retryable
    fake.fail(Fault("malformed", body='{"type": "message"}'))
    with pytest.raises(MalformedOutput):
        await model.complete(PROMPT)
    fake.fail(Fault("break"))
    with pytest.raises(ModelError, match="stream broken"):
        [c async for c in model.stream(PROMPT)]
    await model.aclose()
