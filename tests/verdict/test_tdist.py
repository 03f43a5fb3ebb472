"""Specification of canary_eval.verdict.tdist: Student's t tail and its normal score agree with
scipy's to about 1e-12, across the degrees of freedom a reference of healthy runs has and the
deficits a run can show, without importing scipy in the command."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.stats

from canary_eval.verdict.detectable import Spread, _standardise
from canary_eval.verdict.tdist import t_normal_score, t_sf

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
        "import sys; from canary_eval.verdict.calibration import Observation, Reference, "
        "standardise; from canary_eval.verdict.detectable import Spread, detectable_drop; "
        "standardise(Observation(-0.05, 0.9, 100), Reference('history', 12, 0.0, 0.01, 11)); "
        "detectable_drop(Spread(0.01, 12, 11), 0.9, 4.0, 0.05); "
        "print('scipy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
