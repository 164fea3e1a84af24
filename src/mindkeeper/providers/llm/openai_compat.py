"""Chat models over the OpenAI-compatible chat-completions protocol.

One client covers OpenAI, Ollama (`http://localhost:11434/v1`), vLLM, llama.cpp's server,
LM Studio and OpenRouter: `POST {base_url}/chat/completions` with a bearer key (optional for
local servers). Streaming reads `data:` events up to `data: [DONE]`; token counts come from
`usage` (asked for with `stream_options.include_usage`; servers that ignore it count 0).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from mindkeeper.core.ports.models import Completion, MalformedOutput, Prompt, UsageMeter
from mindkeeper.providers.llm.base import HttpModelClient, HttpPolicy

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def _messages(prompt: Prompt) -> list[dict[str, str]]:
    turns = [{"role": "system", "content": prompt.system}] if prompt.system else []
    turns.extend({"role": m.role, "content": m.content} for m in prompt.messages)
    return turns


class OpenAICompatChatModel:
    """`ChatModel` over `/chat/completions`."""

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
        self.model_id = f"openai:{model}"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = HttpModelClient(
            provider="openai-compatible",
            model_id=self.model_id,
            base_url=base_url,
            headers=headers,
            policy=policy or HttpPolicy(),
            meter=meter or UsageMeter(),
        )

    def _body(self, prompt: Prompt, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": _messages(prompt),
            "max_tokens": prompt.max_tokens,
            "temperature": prompt.temperature,
        }
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    def _malformed(self, what: str) -> MalformedOutput:
        return MalformedOutput(f"openai-compatible model {self.model_id}: {what}")

    async def complete(self, prompt: Prompt) -> Completion:
        """Return the whole answer."""
        data = await self.http.post_json("/chat/completions", self._body(prompt, stream=False))
        try:
            message = data["choices"][0]["message"]
        except (KeyError, IndexError, TypeError) as exc:
            raise self._malformed("the response has no choices[0].message") from exc
        if not isinstance(message, dict):
            raise self._malformed("choices[0].message is not an object")
        content = message.get("content")
        if content is not None and not isinstance(content, str):
            raise self._malformed("choices[0].message.content is not text")
        usage = data.get("usage") or {}
        completion = Completion(
            text=content or "",
            input_tokens=int(usage.get("prompt_tokens") or 0),
            output_tokens=int(usage.get("completion_tokens") or 0),
        )
        self.http.meter.record(self.model_id, completion.input_tokens, completion.output_tokens)
        return completion

    async def stream(self, prompt: Prompt) -> AsyncIterator[str]:
        """Yield text deltas as they arrive."""
        input_tokens = output_tokens = 0
        async with self.http.post_stream(
            "/chat/completions", self._body(prompt, stream=True)
        ) as response:
            async for event in self.http.sse_data(response):
                if "error" in event:
                    raise self.http.error(f"stream error: {event['error']}", retryable=True)
                usage = event.get("usage")
                if isinstance(usage, dict):
                    input_tokens = int(usage.get("prompt_tokens") or 0)
                    output_tokens = int(usage.get("completion_tokens") or 0)
                for choice in event.get("choices") or ():
                    delta = (choice or {}).get("delta") or {}
                    text = delta.get("content")
                    if isinstance(text, str) and text:
                        yield text
        self.http.meter.record(self.model_id, input_tokens, output_tokens)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.http.aclose()
