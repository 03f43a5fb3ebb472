"""Operational health per window and intent: latency, errors, rate limits, fallbacks, cost.

Cost and tokens are per task (the sum over a task's calls), not per call: a task that needs more
calls costs more, and that is what the business pays for. Call figures group calls by their own
intent; task figures group tasks by the intent of their first call.

Every ops gate is tested, inside the pass's error budget: the error, rate-limited and fallback
shares with Fisher's exact test; p95 latency with an exact exceedance test (below); cost and
tokens per task with a one-sided Welch test of the per-task means. A relative gate alerts only
when its change is both past its threshold (and floor) and significant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from canary_eval.monitor.config import OpsThresholds
from canary_eval.monitor.gates import GateTest, RateChange, ValueChange, rate_tests, relative_tests
from canary_eval.verdict.discrete import nhypergeom_sf
from canary_eval.verdict.tdist import welch_test

RELATIVE = ("latency_p95_ms", "cost_per_task_usd", "tokens_per_task")


@dataclass(frozen=True)
class OpsFigures:
    calls: int
    tasks: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    errors: int
    rate_limited: int
    fallbacks: int
    cost_usd: float | None
    cost_per_task_usd: float | None
    tokens_per_task: float | None
    # For the tests: calls with a latency, and of them those slower than the p95 of the same
    # segment in the earlier window (the reference); tasks with a cost; per-task spreads.
    timed_calls: int = 0
    slow_calls: int = 0
    costed_tasks: int = 0
    cost_per_task_sd: float | None = None
    tokens_per_task_sd: float | None = None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.calls if self.calls else None

    @property
    def rate_limited_rate(self) -> float | None:
        return self.rate_limited / self.calls if self.calls else None

    @property
    def fallback_rate(self) -> float | None:
        return self.fallbacks / self.calls if self.calls else None


Pair = tuple[str | None, OpsFigures, OpsFigures]  # (intent, reference, current)


def ops_gates(pairs: Sequence[Pair], t: OpsThresholds) -> list[GateTest]:
    """The tests of every `ops` gate that is on, overall and per intent."""
    tests: list[GateTest] = []
    for metric, label, count, limit in (
        ("error_rate", "error rate", "errors", t.max_error_rate_increase),
        ("rate_limited_rate", "rate-limited share", "rate_limited", t.max_rate_limited_increase),
        ("fallback_rate", "fallback share", "fallbacks", t.max_fallback_increase),
    ):
        changes = [
            RateChange(i, getattr(ref, count), ref.calls, getattr(cur, count), cur.calls)
            for i, ref, cur in pairs
        ]
        tests += rate_tests(
            "ops", metric, label, changes, max_change=limit, min_n=t.min_calls, alpha=t.alpha
        )
    latency = [_latency_change(i, ref, cur) for i, ref, cur in pairs]
    tests += relative_tests(
        "ops",
        "latency_p95_ms",
        "p95 latency",
        latency,
        max_increase=t.max_p95_latency_increase,
        min_n=t.min_calls,
        unit=" ms",
        floor=t.min_p95_latency_increase_ms,
        alpha=t.alpha,
    )
    cost = [
        _mean_change(i, ref.cost_per_task_usd, ref.cost_per_task_sd, ref.costed_tasks,
                     cur.cost_per_task_usd, cur.cost_per_task_sd, cur.costed_tasks)
        for i, ref, cur in pairs
    ]  # fmt: skip
    tests += relative_tests(
        "ops",
        "cost_per_task_usd",
        "cost per task",
        cost,
        max_increase=t.max_cost_per_task_increase,
        min_n=t.min_calls,
        unit=" USD",
        alpha=t.alpha,
    )
    tokens = [
        _mean_change(i, ref.tokens_per_task, ref.tokens_per_task_sd, ref.tasks,
                     cur.tokens_per_task, cur.tokens_per_task_sd, cur.tasks)
        for i, ref, cur in pairs
    ]  # fmt: skip
    tests += relative_tests(
        "ops",
        "tokens_per_task",
        "tokens per task",
        tokens,
        max_increase=t.max_tokens_per_task_increase,
        min_n=t.min_calls,
        alpha=t.alpha,
    )
    return tests


def exceedance_test(slow_ref: int, n_ref: int, slow_cur: int, n_cur: int) -> float:
    """Exact one-sided p-value that current calls exceed the reference's p95 more often than
    the reference's own calls do (`slow_ref` of them lie above it).

    Under "no change" the calls of both windows are exchangeable: ranked from the slowest, the
    current calls met before the (slow_ref + 1)-th reference call are negative-hypergeometric,
    whatever the latency distribution. Every current call above the threshold is among them, so
    the p-value of the observed count is conservative; unlike a binomial test at 5 % it also
    carries the reference p95's own sampling error.
    """
    if n_ref <= 0 or n_cur <= 0 or slow_cur <= 0:
        return 1.0
    return nhypergeom_sf(slow_cur - 1, n_ref + n_cur, n_cur, slow_ref + 1)


def _latency_change(intent: str | None, ref: OpsFigures, cur: OpsFigures) -> ValueChange:
    p = exceedance_test(ref.slow_calls, ref.timed_calls, cur.slow_calls, cur.timed_calls)
    detail = ""
    if ref.timed_calls and cur.timed_calls:
        detail = (
            f"{cur.slow_calls / cur.timed_calls:.0%} of calls slower than the reference p95, "
            f"{ref.slow_calls / ref.timed_calls:.0%} before"
        )
    return ValueChange(
        intent, ref.latency_p95_ms, cur.latency_p95_ms, ref.calls, cur.calls, p, detail
    )


def _mean_change(
    intent: str | None,
    ref_mean: float | None,
    ref_sd: float | None,
    n_ref: int,
    cur_mean: float | None,
    cur_sd: float | None,
    n_cur: int,
) -> ValueChange:
    """A per-task mean in both windows with a one-sided Welch test of a rise."""
    p = 1.0
    if ref_mean is not None and cur_mean is not None and min(n_ref, n_cur) >= 2:
        # without any spread, welch_test takes any rise as certain
        p = welch_test(cur_mean, cur_sd or 0.0, n_cur, ref_mean, ref_sd or 0.0, n_ref)
    return ValueChange(intent, ref_mean, cur_mean, n_ref, n_cur, p)
