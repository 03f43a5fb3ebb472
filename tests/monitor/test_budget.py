"""One monitor pass, one error budget: every tested gate of every layer shares `alpha`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from canary_eval.monitor.budget import OpsPair, SignalPair, pass_alerts
from canary_eval.monitor.config import MonitorConfig, OpsThresholds, SignalThresholds
from canary_eval.monitor.drift import DriftFigures
from canary_eval.monitor.ops import OpsFigures, ops_gates
from canary_eval.monitor.signals import Proportion, SignalFigures, signal_tests

NO_DRIFT = DriftFigures(None, None, None, None)
INTENTS = (None, "billing", "shipping", "account", "disputes", "technical", "faq")


def _ops(gen: np.random.Generator, calls: int, reference_p95: float | None) -> OpsFigures:
    """One window's figures from drawn latencies and per-task tokens; slow calls are counted
    against the reference window's p95 (its own, for the reference window itself)."""
    latencies = gen.lognormal(6.5, 0.6, calls)
    p95 = float(np.quantile(latencies, 0.95))
    tokens = gen.gamma(4.0, 150.0, calls // 2)
    return OpsFigures(
        calls=calls,
        tasks=calls // 2,
        latency_p50_ms=float(np.median(latencies)),
        latency_p95_ms=p95,
        errors=int(gen.binomial(calls, 0.012)),
        rate_limited=int(gen.binomial(calls, 0.005)),
        fallbacks=int(gen.binomial(calls, 0.02)),
        cost_usd=None,
        cost_per_task_usd=None,
        tokens_per_task=float(tokens.mean()),
        timed_calls=calls,
        slow_calls=int((latencies > (reference_p95 or p95)).sum()),
        tokens_per_task_sd=float(tokens.std(ddof=1)),
    )


def _signals(gen: np.random.Generator, tasks: int) -> SignalFigures:
    rated = tasks // 2
    return SignalFigures(
        tasks=tasks,
        acceptance=Proportion.of(int(gen.binomial(tasks, 0.3)), tasks),
        edit=Proportion.of(int(gen.binomial(tasks, 0.05)), tasks),
        escalation=Proportion.of(int(gen.binomial(tasks, 0.04)), tasks),
        thumbs_down=Proportion.of(int(gen.binomial(rated, 0.15)), rated),
        csat_mean=None,
        csat_n=0,
        csat_sd=None,
    )


def _unchanged_pass(gen: np.random.Generator) -> tuple[list[OpsPair], list[SignalPair]]:
    """Both windows of every segment drawn from the same rates."""
    ops, signals = [], []
    for intent in INTENTS:
        share = 1.0 if intent is None else 1 / 6
        ref = _ops(gen, int(21000 * share), None)
        ops.append((intent, ref, _ops(gen, int(3000 * share), ref.latency_p95_ms)))
        signals.append(
            (intent, _signals(gen, int(15000 * share)), _signals(gen, int(2100 * share)))
        )
    return ops, signals


def test_a_pass_over_unchanged_traffic_alerts_falsely_at_most_alpha_of_the_time() -> None:
    # Thresholds of 0: any significant rise alerts, so only the budget stands against noise.
    config = MonitorConfig(
        path=Path("monitor.yaml"),
        name="m",
        calls=("c",),
        alpha=0.05,
        ops=OpsThresholds(
            max_error_rate_increase=0.0,
            max_rate_limited_increase=0.0,
            max_fallback_increase=0.0,
            max_p95_latency_increase=0.0,
            min_p95_latency_increase_ms=0.0,
            max_tokens_per_task_increase=0.0,
        ),
        signals=SignalThresholds(
            max_thumbs_down_rate_increase=0.0,
            max_escalation_rate_increase=0.0,
            max_acceptance_rate_drop=0.0,
            max_edit_rate_increase=0.0,
        ),
    )
    gen = np.random.default_rng(1)
    passes = 200
    alerting = uncorrected = 0
    for _ in range(passes):
        ops, signals = _unchanged_pass(gen)
        alerting += bool(pass_alerts(config, ops, signals, NO_DRIFT, {}))
        tests = [*ops_gates(ops, config.ops), *signal_tests(signals, config.signals)]
        uncorrected += any(t.p_value < config.alpha for t in tests)
    assert len(tests) == 63
    assert alerting / passes <= 0.05
    # What each gate at its own 5 % would have done to the same passes:
    assert uncorrected / passes > 0.5


def test_a_layer_with_an_alpha_of_its_own_is_decided_outside_the_budget() -> None:
    ref = _signals(np.random.default_rng(2), 400)
    # 15 % -> 24 % of 200 ratings: p = 0.016, too weak for the shared 1 %, enough for 20 %.
    ref = replace(ref, thumbs_down=Proportion.of(30, 200))
    worse = replace(ref, thumbs_down=Proportion.of(48, 200))
    pairs = [("disputes", ref, worse)]
    config = MonitorConfig(path=Path("monitor.yaml"), name="m", calls=("c",))
    alone = replace(config, signals=SignalThresholds(alpha=0.2))
    assert pass_alerts(config, [], pairs, NO_DRIFT, {}) == ()
    [alert] = pass_alerts(alone, [], pairs, NO_DRIFT, {})
    assert alert.metric == "thumbs_down_rate"
    assert alert.intent == "disputes"
