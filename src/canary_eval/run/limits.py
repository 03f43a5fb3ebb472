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
    """When the next request may start: the client's own `rpm` and `tpm` limits, and what the
    server said about its headroom (requests remaining until a reset, or Retry-After).

    When the server is out of requests, nothing starts until its reset; then one probe goes
    first, and its answer says how much room there is before the rest follow. A sliding-window
    limit therefore never sees a burst it has to reject.
    """

    rpm: float | None = None
    tpm: float | None = None
    probe_timeout_s: float = 1.0  # a probe that never reports back must not stall the run
    _next_start: float = 0.0
    _tokens: float | None = None  # the tpm bucket; starts full
    _refilled: float = field(default_factory=time.monotonic)
    _hold_until: float = 0.0
    _budget: int | None = None  # starts the server still allows; None when it has not said
    _news: asyncio.Condition = field(default_factory=asyncio.Condition)

    def hold(self, seconds: float) -> None:
        """Start nothing for `seconds`, then send one probe before the rest."""
        self._hold_until = max(self._hold_until, time.monotonic() + seconds)
        self._budget = 1

    async def observe(self, remaining: int | None, reset_s: float | None) -> None:
        """Take in the headroom a response reported. The server counted the requests still in
        flight when they arrived, so what remains is what may still start."""
        async with self._news:
            if remaining is None:
                if self._budget == 0:
                    self._budget = None  # the server does not say: stop guessing
            elif remaining > 0:
                self._budget = remaining
            elif reset_s:
                self.hold(reset_s)
            self._news.notify_all()

    async def wait(self, tokens: int) -> None:
        async with self._news:
            while True:
                now = time.monotonic()
                if self._hold_until > now:
                    await self._wait_for_news(self._hold_until - now)
                elif self._budget == 0:
                    if not await self._wait_for_news(self.probe_timeout_s):
                        self._budget = 1
                else:
                    break
            if self._budget is not None:
                self._budget -= 1
            delay = self._schedule(tokens, time.monotonic())
        if delay > 0:
            await asyncio.sleep(delay)

    async def _wait_for_news(self, timeout_s: float) -> bool:
        try:
            await asyncio.wait_for(self._news.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    def _schedule(self, tokens: int, now: float) -> float:
        """Reserve a start under the client's own limits; how long until it."""
        delay = 0.0
        if self.rpm:
            delay = max(0.0, self._next_start - now)
            self._next_start = max(now, self._next_start) + 60.0 / self.rpm
        if self.tpm:
            capacity = self.tpm
            level = capacity if self._tokens is None else self._tokens
            self._tokens = min(capacity, level + (now - self._refilled) * capacity / 60)
            self._refilled = now
            if self._tokens < tokens:
                delay = max(delay, (tokens - self._tokens) * 60 / capacity)
            self._tokens -= tokens
        return delay
