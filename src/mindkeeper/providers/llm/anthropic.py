"""Chat models over Anthropic's Messages API (`POST {base_url}/v1/messages`).

Streaming reads the named events: `message_start` (input tokens), `content_block_delta` with
`text_delta` (the text), `message_delta` (output tokens), `message_stop`, and `error`
(`overloaded_error`, `rate_limit_error` and `api_error` are worth retrying later).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from mindkeeper.core.ports.models import Completion, MalformedOutput, Prompt, UsageMeter
from mindkeeper.providers.llm.base import HttpModelClient, HttpPolicy

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
_RETRYABLE_ERRORS = frozenset({"overloaded_error", "rate_limit_error", "api_error"})


def normalise_base_url(base_url: str) -> str:
    """Accept the base with or without its `/v1` suffix."""
    base = base_url.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


class AnthropicChatModel:
    """`ChatModel` over the Messages API."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        policy: HttpPolicy | None = None,
        meter: UsageMeter | None = None,
    ) -> None:
        self.model = model
        self.model_id = f"anthropic:{model}"
        headers = {"anthropic-version": API_VERSION}
        if api_key:
            headers["x-api-key"] = api_key
        self.http = HttpModelClient(
            provider="anthropic",
            model_id=self.model_id,
            base_url=normalise_base_url(base_url),
            headers=headers,
            policy=policy or HttpPolicy(),
            meter=meter or UsageMeter(),
        )

    def _body(self, prompt: Prompt, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": prompt.max_tokens,
            "temperature": prompt.temperature,
            "messages": [{"role": m.role, "content": m.content} for m in prompt.messages],
        }
        if prompt.system:
            body["system"] = prompt.system
        if stream:
            body["stream"] = True
        return body

    async def complete(self, prompt: Prompt) -> Completion:
        """Return the whole answer (the text blocks joined)."""
        data = await self.http.post_json("/v1/messages", self._body(prompt, stream=False))
        if data.get("type") == "error":
            raise self._error_event(data)
        blocks = data.get("content")
        if not isinstance(blocks, list):
            raise MalformedOutput(f"anthropic model {self.model_id}: the response has no content")
        text = "".join(
            b.get("text", "") for b in blocks if isinstance(b, dict) and b.get("type") == "text"
        )
        usage = data.get("usage") or {}
        completion = Completion(
            text=text,
            input_tokens=int(usage.get("input_tokens") or 0),
            output_tokens=int(usage.get("output_tokens") or 0),
        )
        self.http.meter.record(self.model_id, completion.input_tokens, completion.output_tokens)
        return completion

    def _error_event(self, event: dict[str, Any]) -> Exception:
        error = event.get("error") or {}
        kind = error.get("type", "error") if isinstance(error, dict) else "error"
        message = error.get("message", "") if isinstance(error, dict) else str(error)
        return self.http.error(f"{kind}: {message}", retryable=kind in _RETRYABLE_ERRORS)

    async def stream(self, prompt: Prompt) -> AsyncIterator[str]:
        """Yield text deltas as they arrive."""
        input_tokens = output_tokens = 0
        async with self.http.post_stream("/v1/messages", self._body(prompt, stream=True)) as resp:
            async for event in self.http.sse_data(resp):
                kind = event.get("type")
                if kind == "content_block_delta":
                    delta = event.get("delta") or {}
                    if delta.get("type") == "text_delta" and delta.get("text"):
                        yield str(delta["text"])
                elif kind == "message_start":
                    usage = (event.get("message") or {}).get("usage") or {}
                    input_tokens = int(usage.get("input_tokens") or 0)
                elif kind == "message_delta":
                    usage = event.get("usage") or {}
                    output_tokens = int(usage.get("output_tokens") or output_tokens)
                elif kind == "message_stop":
                    break
                elif kind == "error":
                    raise self._error_event(event)
        self.http.meter.record(self.model_id, input_tokens, output_tokens)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.http.aclose()
