"""The OpenAI-compatible chat and embeddings clients against the fake server, over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

from mindkeeper.core.ports.models import (
    ChatMessage,
    MalformedOutput,
    ModelError,
    Prompt,
    UsageMeter,
)
from mindkeeper.providers.embedding.openai_compat import OpenAICompatEmbedder
from mindkeeper.providers.llm.base import HttpPolicy
from mindkeeper.providers.llm.openai_compat import OpenAICompatChatModel
from tests.deriver.fakes import FakeModelServer, Fault, fake_embedding

PROMPT = Prompt("Be brief.", (ChatMessage("user", "Say hello"),), max_tokens=50)
FAST = HttpPolicy(timeout=2.0, max_retries=2, retry_base=0.01, retry_max=0.05)


@pytest.fixture
def fake() -> Iterator[FakeModelServer]:
    server = FakeModelServer().start()
    server.responders["m"] = lambda _text: "Hello there, friend."
    yield server
    server.stop()


def _model(
    fake: FakeModelServer, meter: UsageMeter, policy: HttpPolicy = FAST
) -> OpenAICompatChatModel:
    return OpenAICompatChatModel(
        "m", base_url=fake.openai_url, api_key="sk-test", policy=policy, meter=meter
    )


async def test_complete_sends_the_prompt_and_counts_tokens(fake: FakeModelServer) -> None:
    meter = UsageMeter({"m": (1.0, 2.0)})
    model = _model(fake, meter)
    answer = await model.complete(PROMPT)
    await model.aclose()
    assert answer.text == "Hello there, friend."
    assert (answer.input_tokens, answer.output_tokens) == (11, 3)
    (call,) = fake.calls
    assert call.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello"},
    ]
    assert (call.body["max_tokens"], call.body["temperature"], call.stream) == (50, 0.0, False)
    usage = meter.snapshot()["openai:m"]
    assert usage["requests"] == 1 and usage["input_tokens"] == 11
    assert usage["cost_usd"] == pytest.approx((11 * 1.0 + 3 * 2.0) / 1e6)


async def test_stream_yields_deltas_and_reads_usage(fake: FakeModelServer) -> None:
    meter = UsageMeter()
    model = _model(fake, meter)
    chunks = [c async for c in model.stream(PROMPT)]
    await model.aclose()
    assert chunks == ["Hello ", "there, ", "friend."]
    assert fake.calls[0].body["stream"] is True
    assert meter.snapshot()["openai:m"]["output_tokens"] == 3


async def test_500_and_429_are_retried(fake: FakeModelServer) -> None:
    fake.fail(Fault("status", 500), Fault("status", 429, headers={"retry-after": "0"}))
    meter = UsageMeter()
    model = _model(fake, meter)
    assert (await model.complete(PROMPT)).text == "Hello there, friend."
    fake.fail(Fault("status", 503))
    assert "".join([c async for c in model.stream(PROMPT)]) == "Hello there, friend."
    await model.aclose()
    usage = meter.snapshot()["openai:m"]
    assert (usage["retries"], usage["failures"], usage["requests"]) == (3, 0, 2)


async def test_retries_run_out_with_a_clear_error(fake: FakeModelServer) -> None:
    fake.fail(*[Fault("status", 502, body="upstream down") for _ in range(3)])
    meter = UsageMeter()
    model = _model(fake, meter)
    with pytest.raises(ModelError) as raised:
        await model.complete(PROMPT)
    await model.aclose()
    assert raised.value.retryable and raised.value.status == 502
    assert "HTTP 502" in raised.value.message and "upstream down" in raised.value.message
    assert "sk-test" not in raised.value.message
    assert meter.snapshot()["openai:m"]["failures"] == 1


async def test_client_errors_are_not_retried(fake: FakeModelServer) -> None:
    fake.fail(Fault("status", 401, body='{"error": "invalid key"}'))
    model = _model(fake, UsageMeter())
    with pytest.raises(ModelError) as raised:
        await model.complete(PROMPT)
    await model.aclose()
    assert not raised.value.retryable and raised.value.status == 401
    assert len(fake.calls) == 1


async def test_a_hang_times_out(fake: FakeModelServer) -> None:
    release = threading.Event()
    fake.fail(Fault("hang", seconds=5, release=release))
    model = _model(fake, UsageMeter(), HttpPolicy(timeout=0.2, max_retries=0))
    # Without the timeout the call would wait for the release and then succeed.
    with pytest.raises(ModelError, match=r"no answer within 0\.2 s"):
        await model.complete(PROMPT)
    release.set()
    fake.fail(Fault("hang", seconds=5, release=release))
    release.clear()
    with pytest.raises(ModelError, match=r"no answer within 0\.2 s"):
        [c async for c in model.stream(PROMPT)]
    release.set()
    await model.aclose()


@pytest.mark.parametrize(
    "body", ["not json", '["a list"]', '{"choices": []}', '{"choices": [{"message": 5}]}']
)
async def test_malformed_bodies(fake: FakeModelServer, body: str) -> None:
    fake.fail(Fault("malformed", body=body))
    model = _model(fake, UsageMeter())
    with pytest.raises(MalformedOutput):
        await model.complete(PROMPT)
    await model.aclose()


async def test_a_stream_that_breaks_raises(fake: FakeModelServer) -> None:
    fake.fail(Fault("break"))
    model = _model(fake, UsageMeter())
    received: list[str] = []
    with pytest.raises(ModelError, match="stream broken"):
        async for chunk in model.stream(PROMPT):
            received.append(chunk)
    await model.aclose()
    assert received == ["Hello "]


async def test_embeddings_are_ordered_normalised_and_batched(fake: FakeModelServer) -> None:
    meter = UsageMeter()
    embedder = OpenAICompatEmbedder(
        "emb", base_url=fake.openai_url, batch_size=2, policy=FAST, meter=meter
    )
    texts = ["the cat", "a dog", "the cat sat", "cars"]
    vectors = await embedder.embed(texts)
    await embedder.aclose()
    assert vectors.shape == (4, embedder.dim) and vectors.dtype == np.float32
    expected = np.asarray([fake_embedding(t) for t in texts], dtype=np.float32)
    np.testing.assert_allclose(vectors, expected, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert fake.embedding_calls == 2 and embedder.model_id == "emb"
    assert meter.snapshot()["emb"]["input_tokens"] == 8


async def test_embeddings_refuse_a_changed_dimension(fake: FakeModelServer) -> None:
    embedder = OpenAICompatEmbedder("emb", base_url=fake.openai_url, dimensions=8, policy=FAST)
    with pytest.raises(MalformedOutput, match="expected 8"):
        await embedder.embed(["x"])
    await embedder.aclose()
