"""A scripted fake model server on 127.0.0.1: OpenAI-compatible and Anthropic, streaming too.

Endpoints: `POST /v1/chat/completions` (OpenAI-compatible, `stream` with `data:` events and
`[DONE]`), `POST /v1/embeddings`, and `POST /v1/messages` (Anthropic, `stream` with named
events). Replies come from a responder per model name; a queue of faults, consumed in order by
the next chat requests (optionally only those of one model), injects 429/500 statuses, hangs,
malformed bodies and broken streams. Every chat request is recorded with its start and end,
and in-flight requests are counted per session tag (`[s:<tag>]` in the prompt), so tests can
assert that no two jobs of one session overlapped.

Default responders, by model name:
- `fake-facts`: facts are the `FACT: ...` sentences of the latest user message;
- `fake-summary`: `Summary of N messages (...)`;
- `fake-dialectic`: an answer that quotes the facts of the prompt.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.conftest import _ServerThread

SESSION_TAG = re.compile(r"\[s:([A-Za-z0-9_-]+)\]")
FACT = re.compile(r"FACT: ([^.\n]+\.)")
EMBED_DIM = 64


@dataclass
class Fault:
    """A scripted misbehaviour for one request.

    kind: "status" (HTTP `status` with `body`/`headers`), "hang" (sleep `seconds`, or until
    `release` is set), "malformed" (200 with `body` as is), "text" (reply `body` as the model's
    text), "break" (stream: send one chunk, then cut the connection).
    """

    kind: str
    status: int = 500
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    release: threading.Event | None = None
    model: str | None = None


@dataclass
class Call:
    """One recorded chat request."""

    model: str
    protocol: str
    stream: bool
    body: dict[str, Any]
    tag: str | None
    started: float
    ended: float | None = None


def _prompt_text(body: dict[str, Any]) -> str:
    parts = [str(body.get("system") or "")]
    for m in body.get("messages") or []:
        content = m.get("content")
        parts.append(content if isinstance(content, str) else json.dumps(content))
    return "\n".join(parts)


def _section(text: str, name: str) -> str:
    match = re.search(rf"<{name}>\n?(.*?)\n?</{name}>", text, re.DOTALL)
    return match.group(1) if match else ""


def facts_responder(text: str) -> str:
    """`{"facts": [...]}` from the `FACT: ...` sentences of the latest user message."""
    latest = _section(text, "latest_user_message")
    return json.dumps({"facts": FACT.findall(latest)})


def summary_responder(text: str) -> str:
    """A summary that says how many messages it covers."""
    lines = [ln for ln in _section(text, "messages").splitlines() if ln.strip()]
    earlier = " continuing" if "<earlier_summary>" in text else ""
    return f"Summary of {len(lines)} messages{earlier}."


def dialectic_responder(text: str) -> str:
    """An answer quoting the facts it was given."""
    facts = [ln[2:] for ln in _section(text, "facts").splitlines() if ln.startswith("- ")]
    return "Based on memory: " + (" ".join(facts) if facts else "nothing known.")


DEFAULT_RESPONDERS: dict[str, Callable[[str], str]] = {
    "fake-facts": facts_responder,
    "fake-summary": summary_responder,
    "fake-dialectic": dialectic_responder,
}


def fake_embedding(text: str) -> list[float]:
    """A deterministic bag-of-words vector: equal texts are equal, shared words are close."""
    vector = np.zeros(EMBED_DIM, dtype=np.float64)
    for word in re.findall(r"\w+", text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        vector[digest[0] % EMBED_DIM] += 1.0 + digest[1] / 255
    norm = np.linalg.norm(vector) or 1.0
    return [float(x) for x in vector / norm]


class FakeModelServer:
    """The fake, its script and its records."""

    def __init__(self) -> None:
        self.responders: dict[str, Callable[[str], str]] = dict(DEFAULT_RESPONDERS)
        self.faults: deque[Fault] = deque()
        self.calls: list[Call] = []
        self.embedding_calls = 0
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}
        self.max_total_in_flight = 0
        self.latency = 0.0
        self._total = 0
        self._lock = threading.Lock()
        self._thread: _ServerThread | None = None
        self.url = ""

    # -- script -----------------------------------------------------------------------
    def fail(self, *faults: Fault) -> None:
        """Queue faults for the next chat requests."""
        self.faults.extend(faults)

    def _take_fault(self, model: str) -> Fault | None:
        with self._lock:
            for fault in list(self.faults):
                if fault.model in (None, model):
                    self.faults.remove(fault)
                    return fault
        return None

    def calls_for(self, model: str) -> list[Call]:
        """The recorded calls of one model."""
        return [c for c in self.calls if c.model == model]

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> FakeModelServer:
        """Serve on a free loopback port."""
        routes = [
            Route("/v1/chat/completions", self._openai_chat, methods=["POST"]),
            Route("/v1/embeddings", self._embeddings, methods=["POST"]),
            Route("/v1/messages", self._anthropic, methods=["POST"]),
        ]
        self._thread = _ServerThread(Starlette(routes=routes))
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._thread.port}"
        return self

    def stop(self) -> None:
        """Stop serving (releases hung requests first)."""
        for fault in self.faults:
            if fault.release is not None:
                fault.release.set()
        if self._thread is not None:
            self._thread.stop()

    @property
    def openai_url(self) -> str:
        """Base URL for OpenAI-compatible clients."""
        return self.url + "/v1"

    # -- bookkeeping ------------------------------------------------------------------
    def _begin(self, model: str, protocol: str, body: dict[str, Any]) -> Call:
        match = SESSION_TAG.search(_prompt_text(body))
        tag = match.group(1) if match else None
        call = Call(model, protocol, bool(body.get("stream")), body, tag, time.monotonic())
        with self._lock:
            self.calls.append(call)
            self._total += 1
            self.max_total_in_flight = max(self.max_total_in_flight, self._total)
            if tag is not None:
                self.in_flight[tag] = self.in_flight.get(tag, 0) + 1
                self.max_in_flight[tag] = max(self.max_in_flight.get(tag, 0), self.in_flight[tag])
        return call

    def _end(self, call: Call) -> None:
        with self._lock:
            if call.ended is not None:
                return
            call.ended = time.monotonic()
            self._total -= 1
            if call.tag is not None:
                self.in_flight[call.tag] -= 1

    async def _hang(self, fault: Fault) -> None:
        deadline = time.monotonic() + (fault.seconds or 3600)
        while time.monotonic() < deadline:
            if fault.release is not None and fault.release.is_set():
                return
            await asyncio.sleep(0.02)

    def _reply_text(self, model: str, body: dict[str, Any]) -> str:
        responder = self.responders.get(model)
        if responder is None:
            return f"echo from {model}"
        return responder(_prompt_text(body))

    async def _common(self, request: Request, protocol: str) -> tuple[Call, Fault | None, str]:
        body = await request.json()
        model = str(body.get("model"))
        call = self._begin(model, protocol, body)
        fault = self._take_fault(model)
        if self.latency:
            await asyncio.sleep(self.latency)
        if fault is not None and fault.kind == "hang":
            await self._hang(fault)
            fault = None
        text = fault.body if fault is not None and fault.kind == "text" else ""
        if not text:
            text = self._reply_text(model, body)
        return call, fault, text

    def _fault_response(self, call: Call, fault: Fault) -> Response | None:
        if fault.kind == "status":
            self._end(call)
            return Response(fault.body or '{"error": "injected"}', fault.status, fault.headers)
        if fault.kind == "malformed":
            self._end(call)
            return Response(fault.body, 200, media_type="application/json")
        return None

    # -- OpenAI-compatible -------------------------------------------------------------
    async def _openai_chat(self, request: Request) -> Response:
        call, fault, text = await self._common(request, "openai")
        if fault is not None and (reply := self._fault_response(call, fault)) is not None:
            return reply
        usage = {"prompt_tokens": 11, "completion_tokens": len(text.split())}
        if not call.stream:
            self._end(call)
            return JSONResponse(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "model": call.model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                }
            )
        broken = fault is not None and fault.kind == "break"

        async def events() -> AsyncIterator[bytes]:
            try:
                for i, piece in enumerate(_chunks(text)):
                    delta = {"choices": [{"index": 0, "delta": {"content": piece}}]}
                    yield f"data: {json.dumps(delta)}\n\n".encode()
                    await asyncio.sleep(0)
                    if broken and i == 0:
                        raise ConnectionError("injected stream break")
                yield f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n".encode()
                yield b"data: [DONE]\n\n"
            finally:
                self._end(call)

        return StreamingResponse(events(), media_type="text/event-stream")

    async def _embeddings(self, request: Request) -> Response:
        body = await request.json()
        self.embedding_calls += 1
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        fault = self._take_fault(str(body.get("model")))
        if fault is not None and fault.kind == "status":
            return Response(fault.body or "{}", fault.status, fault.headers)
        if fault is not None and fault.kind == "malformed":
            return Response(fault.body, 200, media_type="application/json")
        data = [
            {"object": "embedding", "index": i, "embedding": fake_embedding(t)}
            for i, t in enumerate(texts)
        ]
        data.reverse()  # the index, not the order, says which text a row belongs to
        tokens = sum(len(t.split()) for t in texts)
        return JSONResponse(
            {"data": data, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
        )

    # -- Anthropic ----------------------------------------------------------------------
    async def _anthropic(self, request: Request) -> Response:
        call, fault, text = await self._common(request, "anthropic")
        if fault is not None and (reply := self._fault_response(call, fault)) is not None:
            return reply
        if not call.stream:
            self._end(call)
            return JSONResponse(
                {
                    "id": "msg_fake",
                    "type": "message",
                    "role": "assistant",
                    "model": call.model,
                    "content": [{"type": "text", "text": text}],
                    "stop_reason": "end_turn",
                    "usage": {"input_tokens": 13, "output_tokens": len(text.split())},
                }
            )
        broken = fault is not None and fault.kind == "break"

        def event(name: str, data: dict[str, Any]) -> bytes:
            return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()

        async def events() -> AsyncIterator[bytes]:
            try:
                yield event(
                    "message_start",
                    {"message": {"id": "msg_fake", "usage": {"input_tokens": 13}}},
                )
                yield event(
                    "content_block_start",
                    {"index": 0, "content_block": {"type": "text", "text": ""}},
                )
                yield b'event: ping\ndata: {"type": "ping"}\n\n'
                for i, piece in enumerate(_chunks(text)):
                    yield event(
                        "content_block_delta",
                        {"index": 0, "delta": {"type": "text_delta", "text": piece}},
                    )
                    await asyncio.sleep(0)
                    if broken and i == 0:
                        raise ConnectionError("injected stream break")
                yield event("content_block_stop", {"index": 0})
                yield event(
                    "message_delta",
                    {
                        "delta": {"stop_reason": "end_turn"},
                        "usage": {"output_tokens": len(text.split())},
                    },
                )
                yield event("message_stop", {})
            finally:
                self._end(call)

        return StreamingResponse(events(), media_type="text/event-stream")


def _chunks(text: str) -> list[str]:
    """Split a text into word-sized pieces that concatenate back to it."""
    return re.findall(r"\S*\s*", text)[:-1] or [text]
