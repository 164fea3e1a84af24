"""What every model provider shares: an httpx client per event loop, retries with backoff, SSE.

Retried: connection errors, timeouts, 408, 409, 429, 5xx and Anthropic's 529, up to
`max_retries` times with exponential backoff (`retry_base * 2**n`, capped at `retry_max`, with
jitter). A `Retry-After` header is honoured; one longer than `retry_max` ends the retries at
once (the deriver's queue waits longer than a request should). Streams are retried only
before their first byte of content. Errors never carry the API key.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from mindkeeper.core.ports.models import MalformedOutput, ModelError, UsageMeter

log = logging.getLogger("mindkeeper.models")

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
_BODY_SNIPPET = 300


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """Timeouts and retries of one provider."""

    timeout: float = 60.0
    max_retries: int = 3
    retry_base: float = 0.5
    retry_max: float = 20.0


def backoff(attempt: int, policy: HttpPolicy, retry_after: float | None = None) -> float:
    """Seconds to wait before retry number `attempt` (0-based)."""
    if retry_after is not None:
        return retry_after
    delay: float = min(policy.retry_max, policy.retry_base * (2**attempt))
    return delay * random.uniform(0.5, 1.0)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Read `retry-after-ms` / `retry-after` (seconds) from a response, if present."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = response.headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            continue
    return None


def _snippet(response: httpx.Response) -> str:
    try:
        text = response.text
    except Exception:  # a body that cannot be decoded is left out of the message
        return ""
    text = " ".join(text.split())
    return text[:_BODY_SNIPPET]


class HttpModelClient:
    """POSTs JSON to one base URL with retries, recording usage in a meter."""

    def __init__(
        self,
        *,
        provider: str,
        model_id: str,
        base_url: str,
        headers: Mapping[str, str],
        policy: HttpPolicy,
        meter: UsageMeter,
    ) -> None:
        self.provider = provider
        self.model_id = model_id
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers)
        self.policy = policy
        self.meter = meter
        self._clients: dict[int, tuple[asyncio.AbstractEventLoop, httpx.AsyncClient]] = {}

    def _client(self) -> httpx.AsyncClient:
        """The client of the running event loop (httpx connections belong to one loop)."""
        loop = asyncio.get_running_loop()
        entry = self._clients.get(id(loop))
        if entry is not None and entry[0] is loop and not entry[1].is_closed:
            return entry[1]
        timeout = httpx.Timeout(self.policy.timeout, connect=min(10.0, self.policy.timeout))
        client = httpx.AsyncClient(headers=self.headers, timeout=timeout, trust_env=False)
        self._clients[id(loop)] = (loop, client)
        return client

    async def aclose(self) -> None:
        """Close the client of the running loop; forget those of other loops."""
        clients, self._clients = self._clients, {}
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        for owner, client in clients.values():
            if owner is loop:
                await client.aclose()

    def error(self, message: str, *, retryable: bool, status: int | None = None) -> ModelError:
        """A ModelError naming the provider and model."""
        return ModelError(
            f"{self.provider} model {self.model_id}: {message}", retryable=retryable, status=status
        )

    def _status_error(self, response: httpx.Response) -> ModelError:
        status = response.status_code
        return self.error(
            f"HTTP {status} from {self.base_url}: {_snippet(response)}",
            retryable=status in RETRY_STATUSES,
            status=status,
        )

    async def _wait(self, attempt: int, retry_after: float | None) -> bool:
        """Sleep before another attempt; False when no attempt is left."""
        if attempt >= self.policy.max_retries:
            return False
        if retry_after is not None and retry_after > self.policy.retry_max:
            return False
        self.meter.record_retry(self.model_id)
        await asyncio.sleep(backoff(attempt, self.policy, retry_after))
        return True

    async def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST and return the decoded JSON object, retrying transient failures."""
        url = self.base_url + path
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                async with asyncio.timeout(self.policy.timeout):
                    response = await self._client().post(url, json=body)
                if response.status_code < 400:
                    try:
                        data = response.json()
                    except ValueError as exc:
                        raise MalformedOutput(
                            f"{self.provider} model {self.model_id}: response is not JSON: "
                            f"{_snippet(response)}"
                        ) from exc
                    if not isinstance(data, dict):
                        raise MalformedOutput(
                            f"{self.provider} model {self.model_id}: response is not an object"
                        )
                    return data
                failure = self._status_error(response)
                retry_after = retry_after_seconds(response)
            except (httpx.TimeoutException, TimeoutError):
                failure = self.error(
                    f"no answer within {self.policy.timeout:g} s from {self.base_url}",
                    retryable=True,
                )
            except httpx.TransportError as exc:
                failure = self.error(
                    f"cannot reach {self.base_url}: {type(exc).__name__}", retryable=True
                )
            if not failure.retryable or not await self._wait(attempt, retry_after):
                self.meter.record_failure(self.model_id)
                raise failure
            log.info("retrying %s after: %s", self.model_id, failure.message)
            attempt += 1

    @asynccontextmanager
    async def post_stream(self, path: str, body: dict[str, Any]) -> AsyncIterator[httpx.Response]:
        """POST and yield a successful streaming response; retries until the headers are good."""
        url = self.base_url + path
        attempt = 0
        while True:
            retry_after: float | None = None
            client = self._client()
            try:
                request = client.build_request("POST", url, json=body)
                async with asyncio.timeout(self.policy.timeout):
                    response = await client.send(request, stream=True)
            except (httpx.TimeoutException, TimeoutError):
                failure = self.error(
                    f"no answer within {self.policy.timeout:g} s from {self.base_url}",
                    retryable=True,
                )
            except httpx.TransportError as exc:
                failure = self.error(
                    f"cannot reach {self.base_url}: {type(exc).__name__}", retryable=True
                )
            else:
                if response.status_code < 400:
                    try:
                        yield response
                    finally:
                        await response.aclose()
                    return
                try:
                    await response.aread()
                finally:
                    await response.aclose()
                failure = self._status_error(response)
                retry_after = retry_after_seconds(response)
            if not failure.retryable or not await self._wait(attempt, retry_after):
                self.meter.record_failure(self.model_id)
                raise failure
            log.info("retrying %s after: %s", self.model_id, failure.message)
            attempt += 1

    async def sse_data(self, response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
        """Yield the JSON objects of a server-sent-event stream's `data:` lines.

        Stops at `data: [DONE]`; a read that stalls past the timeout raises ModelError.
        """
        try:
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue  # blank separators, `event:` names, `:` comments
                payload = line[5:].strip()
                if payload == "[DONE]":
                    return
                if not payload:
                    continue
                try:
                    data = json.loads(payload)
                except ValueError as exc:
                    raise MalformedOutput(
                        f"{self.provider} model {self.model_id}: bad stream event: {payload[:100]}"
                    ) from exc
                if isinstance(data, dict):
                    yield data
        except httpx.TimeoutException as exc:
            raise self.error(
                f"stream stalled for {self.policy.timeout:g} s", retryable=True
            ) from exc
        except httpx.TransportError as exc:
            raise self.error(f"stream broken: {type(exc).__name__}", retryable=True) from exc
