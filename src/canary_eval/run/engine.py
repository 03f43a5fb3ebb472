"""Runs prompts through a provider: bounded adaptive concurrency, pacing, retries with backoff,
a fallback provider, and a deadline. Every call ends as a completion or a classified error.

Retries use exponential backoff with full jitter and honour what the server asked for
(`Retry-After`, `retry-after-ms`, `x-ratelimit-reset-*`). A rejected key (401/403) is an
`AuthError` that stops the whole run at once: retrying cannot fix it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from canary_eval.errors import Interrupted
from canary_eval.models import CallError, CallOutcome, Completion
from canary_eval.run.limits import AdaptiveLimit, Pacer
from canary_eval.run.providers import CallFailure, ChatRequest, Provider


@dataclass
class Progress:
    """Live counters for a progress display."""

    total: int
    done: int = 0
    errors: int = 0
    retries: int = 0
    rate_limited: int = 0
    concurrency: int = 0


ProgressCallback = Callable[[Progress], None]


@dataclass
class _Attempts:
    count: int = 0
    rate_limited: int = 0
    latency_ms: float = 0.0  # of the last call: the provider's time, not our queueing


@dataclass
class Engine:
    provider: Provider
    fallback: Provider | None = None
    concurrency: int | None = None
    on_progress: ProgressCallback | None = None
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    limit: AdaptiveLimit = field(init=False)
    pacer: Pacer = field(init=False)
    progress: Progress = field(init=False)

    async def run(
        self, requests: Sequence[ChatRequest], *, deadline_s: float | None = None
    ) -> list[CallOutcome]:
        """Send every request; the outcomes come back in the order of `requests`."""
        config = self.provider.config
        self.limit = AdaptiveLimit(self.concurrency or config.concurrency, config.adaptive)
        self.pacer = Pacer(config.rpm, config.tpm)
        self.progress = Progress(total=len(requests), concurrency=self.limit.limit)
        tasks = [asyncio.ensure_future(self._one(r)) for r in requests]
        try:
            done, _ = await asyncio.wait(
                tasks, timeout=deadline_s, return_when=asyncio.FIRST_EXCEPTION
            )
            for task in done:
                if (error := task.exception()) is not None:
                    raise error
        except asyncio.CancelledError:
            finished = [
                t.result()
                for t in tasks
                if t.done() and not t.cancelled() and t.exception() is None
            ]
            raise Interrupted(f"{len(finished)} of {len(tasks)} calls finished", finished) from None
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return [
            task.result() if task in done else _unfinished(req, deadline_s)
            for task, req in zip(tasks, requests, strict=True)
        ]

    async def _one(self, request: ChatRequest) -> CallOutcome:
        attempts = _Attempts()
        completion, error, fallback = None, None, False
        try:
            completion = await self._with_retries(self.provider, request, attempts)
        except CallFailure as failure:
            error = CallError(failure.kind, failure.message, failure.status)
            if self.fallback is not None:
                # When the fallback fails too, the primary's error is the one worth reporting.
                with contextlib.suppress(CallFailure):
                    completion = await self._with_retries(self.fallback, request, attempts)
                    error, fallback = None, True
        outcome = CallOutcome(
            request.case.id,
            completion,
            error,
            latency_ms=attempts.latency_ms,
            attempts=attempts.count,
            rate_limited=attempts.rate_limited,
            fallback=fallback,
        )
        self._report(outcome)
        return outcome

    async def _with_retries(
        self, provider: Provider, request: ChatRequest, attempts: _Attempts
    ) -> Completion:
        config = provider.config
        estimate = (len(request.user) + len(request.system or "")) // 4 + config.max_tokens
        for attempt in range(config.max_retries + 1):
            # The slot first, then the pacer: a hold the server asks for while we queue for a
            # slot must still stop us.
            await self.limit.acquire()
            await self.pacer.wait(estimate)
            attempts.count += 1
            started = time.monotonic()
            try:
                completion = await provider.complete(request)
            except CallFailure as failure:
                await self.pacer.observe(None, None)
                if failure.kind == "rate_limited":
                    attempts.rate_limited += 1
                    self.progress.rate_limited += 1
                    self.limit.on_throttled()
                    if failure.retry_after_s is not None:
                        self.pacer.hold(failure.retry_after_s)
                if not failure.retryable or attempt == config.max_retries:
                    raise
                self.progress.retries += 1
                wait = self._backoff(attempt, failure.retry_after_s)
            else:
                await self.limit.on_success()
                await self.pacer.observe(completion.requests_remaining, completion.reset_s)
                return completion
            finally:
                attempts.latency_ms = (time.monotonic() - started) * 1000
                await self.limit.release()
                self.progress.concurrency = self.limit.limit
            await asyncio.sleep(wait)
        raise AssertionError("unreachable: the last attempt raises")

    def _backoff(self, attempt: int, asked_s: float | None) -> float:
        """Full jitter (AWS architecture blog), never less than what the server asked for."""
        jitter = self.rng.uniform(0, min(self.backoff_cap_s, self.backoff_base_s * 2**attempt))
        return max(jitter, asked_s) if asked_s is not None else jitter

    def _report(self, outcome: CallOutcome) -> None:
        self.progress.done += 1
        self.progress.errors += outcome.error is not None
        if self.on_progress is not None:
            self.on_progress(self.progress)


def _unfinished(request: ChatRequest, deadline_s: float | None) -> CallOutcome:
    message = f"not finished within the {deadline_s:g}s deadline" if deadline_s else "cancelled"
    return CallOutcome(request.case.id, None, CallError("deadline", message))
