"""Per-caller rate limits: an in-process token bucket per key (or per client IP).

Each caller gets `burst` tokens, refilled at `rate` per second; a request takes one. The
surfaces decide who the caller is (the authenticated key, or the client address when
authentication is off) and how to say no (429 + Retry-After on Honcho, ThrottlingException on
Bedrock). Limits are per process: with N worker processes a caller gets up to N times the rate.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

_MAX_CALLERS = 100_000


class TokenBuckets:
    """One token bucket per caller key; `rate` 0 means no limit."""

    def __init__(
        self, rate: float, burst: int, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._monotonic = monotonic
        self._buckets: dict[str, list[float]] = {}

    @property
    def enabled(self) -> bool:
        """True when a limit applies."""
        return self.rate > 0

    def take(self, caller: str) -> float:
        """Take a token; return 0 when allowed, else the seconds until one is available."""
        if self.rate <= 0:
            return 0.0
        now = self._monotonic()
        bucket = self._buckets.get(caller)
        if bucket is None:
            if len(self._buckets) >= _MAX_CALLERS:
                self._forget_idle(now)
            self._buckets[caller] = [self.burst - 1.0, now]
            return 0.0
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that have refilled completely (their callers lose nothing)."""
        full = self.burst / self.rate
        for key in [k for k, (_, t) in self._buckets.items() if now - t >= full]:
            del self._buckets[key]
        if len(self._buckets) >= _MAX_CALLERS:
            self._buckets.clear()


def retry_after(wait: float) -> str:
    """The Retry-After value (whole seconds, at least 1) for a wait."""
    return str(max(1, math.ceil(wait)))


def client_address(scope: Mapping[str, Any]) -> str:
    """The peer address of the connection (no proxy headers are trusted)."""
    client = scope.get("client")
    return f"ip:{client[0]}" if client else "ip:unknown"
