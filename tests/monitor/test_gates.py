"""Ops and signal gates: on by default; a breach needs both size and significance."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from canary_eval.models import Alert
from canary_eval.monitor.config import OpsThresholds, SignalThresholds
from canary_eval.monitor.gates import (
    RateChange,
    ValueChange,
    decide,
    fold_intents,
    rate_tests,
    relative_tests,
)
from canary_eval.monitor.ops import RELATIVE, OpsFigures, exceedance_test, ops_gates
from canary_eval.monitor.signals import Proportion, SignalFigures, signal_tests
from imports import modules_after


def _rate_alerts(
    changes: list[RateChange], *, max_change: float | None, min_n: int = 1, drop: bool = False
) -> list[Alert]:
    tests = rate_tests(
        "signals", "m", "rate", changes, max_change=max_change, min_n=min_n, drop=drop
    )
    return decide(tests, alpha=0.05)


def test_a_rate_gate_breaches_only_past_its_threshold_and_when_significant() -> None:
    big = RateChange(None, 100, 1000, 200, 1000)  # 10 % -> 20 %
    small_sample = RateChange("rare", 1, 10, 3, 10)  # 10 % -> 30 %, but 10 tasks
    within = RateChange("steady", 100, 1000, 120, 1000)  # +2 points
    alerts = _rate_alerts([big, small_sample, within], max_change=0.05, min_n=5)
    assert [a.intent for a in alerts] == [None]
    assert alerts[0].observed == pytest.approx(0.1)
    assert alerts[0].failing
    assert alerts[0].allowed == 0.05
    assert alerts[0].message.startswith(
        "rate rose from 10.0% to 20.0% (+10.0 points, allowed 5.0; p="
    )


def test_a_rate_gate_is_off_without_a_threshold() -> None:
    assert _rate_alerts([RateChange(None, 0, 1000, 900, 1000)], max_change=None) == []


def test_a_drop_gate_looks_the_other_way() -> None:
    fell = RateChange("billing", 500, 1000, 400, 1000)
    rose = RateChange("shipping", 400, 1000, 500, 1000)
    alerts = _rate_alerts([fell, rose], max_change=0.05, drop=True)
    assert [a.intent for a in alerts] == ["billing"]
    assert "fell from 50.0% to 40.0% (-10.0 points" in alerts[0].message


def test_a_small_intent_is_judged_by_an_exact_test_not_the_z_tests_tail() -> None:
    # 1 in 40 -> 6 in 40: the pooled z-test says p = 0.024, Fisher's exact test 0.054.
    change = RateChange("rare", 1, 40, 6, 40)
    [test] = rate_tests("signals", "m", "rate", [change], max_change=0.05, min_n=1)
    assert test.p_value == pytest.approx(0.0540, abs=5e-4)
    assert decide([test], alpha=0.05) == []


def test_holm_correction_spans_every_test_it_is_given() -> None:
    # p is about 0.011: significant alone, not among five tests, whatever their metrics.
    change = RateChange("billing", 50, 500, 75, 500)
    quiet = [RateChange(f"i{k}", 50, 500, 50, 500) for k in range(4)]
    one = rate_tests("signals", "a", "a", [change], max_change=0.01, min_n=1)
    others = rate_tests("signals", "b", "b", quiet, max_change=0.01, min_n=1)
    assert len(decide(one, alpha=0.05)) == 1
    assert decide(one + others, alpha=0.05) == []


def test_relative_gates_need_enough_data_a_rise_past_the_floor_and_significance() -> None:
    changes = [
        ValueChange(None, 1000.0, 2100.0, 500, 500, p_value=1e-6),
        ValueChange("tiny", 1000.0, 5000.0, 5, 500, p_value=1e-6),
        ValueChange("fine", 1000.0, 1100.0, 500, 500, p_value=1e-6),
        ValueChange("fast", 30.0, 90.0, 500, 500, p_value=1e-6),  # tripled, by 60 ms
        ValueChange("noisy", 1000.0, 2100.0, 500, 500, p_value=0.2),  # large, not significant
    ]
    tests = relative_tests(
        "ops",
        "latency_p95_ms",
        "p95 latency",
        changes,
        max_increase=0.5,
        min_n=100,
        unit=" ms",
        floor=250.0,
    )
    assert [t.intent for t in tests] == [None, "fine", "fast", "noisy"]  # "tiny" is untested
    alerts = decide(tests, alpha=0.01)
    assert [a.intent for a in alerts] == [None]
    assert alerts[0].observed == pytest.approx(1.1)
    assert "2,100 ms vs 1,000 ms" in alerts[0].message


def test_intents_alerting_with_the_overall_figure_are_named_in_its_one_alert() -> None:
    changes = [
        ValueChange(None, 1000.0, 2100.0, 5000, 5000, p_value=1e-9),
        ValueChange("billing", 1000.0, 3000.0, 500, 500, p_value=1e-6),
        ValueChange("faq", 1000.0, 2500.0, 500, 500, p_value=1e-6),
    ]
    tests = relative_tests(
        "ops", "latency_p95_ms", "p95 latency", changes, max_increase=0.5, min_n=100
    )
    [alert] = fold_intents(decide(tests, alpha=0.01), RELATIVE)
    assert alert.intent is None
    assert alert.message.endswith("worst intents: billing +200%, faq +150%")


def test_the_p95_exceedance_test_keeps_its_level_on_unchanged_latencies() -> None:
    # Log-normal latencies, the same in both windows, at the counts of a quiet intent.
    gen = np.random.default_rng(7)
    trials, rejected = 4000, 0
    for _ in range(trials):
        ref, cur = gen.lognormal(6.5, 0.6, 700), gen.lognormal(6.5, 0.6, 100)
        p95 = np.quantile(ref, 0.95)
        p = exceedance_test(int((ref > p95).sum()), 700, int((cur > p95).sum()), 100)
        rejected += p < 0.01
    assert rejected / trials <= 0.01 + 3 * (0.01 * 0.99 / trials) ** 0.5


def test_the_p95_exceedance_test_sees_doubled_latencies_on_a_quiet_intent() -> None:
    gen = np.random.default_rng(8)
    ref, cur = gen.lognormal(6.5, 0.6, 700), 2 * gen.lognormal(6.5, 0.6, 100)
    p95 = np.quantile(ref, 0.95)
    slow = int((cur > p95).sum())
    assert slow > 20  # of 100, where 5 are expected
    assert exceedance_test(int((ref > p95).sum()), ref.size, slow, cur.size) < 1e-6


def _ops(**figures: float) -> OpsFigures:
    base: dict[str, float | int | None] = dict(
        calls=1000,
        tasks=400,
        latency_p50_ms=500.0,
        latency_p95_ms=1000.0,
        errors=10,
        rate_limited=5,
        fallbacks=5,
        cost_usd=4.0,
        cost_per_task_usd=0.01,
        tokens_per_task=600.0,
        timed_calls=1000,
        slow_calls=50,
        costed_tasks=400,
        cost_per_task_sd=0.005,
        tokens_per_task_sd=300.0,
    )
    base.update(figures)
    return OpsFigures(**base)  # type: ignore[arg-type]


def test_every_ops_gate_is_on_by_default_and_names_its_metric() -> None:
    ref = _ops()
    cur = _ops(
        latency_p95_ms=2000.0,
        slow_calls=400,
        errors=80,
        rate_limited=60,
        fallbacks=100,
        cost_per_task_usd=0.02,
        tokens_per_task=1200.0,
    )
    metrics = {a.metric for a in decide(ops_gates([(None, ref, cur)], OpsThresholds()), 0.01)}
    assert metrics == {
        "latency_p95_ms",
        "error_rate",
        "rate_limited_rate",
        "fallback_rate",
        "cost_per_task_usd",
        "tokens_per_task",
    }
    off = OpsThresholds(
        max_p95_latency_increase=None,
        max_error_rate_increase=None,
        max_rate_limited_increase=None,
        max_fallback_increase=None,
        max_cost_per_task_increase=None,
        max_tokens_per_task_increase=None,
    )
    assert ops_gates([(None, ref, cur)], off) == []


def test_a_large_ops_change_that_noise_explains_does_not_alert() -> None:
    ref = _ops(calls=150, timed_calls=150, slow_calls=8, tasks=120, costed_tasks=120)
    # p95 +60 % and 400 ms slower, but 10 of 150 calls past the old p95 where 8 were; cost and
    # tokens +30 % with a per-task spread three times the mean.
    cur = _ops(
        calls=150,
        timed_calls=150,
        latency_p95_ms=1600.0,
        slow_calls=10,
        tasks=120,
        costed_tasks=120,
        cost_per_task_usd=0.013,
        cost_per_task_sd=0.03,
        tokens_per_task=800.0,
        tokens_per_task_sd=1800.0,
    )
    tests = ops_gates([(None, ref, cur)], OpsThresholds())
    large = {t.alert.metric for t in tests if t.alert is not None}
    assert large == {"latency_p95_ms", "cost_per_task_usd", "tokens_per_task"}
    assert decide(tests, alpha=0.01) == []


def _signals(down: int, accepted: int, csat: float) -> SignalFigures:
    return SignalFigures(
        tasks=1000,
        acceptance=Proportion.of(accepted, 1000),
        edit=Proportion.of(100, 1000),
        escalation=Proportion.of(50, 1000),
        thumbs_down=Proportion.of(down, 600),
        csat_mean=csat,
        csat_n=300,
        csat_sd=1.0,
    )


def test_signal_gates_cover_thumbs_down_acceptance_and_csat_by_default() -> None:
    ref, cur = _signals(60, 500, 4.0), _signals(150, 380, 3.4)
    alerts = decide(signal_tests([("disputes", ref, cur)], SignalThresholds()), alpha=0.01)
    assert {a.metric for a in alerts} == {"thumbs_down_rate", "acceptance_rate", "csat"}
    assert all(a.layer == "signals" and a.intent == "disputes" for a in alerts)
    csat = next(a for a in alerts if a.metric == "csat")
    assert csat.observed == pytest.approx(0.6)
    assert decide(signal_tests([("disputes", ref, ref)], SignalThresholds()), alpha=0.01) == []


def test_the_p95_exceedance_test_is_scipys_negative_hypergeometric_tail() -> None:
    # A quiet intent, and a busy one's hour against its week. scipy's nhypergeom.sf is one minus
    # a summed cdf: 0.0013133042 for the busy one, whose tail is 0.0013133008 (its hypergeometric
    # form, which scipy.stats.hypergeom computes to 4e-11).
    for slow_ref, n_ref, slow_cur, n_cur in ((35, 700, 12, 100), (43_750, 875_000, 6_500, 125_000)):
        total, r = n_ref + n_cur, slow_ref + 1
        got = exceedance_test(slow_ref, n_ref, slow_cur, n_cur)
        loose = scipy.stats.nhypergeom.sf(slow_cur - 1, total, n_cur, r)
        assert got == pytest.approx(loose, rel=1e-9, abs=1e-8)
        exact = scipy.stats.hypergeom.sf(slow_cur - 1, total, n_cur, slow_cur - 1 + r)
        assert got == pytest.approx(exact, rel=1e-9)
    # Every reference call past its own p95 cannot happen, but would make every current call
    # count (scipy's NaN, once clipped to a p-value of 0).
    assert exceedance_test(20, 20, 5, 10) == 1.0


def test_cost_and_csat_p_values_are_scipys_welch_tests() -> None:
    # Changes past their thresholds (cost +30 %, CSAT -0.4), so that their tests carry alerts.
    ref = _ops(cost_per_task_usd=0.010, cost_per_task_sd=0.03)
    cur = _ops(cost_per_task_usd=0.013, cost_per_task_sd=0.025, costed_tasks=350)
    tests = ops_gates([(None, ref, cur)], OpsThresholds())
    [cost] = [t for t in tests if t.alert is not None and t.alert.metric == "cost_per_task_usd"]
    expected = scipy.stats.ttest_ind_from_stats(
        0.013, 0.025, 350, 0.010, 0.03, 400, equal_var=False, alternative="greater"
    ).pvalue
    assert cost.p_value == pytest.approx(expected, rel=1e-12)
    ref_s, cur_s = _signals(60, 500, 4.0), _signals(60, 500, 3.6)
    tests = signal_tests([("a", ref_s, cur_s)], SignalThresholds())
    [csat] = [t for t in tests if t.alert is not None and t.alert.metric == "csat"]
    expected = scipy.stats.ttest_ind_from_stats(
        3.6, 1.0, 300, 4.0, 1.0, 300, equal_var=False, alternative="less"
    ).pvalue
    assert csat.p_value == pytest.approx(expected, rel=1e-12)


def test_ops_and_signal_gates_run_without_importing_scipy_stats() -> None:
    code = """
from canary_eval.monitor.config import OpsThresholds, SignalThresholds
from canary_eval.monitor.ops import OpsFigures, ops_gates
from canary_eval.monitor.signals import Proportion, SignalFigures, signal_tests

def ops(slow, errors, cost):
    return OpsFigures(1000, 400, 500.0, 1000.0, errors, 5, 5, 4.0, cost, 600.0, 1000, slow, 400,
                      0.005, 300.0)

def signals(down, accepted, csat):
    return SignalFigures(1000, Proportion.of(accepted, 1000), Proportion.of(100, 1000),
                         Proportion.of(50, 1000), Proportion.of(down, 600), csat, 300, 1.0)

ops_gates([(None, ops(50, 10, 0.01), ops(80, 30, 0.02))], OpsThresholds())
signal_tests([("a", signals(60, 500, 4.0), signals(90, 450, 3.8))], SignalThresholds())
"""
    assert "scipy.stats" not in modules_after(code)
