"""Client-side flow control: adaptive concurrency and requests/tokens-per-minute pacing.

The concurrency limit halves on a 429 and climbs back like TCP congestion control: one slot
per success (doubling per round trip) until it is back where the cut found it, one slot per
window of successes above that. A throttled vendor gets fewer requests at once, and a burst
that has passed costs a few round trips, not the rest of the run.

While the server refuses (429), nobody retries on their own: everyone waits out one shared hold,
then a single probe goes and its answer decides for the rest. When the server has refused as
many probes in a row as a request may retry, it is out of budget for this run and every waiting
request fails at once, instead of each spending its own retries in a serial queue.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from canary_eval.run.providers import CallFailure


class ServerRefusing(CallFailure):
    """The server answered 429 to every probe of a whole retry schedule; retrying cannot help."""

    @property
    def retryable(self) -> bool:
        return False


@dataclass
class AdaptiveLimit:
    """A semaphore whose size moves between 1 and `ceiling`."""

    ceiling: int
    adaptive: bool = True
    limit: int = 0
    in_flight: int = 0
    _recover_to: int = 0  # the limit before the last cut: climb back fast up to it
    _successes: int = 0
    _last_cut: float = float("-inf")
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
        if self.limit < self._recover_to or self._successes >= self.limit:
            self._successes = 0
            async with self._changed:
                self.limit += 1
                self._changed.notify()

    def on_throttled(self, sent_at: float) -> None:
        """A 429 for a request sent at `sent_at` (monotonic). Requests sent before the last cut
        report the congestion that cut was for: one cut per burst."""
        if not self.adaptive or sent_at < self._last_cut:
            return
        self._recover_to = max(self._recover_to, self.limit)
        self.limit = max(1, self.limit // 2)
        self._successes = 0
        self._last_cut = time.monotonic()


Backoff = Callable[[int, float | None], float]  # (refusals so far, server's ask) -> seconds


@dataclass
class Pacer:
    """When the next request may start: the client's own `rpm` and `tpm` limits, and what the
    server said about its headroom (requests remaining until a reset, Retry-After, a 429).

    When the server is out of requests, nothing starts until its reset; then one probe goes
    first, and its answer says how much room there is before the rest follow. A sliding-window
    limit therefore never sees a burst it has to reject.
    """

    rpm: float | None = None
    tpm: float | None = None
    max_refusals: int | None = None  # 429 rounds in a row after which the server is out
    backoff: Backoff = lambda refusals, asked: asked if asked is not None else 0.0
    probe_timeout_s: float = 1.0  # a probe that never reports back must not stall the run
    _next_start: float = 0.0
    _tokens: float | None = None  # the tpm bucket; starts full
    _refilled: float = field(default_factory=time.monotonic)
    _hold_until: float = 0.0
    _budget: int | None = None  # starts the server still allows; None when it has not said
    _refusals: int = 0  # 429 rounds since the last success
    _round_started: float = float("-inf")
    _news: asyncio.Condition = field(default_factory=asyncio.Condition)

    def hold(self, seconds: float) -> None:
        """Start nothing for `seconds`, then send one probe before the rest."""
        self._hold_until = max(self._hold_until, time.monotonic() + seconds)
        self._budget = 1

    @property
    def out_of_budget(self) -> bool:
        return self.max_refusals is not None and self._refusals > self.max_refusals

    async def refused(self, sent_at: float, retry_after_s: float | None) -> None:
        """A 429 for a request sent at `sent_at`. The ones sent before the current round began
        were refused with it; a later one (the probe) opens the next round, held longer."""
        async with self._news:
            if sent_at >= self._round_started:
                self._round_started = time.monotonic()
                self.hold(self.backoff(self._refusals, retry_after_s))
                self._refusals += 1
            elif retry_after_s is not None:
                self.hold(retry_after_s)
            self._news.notify_all()

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

    async def answered(self, remaining: int | None, reset_s: float | None) -> None:
        """A success: the server is serving again, whatever it refused before."""
        self._refusals = 0
        await self.observe(remaining, reset_s)

    async def wait(self, tokens: int) -> None:
        async with self._news:
            while True:
                if self.out_of_budget:
                    raise ServerRefusing(
                        "rate_limited",
                        f"HTTP 429: the server refused {self._refusals} probes in a row",
                        status=429,
                    )
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
