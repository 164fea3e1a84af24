"""Chat-model providers: OpenAI-compatible chat completions and Anthropic's Messages API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mindkeeper.core.ports.models import ChatModel, UsageMeter
from mindkeeper.providers.llm.base import HttpPolicy

Provider = Literal["openai", "anthropic"]


@dataclass(frozen=True, slots=True)
class ChatModelSpec:
    """Which model at which endpoint; two roles with equal specs share one client."""

    provider: Provider
    model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)


def build_chat_model(spec: ChatModelSpec, policy: HttpPolicy, meter: UsageMeter) -> ChatModel:
    """Return the provider client for a spec."""
    if spec.provider == "anthropic":
        from mindkeeper.providers.llm.anthropic import DEFAULT_BASE_URL, AnthropicChatModel

        return AnthropicChatModel(
            spec.model,
            base_url=spec.base_url or DEFAULT_BASE_URL,
            api_key=spec.api_key,
            policy=policy,
            meter=meter,
        )
    from mindkeeper.providers.llm.openai_compat import DEFAULT_BASE_URL as OPENAI_URL
    from mindkeeper.providers.llm.openai_compat import OpenAICompatChatModel

    return OpenAICompatChatModel(
        spec.model,
        base_url=spec.base_url or OPENAI_URL,
        api_key=spec.api_key,
        policy=policy,
        meter=meter,
    )
