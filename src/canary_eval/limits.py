"""Client-side flow control: adaptive concurrency (AIMD) and requests/tokens-per-minute pacing.

The concurrency limit halves on a 429 and grows by one after a window of successes, like TCP
congestion control, so a throttled vendor gets fewer requests at once instead of a retry storm.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass
class AdaptiveLimit:
    """A semaphore whose size moves between 1 and `ceiling`: additive increase, multiplicative
    decrease."""

    ceiling: int
    adaptive: bool = True
    limit: int = 0
    in_flight: int = 0
    _successes: int = 0
    _last_cut: float = 0.0
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def __post_init__(self) -> None:
        self.limit = self.limit or self.ceiling

    async def acquire(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1

    async def release(self) -> None:
        async with self._changed:
            self.in_flight -= 1
            self._changed.notify()  # one slot freed wakes one waiter, not the whole queue

    async def on_success(self) -> None:
        if not self.adaptive or self.limit >= self.ceiling:
            return
        self._successes += 1
        if self._successes >= self.limit:
            self._successes = 0
            async with self._changed:
                self.limit += 1
                self._changed.notify()

    def on_throttled(self) -> None:
        # One cut per burst: 429s that were already in flight report the same congestion.
        now = time.monotonic()
        if self.adaptive and now - self._last_cut > 1.0:
            self.limit = max(1, self.limit // 2)
            self._successes = 0
            self._last_cut = now


@dataclass
class Pacer:
    """Spaces requests so that no more than `rpm` requests and `tpm` tokens start per minute."""

    rpm: float | None = None
    tpm: float | None = None
    _next_request: float = 0.0
    _hold_until: float = 0.0
    _tokens: float = 0.0
    _refilled: float = field(default_factory=time.monotonic)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def hold(self, seconds: float) -> None:
        """Start nothing for `seconds`: the server said it is out of requests until then."""
        self._hold_until = max(self._hold_until, time.monotonic() + seconds)

    async def wait(self, tokens: int) -> None:
        async with self._lock:
            now = time.monotonic()
            delay = max(0.0, self._hold_until - now)
            if self.rpm:
                delay = max(0.0, self._next_request - now)
                self._next_request = max(now, self._next_request) + 60.0 / self.rpm
            if self.tpm:
                capacity = self.tpm
                self._tokens = min(capacity, self._tokens + (now - self._refilled) * capacity / 60)
                self._refilled = now
                if self._tokens < tokens:
                    delay = max(delay, (tokens - self._tokens) * 60 / capacity)
                self._tokens -= tokens
            if delay:
                await asyncio.sleep(delay)

    def start_full(self) -> None:
        if self.tpm:
            self._tokens = self.tpm
