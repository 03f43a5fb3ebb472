"""Operational health per window and intent: latency, errors, rate limits, fallbacks, cost.

Cost and tokens are per task (the sum over a task's calls), not per call: a task that needs more
calls costs more, and that is what the business pays for. Call figures group calls by their own
intent; task figures group tasks by the intent of their first call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from canary_eval.models import Alert
from canary_eval.monitor.config import OpsThresholds
from canary_eval.monitor.gates import (
    GateTest,
    RateChange,
    ValueChange,
    rate_tests,
    relative_alerts,
)


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


def ops_gates(pairs: Sequence[Pair], t: OpsThresholds) -> tuple[list[GateTest], list[Alert]]:
    """The `ops` gates that are on, overall and per intent: the tests of the error, rate-limited
    and fallback shares (decided with the pass's budget), and the alerts of the relative gates
    (p95 latency, cost and tokens per task), which need enough calls but no test.
    """
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
    latency = [
        ValueChange(i, ref.latency_p95_ms, cur.latency_p95_ms, ref.calls, cur.calls)
        for i, ref, cur in pairs
    ]
    alerts = relative_alerts(
        "ops",
        "latency_p95_ms",
        "p95 latency",
        latency,
        max_increase=t.max_p95_latency_increase,
        min_n=t.min_calls,
        unit=" ms",
        floor=t.min_p95_latency_increase_ms,
    )
    cost = [
        ValueChange(i, ref.cost_per_task_usd, cur.cost_per_task_usd, ref.tasks, cur.tasks)
        for i, ref, cur in pairs
    ]
    alerts += relative_alerts(
        "ops",
        "cost_per_task_usd",
        "cost per task",
        cost,
        max_increase=t.max_cost_per_task_increase,
        min_n=t.min_calls,
        unit=" USD",
    )
    tokens = [
        ValueChange(i, ref.tokens_per_task, cur.tokens_per_task, ref.tasks, cur.tasks)
        for i, ref, cur in pairs
    ]
    alerts += relative_alerts(
        "ops",
        "tokens_per_task",
        "tokens per task",
        tokens,
        max_increase=t.max_tokens_per_task_increase,
        min_n=t.min_calls,
    )
    return tests, alerts
