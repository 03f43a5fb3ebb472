"""Drift tests: the domain classifier's calibration and AUC, intent mix, lengths and coverage."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import roc_auc_score

from canary_eval.monitor.config import DriftThresholds
from canary_eval.monitor.coverage import Coverage, coverage
from canary_eval.monitor.drift import (
    DriftFigures,
    Histogram,
    auc_from_scores,
    domain_classifier_test,
    drift_tests,
    intent_mix_shift,
    length_shift,
)
from canary_eval.monitor.gates import decide

from .conftest import NEW_TOPIC, TEMPLATES, fill


def _labelled(n: int, rng: random.Random, new_topic: float) -> list[tuple[str, bool]]:
    out = []
    for _ in range(n):
        new = rng.random() < new_topic
        pool = NEW_TOPIC if new else TEMPLATES[rng.choice(list(TEMPLATES))]
        out.append((fill(rng.choice(pool), rng), new))
    return out


def _inputs(n: int, rng: random.Random, *, new_topic: float = 0.0) -> list[str]:
    return [text for text, _ in _labelled(n, rng, new_topic)]


def test_domain_test_false_alarm_rate_on_same_distribution_samples_stays_near_alpha() -> None:
    rng = random.Random(7)
    trials = 50
    alarms = 0
    p_values = []
    for trial in range(trials):
        test = domain_classifier_test(
            _inputs(120, rng), _inputs(120, rng), alpha=0.05, permutations=300, seed=trial
        )
        assert test is not None
        p_values.append(test.p_value)
        alarms += test.p_value < 0.05
    assert alarms / trials <= 0.15
    # Calibrated, not merely conservative: p-values spread over (0, 1).
    assert 0.3 < float(np.median(p_values)) < 0.7


def test_domain_test_detects_a_new_topic() -> None:
    rng = random.Random(8)
    test = domain_classifier_test(_inputs(400, rng), _inputs(400, rng, new_topic=0.2), seed=1)
    assert test is not None
    assert test.auc > test.null_quantile
    assert test.p_value < 0.01


def test_domain_auc_matches_scikit_learn_on_the_same_predictions() -> None:
    rng = random.Random(9)
    test = domain_classifier_test(_inputs(300, rng), _inputs(300, rng, new_topic=0.1), seed=2)
    assert test is not None
    assert len(test.labels) == len(test.scores) == 300
    assert test.auc == pytest.approx(roc_auc_score(test.labels, test.scores), abs=1e-12)


def test_auc_from_scores_counts_ties_as_half() -> None:
    labels = [0, 0, 1, 1, 1, 0]
    scores = [0.1, 0.5, 0.5, 0.9, 0.2, 0.3]
    assert auc_from_scores(labels, scores) == pytest.approx(roc_auc_score(labels, scores))


def test_domain_test_needs_enough_inputs_on_both_sides() -> None:
    assert domain_classifier_test(["a b"] * 10, ["c d"] * 300) is None


def test_inputs_without_a_single_word_cannot_be_told_apart() -> None:
    # No token of two word characters: the vectoriser has an empty vocabulary, every score is 0.
    test = domain_classifier_test(["a b ?"] * 30, ["1 2 !"] * 30)
    assert test is not None
    assert set(test.scores) == {0.0}
    assert test.auc == 0.5
    assert test.p_value >= 0.5  # no evidence of drift at all


def test_intent_mix_shift_is_zero_for_equal_shares_and_large_for_a_new_intent() -> None:
    same = intent_mix_shift({"a": 500, "b": 500}, {"a": 250, "b": 250})
    assert same is not None
    assert same.psi == pytest.approx(0.0)
    assert same.p_value == pytest.approx(1.0)
    moved = intent_mix_shift({"a": 500, "b": 500}, {"a": 200, "b": 200, "other": 100})
    assert moved is not None
    assert moved.psi > 0.2
    assert moved.p_value < 1e-6
    assert moved.current["other"] == pytest.approx(0.2)


def histogram(samples: Any) -> Histogram:
    values, counts = np.unique(np.asarray(samples), return_counts=True)
    return values, counts


def test_length_shift_uses_every_length() -> None:
    gen = np.random.default_rng(0)
    same = length_shift(*(histogram(gen.integers(20, 80, 5000)) for _ in range(2)))
    longer = length_shift(
        histogram(gen.integers(20, 80, 5000)), histogram(gen.integers(40, 100, 5000))
    )
    assert same is not None
    assert longer is not None
    assert same.ks < 0.05
    assert longer.ks > 0.25
    assert longer.current_mean - longer.reference_mean == pytest.approx(20, abs=2)


def test_coverage_measures_inputs_far_from_every_canary_case_and_names_their_terms() -> None:
    rng = random.Random(10)
    canary = [fill(t, rng) for ts in TEMPLATES.values() for t in ts]
    intents = [name for name, ts in TEMPLATES.items() for _ in ts]
    labelled = _labelled(800, rng, 0.25)
    current = [text for text, _ in labelled]
    labels = ["other" if new else "billing" for _, new in labelled]
    cov = coverage(canary, intents, current, labels, _inputs(400, rng), floor=0.25)
    assert cov is not None
    assert cov.uncovered_share == pytest.approx(labels.count("other") / len(labels))
    assert cov.reference_uncovered_share == pytest.approx(0.0, abs=0.01)
    assert {"crypto", "wallet"} <= set(cov.top_terms)
    assert cov.per_intent == {"billing": 0.0, "other": 1.0}
    assert cov.canary_share == {name: pytest.approx(0.2) for name in TEMPLATES}


def test_the_domain_p_value_is_the_permutation_null_without_its_resolution_floor() -> None:
    rng = random.Random(12)
    same = domain_classifier_test(_inputs(200, rng), _inputs(200, rng), permutations=4000, seed=3)
    drifted = domain_classifier_test(_inputs(300, rng), _inputs(300, rng, new_topic=0.3), seed=4)
    assert same is not None
    assert drifted is not None
    # Where the 4,000 draws can resolve it, the Monte Carlo null says the same.
    labels, scores = np.array(same.labels, dtype=bool), np.array(same.scores)
    draws = np.random.default_rng(0).permuted(np.tile(labels, (4000, 1)), axis=1)
    null = np.array([auc_from_scores(row, scores) for row in draws[:4000]])
    assert same.p_value == pytest.approx(float((null >= same.auc).mean()), abs=0.02)
    # Far beyond every draw, the p-value keeps going down instead of stopping at 1 / 1,001.
    # (How far depends on which half is held out: about 1e-6 typically, 3e-6 with this seed.)
    assert drifted.p_value < 1e-5


def test_drift_gates_are_on_by_default_and_off_with_none() -> None:
    rng = random.Random(11)
    canary = [fill(t, rng) for ts in TEMPLATES.values() for t in ts]
    intents = [name for name, ts in TEMPLATES.items() for _ in ts]
    current = _inputs(300, rng, new_topic=0.5)
    figures = DriftFigures(
        domain=domain_classifier_test(_inputs(300, rng), current),
        intent_mix=intent_mix_shift({"a": 100, "b": 100}, {"a": 100, "b": 10}),
        length=None,
        coverage=coverage(canary, intents, current, ["a"] * len(current)),
    )
    traffic = {"a": 900, "billing": 100, "other": 300}
    alerts = decide(drift_tests(figures, traffic, DriftThresholds()), alpha=0.01)
    metrics = {a.metric for a in alerts}
    assert metrics == {"domain_auc", "intent_mix_psi", "uncovered_share", "intent_overrepresented"}
    # `other` is no intent: what it holds is the uncovered share's business.
    assert [a.intent for a in alerts if a.metric == "intent_overrepresented"] == ["a"]
    off = DriftThresholds(
        min_auc=None,
        max_psi=None,
        max_length_ks=None,
        max_uncovered_share=None,
        overrepresented_ratio=None,
    )
    assert drift_tests(figures, traffic, off) == []


def test_a_coverage_share_must_be_significantly_above_its_gate() -> None:
    def uncovered(share: float, sampled: int) -> list[str]:
        cov = Coverage(0.25, share, None, sampled, ("payroll",), {}, {"billing": 1.0})
        tests = drift_tests(DriftFigures(None, None, None, cov), {}, DriftThresholds())
        return [a.metric for a in decide(tests, alpha=0.01)]

    assert uncovered(0.15, 60) == []  # 9 of 60: could be 10 % with bad luck
    assert uncovered(0.15, 2000) == ["uncovered_share"]
    assert uncovered(0.09, 100_000) == []


@pytest.mark.parametrize(("n_reference", "n_current"), [(3000, 800), (60_000, 9_000)])
def test_length_shift_from_histograms_is_scipys_ks_test_on_every_call(
    n_reference: int, n_current: int
) -> None:
    # exact below 10,000 calls a side, Smirnov's asymptotic form beyond, as ks_2samp decides
    gen = np.random.default_rng(1)
    reference = gen.poisson(60, n_reference)
    current = gen.poisson(62, n_current)
    expected = scipy.stats.ks_2samp(reference, current)
    shift = length_shift(histogram(reference), histogram(current))
    assert shift is not None
    assert shift.ks == expected.statistic
    assert shift.p_value == pytest.approx(expected.pvalue, rel=1e-12, abs=1e-300)
    assert shift.current_mean == pytest.approx(current.mean())


def test_length_shift_without_calls_in_a_window_is_none() -> None:
    assert length_shift(histogram([]), histogram([40, 50])) is None
