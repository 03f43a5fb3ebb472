"""Specification of canary_eval.verdict.tdist: Student's t tail and its normal score agree with
scipy's to about 1e-12, across the degrees of freedom a reference of healthy runs has and the
deficits a run can show, without importing scipy in the command; at the degrees of freedom of
Welch's test on a monitor's windows (up to a million) to 1e-10, and Welch's test is scipy's."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special
import scipy.stats

from canary_eval.verdict.detectable import Spread, _standardise
from canary_eval.verdict.tdist import t_normal_score, t_sf, welch_test
from imports import modules_after

DEGREES = (1, 2, 3, 4, 7, 10, 23, 60, 149, 500)
T_VALUES = (*np.linspace(-12, 12, 97).tolist(), 30.0, 150.0, 1e4)


@pytest.mark.parametrize("df", DEGREES)
def test_tail_matches_scipy(df: int) -> None:
    for t in T_VALUES:
        expected = scipy.stats.t.sf(t, df)
        assert t_sf(t, df) == pytest.approx(expected, rel=1e-11, abs=1e-300), t


@pytest.mark.parametrize("df", DEGREES)
def test_normal_score_has_the_same_tail_as_t(df: int) -> None:
    for t in T_VALUES:
        tail = scipy.stats.t.sf(abs(t), df)
        if tail == 0:  # below the smallest float: see the next but one test
            continue
        expected = math.copysign(scipy.stats.norm.isf(tail), t)
        assert t_normal_score(t, df) == pytest.approx(expected, rel=1e-9, abs=1e-12), t


def test_tail_is_exact_near_zero_and_symmetric() -> None:
    # Cauchy: P(T > t) = 1/2 - atan(t)/pi, exact where x = df / (df + t^2) rounds to 1
    assert t_sf(1e-9, 1) == pytest.approx(0.5 - math.atan(1e-9) / math.pi, rel=1e-15)
    assert t_sf(0.0, 5) == 0.5
    assert t_sf(-2.0, 5) == pytest.approx(1 - t_sf(2.0, 5), rel=1e-15)
    assert t_normal_score(-2.0, 5) == -t_normal_score(2.0, 5)


def test_a_tail_below_the_smallest_float_keeps_t_itself() -> None:
    assert t_sf(1e200, 3) == 0.0
    assert t_normal_score(1e200, 3) == 1e200


@pytest.mark.parametrize("df", [2, 9, 23, 60, 149])
def test_detectable_interpolates_the_normal_score_within_a_thousandth(df: int) -> None:
    t = np.concatenate([np.linspace(-20, 20, 801), np.geomspace(20, 1400, 50)])
    exact = np.array([t_normal_score(float(x), df) for x in t])
    assert np.max(np.abs(_standardise(t, Spread(1.0, df + 1, df)) - exact)) < 1e-3


def test_a_run_standardises_without_importing_scipy() -> None:
    code = (
        "from canary_eval.verdict.calibration import Observation, Reference, "
        "standardise; from canary_eval.verdict.detectable import Spread, detectable_drop; "
        "standardise(Observation(-0.05, 0.9, 100), Reference('history', 12, 0.0, 0.01, 11)); "
        "detectable_drop(Spread(0.01, 12, 11), 0.9, 4.0, 0.05)"
    )
    assert "scipy" not in modules_after(code)


@pytest.mark.parametrize(("df", "rel"), [(1e3 + 0.3, 1e-12), (2.5e4, 1e-11), (1e6, 1e-10)])
def test_tail_matches_scipy_at_the_degrees_of_freedom_of_welchs_test(df: float, rel: float) -> None:
    # Windows of thousands to a million tasks; an lgamma difference, or a * log(x) with x near 1,
    # would lose 1e-9 of the tail here.
    for t in (*np.linspace(-38, 38, 153).tolist(), 1e-7):
        expected = scipy.special.stdtr(df, -t)
        assert t_sf(t, df) == pytest.approx(expected, rel=rel, abs=1e-300), t


def _scipy_welch(
    m1: float, s1: float, n1: int, m2: float, s2: float, n2: int, alternative: str
) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        result = scipy.stats.ttest_ind_from_stats(
            m1, s1, n1, m2, s2, n2, equal_var=False, alternative=alternative
        )
    return 1.0 if math.isnan(result.pvalue) else float(result.pvalue)


@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_welch_test_is_scipys(alternative: str) -> None:
    rng = np.random.default_rng(11)
    sizes = (1, 2, 3, 7, 50, 1000, 125_000, 875_000)
    for _ in range(3000):
        n1, n2 = (int(v) for v in rng.choice(sizes, 2))
        s1, s2 = (float(rng.choice([0.0, rng.uniform(0.01, 3.0)])) for _ in range(2))
        m1 = float(rng.normal())
        m2 = float(rng.choice([m1, m1 + rng.normal(0, 0.02), m1 + rng.normal(0, 2)]))
        expected = _scipy_welch(m1, s1, n1, m2, s2, n2, alternative)
        got = welch_test(m1, s1, n1, m2, s2, n2, alternative=alternative)
        assert got == pytest.approx(expected, rel=1e-10, abs=1e-300), (m1, s1, n1, m2, s2, n2)


def test_welch_test_edge_cases_are_scipys_or_untestable() -> None:
    # No spread: certain, unless the means agree (scipy's NaN).
    assert welch_test(2.0, 0.0, 10, 1.0, 0.0, 10) == 0.0
    assert welch_test(1.0, 0.0, 10, 2.0, 0.0, 10) == 1.0
    assert welch_test(1.0, 0.0, 10, 1.0, 0.0, 10) == 1.0
    assert welch_test(1.0, 0.0, 10, 2.0, 0.0, 10, alternative="less") == 0.0
    # A lone observation with spread leaves no degrees of freedom (NaN); without spread scipy
    # takes one.
    assert welch_test(2.0, 1.0, 1, 1.0, 1.0, 30) == 1.0
    assert welch_test(2.0, 0.0, 1, 1.0, 1.0, 30) == pytest.approx(
        _scipy_welch(2.0, 0.0, 1, 1.0, 1.0, 30, "greater"), rel=1e-12
    )
    with pytest.raises(ValueError, match="alternative"):
        welch_test(1.0, 1.0, 5, 1.0, 1.0, 5, alternative="two-sided")
