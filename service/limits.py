"""Per-consumer token buckets: `rate` requests a second on average, bursts of up to `burst`."""

from __future__ import annotations

import threading
import time

MAX_BUCKETS = 10_000  # public callers are counted per address: forget the idle ones rather than grow without end


class RateLimiter:
    def __init__(self, rate: float, burst: int):
        self.rate = rate
        self.burst = burst
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # who → (tokens, when counted)

    def allow(self, who: str, rate: float | None = None) -> float:
        """0 when `who` may go ahead (one token taken), else the seconds until a token is back."""
        rate = rate or self.rate
        burst = max(self.burst, 1)
        now = time.monotonic()
        with self._lock:
            if len(self._buckets) > MAX_BUCKETS:
                self._buckets = {w: b for w, b in self._buckets.items() if now - b[1] < burst / rate}
            tokens, then = self._buckets.get(who, (burst, now))
            tokens = min(burst, tokens + (now - then) * rate)
            if tokens >= 1:
                self._buckets[who] = (tokens - 1, now)
                return 0.0
            self._buckets[who] = (tokens, now)
            return (1 - tokens) / rate
