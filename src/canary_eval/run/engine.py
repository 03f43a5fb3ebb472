"""Runs prompts through a provider: bounded adaptive concurrency, pacing, retries with backoff,
a fallback provider, a deadline and an error budget. Every call ends as a completion or a
classified error, handed to the caller the moment it is known (scoring overlaps the calls).

Retries use exponential backoff with full jitter and honour what the server asked for
(`Retry-After`, `retry-after-ms`, `x-ratelimit-reset-*`); a 429 is waited out together (see
`limits`). A rejected key (401/403) is an `AuthError` that stops the whole run at once: retrying
cannot fix it. Once more calls have failed than the error budget allows, the run cannot be
evaluated whatever the rest do, so the rest are not sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from canary_eval.errors import AuthError, Interrupted
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
OutcomeCallback = Callable[[int, CallOutcome], None]  # (index in the requests, outcome)


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
    error_budget: int | None = None  # failed calls the run can afford; one more stops it
    refused: AuthError | None = None  # set by the first 401/403
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    limit: AdaptiveLimit = field(init=False)
    pacer: Pacer = field(init=False)
    progress: Progress = field(init=False)
    _settled: asyncio.Event = field(init=False)
    _left: int = field(init=False)
    _on_outcome: OutcomeCallback | None = field(init=False)
    _waiting: Iterator[tuple[int, ChatRequest]] = field(init=False)  # not started yet
    _tasks: list[asyncio.Task[CallOutcome] | None] = field(init=False)  # by request index

    async def run(
        self,
        requests: Sequence[ChatRequest],
        *,
        deadline_s: float | None = None,
        on_outcome: OutcomeCallback | None = None,
    ) -> list[CallOutcome]:
        """Send every request; the outcomes come back in the order of `requests`, and each is
        also given to `on_outcome` as soon as it is known."""
        config = self.provider.config
        self.limit = AdaptiveLimit(self.concurrency or config.concurrency, config.adaptive)
        self.pacer = Pacer(
            config.rpm, config.tpm, max_refusals=config.max_retries, backoff=self._backoff
        )
        self.progress = Progress(total=len(requests), concurrency=self.limit.limit)
        self._settled, self._left, self._on_outcome = asyncio.Event(), len(requests), on_outcome
        self._waiting = iter(enumerate(requests))
        self._tasks = [None] * len(requests)
        for _ in range(min(len(requests), self.limit.ceiling)):
            self._start_next()
        try:
            if requests:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._settled.wait(), deadline_s)
            for task in self._started:
                if task.done() and not task.cancelled() and (error := task.exception()):
                    raise error
        except asyncio.CancelledError:
            finished = [
                t.result()
                for t in self._started
                if t.done() and not t.cancelled() and t.exception() is None
            ]
            message = f"{len(finished)} of {len(requests)} calls finished"
            raise Interrupted(message, finished) from None
        finally:
            self._settled.set()  # and so no task starts from here on
            started = self._started
            for task in started:
                task.cancel()
            await asyncio.gather(*started, return_exceptions=True)
        why = self._stop_reason(deadline_s)
        return [
            task.result()
            if task is not None and not task.cancelled()
            else CallOutcome(request.case.id, None, why)
            for task, request in zip(self._tasks, requests, strict=True)
        ]

    @property
    def _started(self) -> list[asyncio.Task[CallOutcome]]:
        return [task for task in self._tasks if task is not None]

    def _start_next(self) -> None:
        """Start the next request's task. A task starts when a slot frees up (at most one for
        each), not all at once: 2,000 tasks queued on the limit from the start cost CPU for
        every slot handed over, and the run only ever has `ceiling` calls in flight."""
        if self._settled.is_set():
            return
        waiting = next(self._waiting, None)
        if waiting is not None:
            index, request = waiting
            task = asyncio.ensure_future(self._one(index, request))
            task.add_done_callback(self._settle)
            self._tasks[index] = task

    def _settle(self, task: asyncio.Future[CallOutcome]) -> None:
        self._left -= 1
        failed = not task.cancelled() and task.exception() is not None
        if self._left == 0 or failed or self._over_budget:
            self._settled.set()

    @property
    def _over_budget(self) -> bool:
        return self.error_budget is not None and self.progress.errors > self.error_budget

    def _stop_reason(self, deadline_s: float | None) -> CallError:
        """What the calls that never finished are marked with."""
        if self._over_budget:
            message = (
                f"stopped: {self.progress.errors} calls had failed, more than the error budget "
                f"of {self.error_budget} allows"
            )
            return CallError("cancelled", message)
        if deadline_s:
            return CallError("deadline", f"not finished within the {deadline_s:g}s deadline")
        return CallError("deadline", "cancelled")

    async def _one(self, index: int, request: ChatRequest) -> CallOutcome:
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
        if self._on_outcome is not None:
            self._on_outcome(index, outcome)
        return outcome

    async def _with_retries(
        self, provider: Provider, request: ChatRequest, attempts: _Attempts
    ) -> Completion:
        config = provider.config
        estimate = tokens_estimate(request, config.max_tokens) if config.tpm else 0
        for attempt in range(config.max_retries + 1):
            # The slot first, then the pacer: a hold the server asks for while we queue for a
            # slot must still stop us.
            await self.limit.acquire()
            try:
                await self.pacer.wait(estimate)
                return await self._attempt(provider, request, attempts)
            except CallFailure as failure:
                if not failure.retryable or attempt == config.max_retries:
                    raise
                # A 429 is waited out in the pacer, together with everyone else.
                rate_limited = failure.kind == "rate_limited"
                wait = 0.0 if rate_limited else self._backoff(attempt, failure.retry_after_s)
            finally:
                await self.limit.release()
                self.progress.concurrency = self.limit.limit
                self._start_next()
            self.progress.retries += 1
            if wait > 0:
                await asyncio.sleep(wait)
        raise AssertionError("unreachable: the last attempt raises")

    async def _attempt(
        self, provider: Provider, request: ChatRequest, attempts: _Attempts
    ) -> Completion:
        if self.refused is not None:
            raise self.refused  # the key was rejected: a call queued behind it is not sent
        if self._over_budget:
            # The run is decided; the stop reaches the tasks a few loop turns later, and a call
            # that got its slot in between must not be sent.
            raise CallFailure("cancelled", self._stop_reason(None).message)
        attempts.count += 1
        started = time.monotonic()
        try:
            completion = await provider.complete(request)
        except AuthError as refused:
            self.refused = refused
            raise
        except CallFailure as failure:
            if failure.kind == "rate_limited":
                attempts.rate_limited += 1
                self.progress.rate_limited += 1
                self.limit.on_throttled(started)
                await self.pacer.refused(started, failure.retry_after_s)
            else:
                await self.pacer.observe(None, None)
            raise
        finally:
            attempts.latency_ms = (time.monotonic() - started) * 1000
        await self.limit.on_success()
        await self.pacer.answered(completion.requests_remaining, completion.reset_s)
        return completion

    def _backoff(self, attempt: int, asked_s: float | None) -> float:
        """Full jitter (AWS architecture blog), never less than what the server asked for."""
        jitter = self.rng.uniform(0, min(self.backoff_cap_s, self.backoff_base_s * 2**attempt))
        return max(jitter, asked_s) if asked_s is not None else jitter

    def _report(self, outcome: CallOutcome) -> None:
        self.progress.done += 1
        self.progress.errors += outcome.error is not None
        if self.on_progress is not None:
            self.on_progress(self.progress)


def tokens_estimate(request: ChatRequest, max_tokens: int) -> int:
    """The most tokens a request may spend, for a tokens-per-minute limit: what it sends at
    about four characters a token (the whole conversation of a few-shot or multi-turn prompt,
    and the tools' definitions, which count against the limit too) and the most it may answer."""
    if request.messages or request.tools:
        sent = len(json.dumps([request.messages, request.tools], default=str))
    else:
        sent = len(request.user) + len(request.system or "")
    return sent // 4 + max_tokens
