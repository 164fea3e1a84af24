"""Ports of the language models: chat completion (whole or streamed), roles and usage counters.

A `ChatModel` is one model behind one endpoint. Providers retry 429s, 5xx and timeouts
themselves (with backoff) before raising `ModelError`; a `ModelError` that is `retryable`
may succeed later (the deriver's queue retries the job), one that is not will not succeed
without a change of configuration (bad key, unknown model). A model's reply that cannot be
parsed raises `MalformedOutput`, which the queue also retries.

Roles: the deriver extracts facts, the summariser writes rolling summaries, the dialectic
answers questions about a peer. Each role may use its own model; a role without one is off,
and using it raises `ModelNotConfigured` naming the setting to set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from mindkeeper.errors import Unavailable

Role = Literal["deriver", "summary", "dialectic"]
ROLES: tuple[Role, ...] = ("deriver", "summary", "dialectic")


class ModelError(Unavailable):
    """A model provider failed (after its own retries)."""

    def __init__(self, message: str, *, retryable: bool = True, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class MalformedOutput(ModelError):
    """The model answered, but not in the shape the prompt asked for."""


class ModelNotConfigured(Unavailable):
    """No model is configured for a role; the message names the setting."""


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of a prompt."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class Prompt:
    """A system text and the turns that follow it."""

    system: str
    messages: tuple[ChatMessage, ...]
    max_tokens: int = 1000
    temperature: float = 0.0


@dataclass(frozen=True, slots=True)
class Completion:
    """A whole answer with its token counts (0 when the provider did not say)."""

    text: str
    input_tokens: int = 0
    output_tokens: int = 0


class ChatModel(Protocol):
    """A chat model behind an HTTP endpoint."""

    #: Provider and model, e.g. ``openai:gpt-4o-mini`` or ``anthropic:claude-3-5-haiku-latest``.
    model_id: str

    async def complete(self, prompt: Prompt) -> Completion:
        """Return the whole answer; ModelError when the provider fails after retries."""
        ...

    def stream(self, prompt: Prompt) -> AsyncIterator[str]:
        """Yield the answer's text deltas; retries happen only before the first delta."""
        ...

    async def aclose(self) -> None:
        """Close the model's HTTP connections."""
        ...


@dataclass(frozen=True, slots=True)
class ModelRoles:
    """The chat model of each role (None: the role is off) and the setting that configures it."""

    deriver: ChatModel | None = None
    summary: ChatModel | None = None
    dialectic: ChatModel | None = None

    def get(self, role: Role) -> ChatModel | None:
        """Return the role's model, or None."""
        model: ChatModel | None = getattr(self, role)
        return model

    def require(self, role: Role) -> ChatModel:
        """Return the role's model or raise ModelNotConfigured naming the settings."""
        model = self.get(role)
        if model is None:
            raise ModelNotConfigured(not_configured_message(role))
        return model

    def distinct(self) -> list[ChatModel]:
        """Every configured model once (roles may share one)."""
        seen: dict[int, ChatModel] = {}
        for role in ROLES:
            model = self.get(role)
            if model is not None:
                seen.setdefault(id(model), model)
        return list(seen.values())


def not_configured_message(role: Role) -> str:
    """The error text for a role without a model."""
    what = {
        "deriver": "the deriver (fact extraction)",
        "summary": "summaries",
        "dialectic": "the dialectic chat",
    }[role]
    return (
        f"No chat model is configured for {what}: set MINDKEEPER_CHAT_MODEL "
        f"(or MINDKEEPER_{role.upper()}_MODEL) and, for a server other than OpenAI, "
        "MINDKEEPER_CHAT_BASE_URL; see docs/models.md"
    )


@dataclass(slots=True)
class ModelUsage:
    """Counters of one model since the process started."""

    requests: int = 0
    retries: int = 0
    failures: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class UsageListener(Protocol):
    """Told of every count a `UsageMeter` makes (metrics exporters listen)."""

    def on_request(self, model_id: str, input_tokens: int, output_tokens: int, cost: float) -> None:
        """A successful request, its tokens and its cost in USD (0 when unpriced)."""
        ...

    def on_retry(self, model_id: str) -> None:
        """One retried attempt."""
        ...

    def on_failure(self, model_id: str) -> None:
        """A request that failed for good."""
        ...


@dataclass(slots=True)
class UsageMeter:
    """Token, request and cost counters per model id (one process; the event loop is the lock).

    `prices` maps a model name (or full model id) to USD per million (input, output) tokens.
    `listeners` are told of every count as it is made.
    """

    prices: dict[str, tuple[float, float]] = field(default_factory=dict)
    models: dict[str, ModelUsage] = field(default_factory=dict)
    listeners: list[UsageListener] = field(default_factory=list)

    def _usage(self, model_id: str) -> ModelUsage:
        return self.models.setdefault(model_id, ModelUsage())

    def record(self, model_id: str, input_tokens: int, output_tokens: int) -> None:
        """Count a successful request and its tokens (and their cost when priced)."""
        usage = self._usage(model_id)
        usage.requests += 1
        usage.input_tokens += input_tokens
        usage.output_tokens += output_tokens
        price = self.prices.get(model_id) or self.prices.get(model_id.split(":", 1)[-1])
        cost = 0.0
        if price is not None:
            cost = (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000
            usage.cost_usd += cost
        for listener in self.listeners:
            listener.on_request(model_id, input_tokens, output_tokens, cost)

    def record_retry(self, model_id: str) -> None:
        """Count one retried attempt."""
        self._usage(model_id).retries += 1
        for listener in self.listeners:
            listener.on_retry(model_id)

    def record_failure(self, model_id: str) -> None:
        """Count a request that failed for good."""
        self._usage(model_id).failures += 1
        for listener in self.listeners:
            listener.on_failure(model_id)

    def snapshot(self) -> dict[str, dict[str, float | int]]:
        """Return the counters as plain data, by model id."""
        return {
            model_id: {
                "requests": u.requests,
                "retries": u.retries,
                "failures": u.failures,
                "input_tokens": u.input_tokens,
                "output_tokens": u.output_tokens,
                "cost_usd": round(u.cost_usd, 6),
            }
            for model_id, u in sorted(self.models.items())
        }


@dataclass(frozen=True, slots=True)
class DialecticPolicy:
    """Knobs of the dialectic chat."""

    max_facts: int = 10
    fact_max_distance: float = 0.85
    context_messages: int = 20
    max_tokens: int = 1000
