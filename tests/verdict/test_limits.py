"""Honest limits: the drop a series is said to page on within six runs is caught that often when
it happens, checked by running pass/fail runs with per-request flips through the calibrated
CUSUM that decides (`calibration.reference` and `calibration.update`)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from canary_eval.suite.config import Alerting, IntentThresholds, Thresholds
from canary_eval.verdict.calibration import (
    Observation,
    PastRun,
    Reference,
    SeriesState,
    reference,
    series_thresholds,
    standardise,
    update,
)
from canary_eval.verdict.detectable import HORIZON_RUNS, Spread, _standardise
from canary_eval.verdict.limits import (
    Limit,
    limit_notes,
    planned_limits,
    series_limit,
)

THRESHOLDS = Thresholds()  # the shipped defaults: per intent 10 %, min_cases 10
ALERTING = Alerting()
GATED = ["billing", "disputes", "plans", "summarisation"]  # five series, like the bundled suite


class Intent:
    """A pass/fail intent of n cases: `truth` is what the model gets right, and every answer
    flips with probability `flips` on each request, as a model at temperature 0 does."""

    def __init__(self, n: int, right: int, flips: float, rng: np.random.Generator) -> None:
        self.truth = np.array([1.0] * right + [0.0] * (n - right))
        self.flips, self.rng = flips, rng
        self.baseline = self.answer(self.truth)  # one noisy draw, reused every hour

    def answer(self, truth: np.ndarray) -> np.ndarray:
        return np.where(self.rng.random(truth.size) < self.flips, 1 - truth, truth)

    def observe(self, broken: float = 0.0) -> Observation:
        """A run with a real drop: `broken` of the cases the model got right now wrong (a
        fraction: one more case wrong on that share of runs)."""
        truth = self.truth.copy()
        whole = int(broken)
        truth[:whole] = 0.0
        if self.rng.random() < broken - whole:
            truth[whole] = 0.0
        diffs = self.answer(truth) - self.baseline
        return Observation(
            x=float(diffs.mean()),
            baseline_score=float(self.baseline.mean()),
            n=truth.size,
            diffs=diffs.tolist(),
        )

    def broken_for(self, drop: float) -> float:
        """The cases turning wrong that drop the expected score by `drop`: with flips, each
        moves it by (1 - 2 flips) / n."""
        n, f = self.truth.size, self.flips
        expected = float(np.mean(self.truth * (1 - f) + (1 - self.truth) * f))
        return drop * expected * n / (1 - 2 * f)

    def reference(self, runs: int = 168) -> Reference:
        past = [
            PastRun(True, "k", {"disputes": SeriesState(x=self.observe().x)}) for _ in range(runs)
        ]
        return reference("disputes", self.observe(), past, 12, 168)


def caught(intent: Intent, ref: Reference, broken: float, draws: int) -> float:
    """The share of `draws` on which `broken` cases wrong page within HORIZON_RUNS runs."""
    h = series_thresholds(["overall", *GATED], ALERTING.false_pages_per_month)["disputes"]
    limit = THRESHOLDS.per_intent.max_relative_drop
    paged = 0
    for _ in range(draws):
        state = None
        for _ in range(HORIZON_RUNS):
            result = update("disputes", intent.observe(broken), state, ref, h, limit)
            state = result.state
            if result.alarm:
                paged += 1
                break
    return paged / draws


def stated(intent: Intent, ref: Reference) -> Limit:
    n, base = intent.truth.size, float(intent.baseline.mean())
    return series_limit("disputes", n, base, 0.0, THRESHOLDS, ALERTING, GATED, reference=ref)


@pytest.mark.parametrize(
    ("n", "right", "flips", "seed"),
    [(15, 13, 0.05, 7), (15, 13, 0.02, 5), (80, 70, 0.10, 8), (200, 176, 0.05, 4)],
)
def test_a_drop_of_the_stated_size_pages_within_six_runs_about_80_percent_of_the_time(
    n: int, right: int, flips: float, seed: int
) -> None:
    intent = Intent(n, right, flips, np.random.default_rng(seed))
    ref = intent.reference()
    limit = stated(intent, ref)
    broken = intent.broken_for(limit.drop)
    assert 0.10 < limit.drop < 0.25
    assert limit.reliable

    assert 0.68 <= caught(intent, ref, broken, draws=400) <= 0.92
    # and not a figure padded for safety: a drop 15 % smaller is clearly missed more often
    assert caught(intent, ref, 0.85 * broken, draws=400) <= 0.65


def test_an_intent_whose_noise_hides_any_real_drop_is_named_with_the_cases_it_needs() -> None:
    rng = np.random.default_rng(9)
    intent = Intent(n=10, right=5, flips=0.4, rng=rng)  # a coin-flip judge on half-right answers
    limit = stated(intent, intent.reference())

    assert not limit.reliable
    assert limit.cases_needed is not None
    assert limit.cases_needed > 10
    [line] = limit_notes([limit], THRESHOLDS)
    assert line.startswith("intent 'disputes' (10 cases) cannot page reliably: ")
    assert f"within {HORIZON_RUNS} runs with 80 % probability" in line
    assert f"it needs about {limit.cases_needed} cases for a drop of 10%" in line


def test_an_intent_below_min_cases_never_pages_and_needs_at_least_min_cases() -> None:
    small = Thresholds(per_intent=IntentThresholds(max_relative_drop=0.10, min_cases=10))
    limits, basis = planned_limits({"refunds": 4, "billing": 40}, None, small, ALERTING)
    by_name = {limit.name: limit for limit in limits}

    assert math.isinf(by_name["refunds"].drop)
    assert by_name["billing"].reliable
    assert "no baseline yet: assuming a baseline score of 0.9" in basis
    [line] = limit_notes(limits, small)
    needed = by_name["refunds"].cases_needed
    assert needed is not None
    assert line.endswith(f"it can never page; it needs {needed - 4} more case(s)")


@pytest.mark.parametrize(("runs", "skew"), [(12, 0.0), (40, 0.6), (168, 1.0)])
def test_the_simulated_rule_standardises_a_deficit_as_the_calibration_does(
    runs: int, skew: float
) -> None:
    ref = Reference("history", runs, 0.0, 0.02, runs - 1, skew)
    deficits = np.linspace(-0.0405, 0.1205, 33)  # not 0: calibration leaves t = 0 as it is
    spread = Spread(ref.sd, ref.runs, ref.df, ref.skew)
    simulated = _standardise(deficits / (ref.sd * math.sqrt(1 + 1 / runs)), spread)
    exact = [standardise(Observation(x=-d, baseline_score=0.8, n=50), ref) for d in deficits]
    assert np.allclose(simulated, exact, atol=0.01)
