"""Student's t distribution without scipy: its upper tail, the normal score of equal tail, and
Welch's two-sample test.

Every run standardises each series' change against a reference of a few healthy runs, with a
t-predictive distribution (verdict/calibration.py), and states what each series can detect by
simulating that same rule (verdict/detectable.py); the monitor tests a rise in cost or tokens per
task, or a fall in CSAT, with Welch's test. Importing scipy.stats for these cost every hourly run
about half a second of CPU. The tail is the regularised incomplete beta function, evaluated by
its continued fraction (modified Lentz), as accurate as scipy's to about 1e-13 relative up to a
thousand degrees of freedom and 1e-10 at a million (Welch's test of windows of a million tasks);
beyond, the fraction's own rounding grows with the degrees of freedom (5e-9 at 10**8).
`tests/verdict/test_tdist.py` compares the two.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from canary_eval.verdict.discrete import stirling_series

_TINY = 1e-300  # keeps the continued fraction's denominators off zero
_EPS = 1e-15
_MAX_TERMS = 500  # the t tails need at most ~50, whatever the degrees of freedom


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with `df` > 0 degrees of freedom."""
    if t < 0:
        return 1.0 - t_sf(-t, df)
    total = df + t * t
    return 0.5 * _betainc(df / 2, 0.5, df / total, t * t / total)


def welch_test(
    mean1: float,
    sd1: float,
    n1: int,
    mean2: float,
    sd2: float,
    n2: int,
    *,
    alternative: str = "greater",
) -> float:
    """One-sided p-value of Welch's t-test that the first mean is greater (or "less") than the
    second, from each sample's mean, standard deviation and size: the p-value of
    scipy.stats.ttest_ind_from_stats(..., equal_var=False, alternative=...), 1.0 where that is
    NaN (no spread and equal means; a one-observation sample with spread). Sizes are at least 1."""
    if alternative not in ("greater", "less"):
        raise ValueError(f"unknown alternative {alternative!r}")
    var1, var2 = sd1 * sd1 / n1, sd2 * sd2 / n2
    spread = var1 + var2
    diff = mean1 - mean2 if alternative == "greater" else mean2 - mean1
    if spread == 0.0:  # t is infinite: certain, unless the means agree (0 / 0)
        return 0.0 if diff > 0 else 1.0
    # Satterthwaite's degrees of freedom, with IEEE arithmetic as scipy has it: a sample of one
    # divides by n - 1 = 0, which gives df = 0 (no distribution) with spread, and 0 / 0 (for
    # which scipy takes df = 1) without.
    terms = [
        v * v / (n - 1) if n > 1 else (math.inf if v > 0.0 else math.nan)
        for v, n in ((var1, n1), (var2, n2))
    ]
    denominator = terms[0] + terms[1]
    df = 1.0 if math.isnan(denominator) else spread * spread / denominator
    if df == 0.0:
        return 1.0
    return t_sf(diff / math.sqrt(spread), df)


def t_normal_score(t: float, df: float) -> float:
    """The normal deviate z with P(Z > |z|) = P(T > |t|), of t's sign; |t| where the tail is
    below the smallest float."""
    tail = t_sf(abs(t), df)
    z = -NormalDist().inv_cdf(tail) if tail > 0 else abs(t)
    return math.copysign(z, t)


def _betainc(a: float, b: float, x: float, y: float) -> float:
    """The regularised incomplete beta function I_x(a, b), given x and y = 1 - x (each
    computed without the other's rounding: near t = 0, x rounds to 1 while y does not)."""
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    # With a large, x is near 1: a log(x) needs x's distance from 1 (y) to its last digit.
    log_x = math.log1p(-y) if y < 0.5 else math.log(x)
    log_y = math.log1p(-x) if x < 0.5 else math.log(y)
    log_front = a * log_x + b * log_y - _log_beta(a, b)
    # The continued fraction converges fast below the mean; above it, by symmetry.
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _fraction(b, a, y) / b


def _log_beta(a: float, b: float) -> float:
    """log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b), without the cancellation of the
    large terms when one argument is large (a few million degrees of freedom: lgamma's own
    absolute error there, ~1e-9, would be the tail's relative error)."""
    small, large = min(a, b), max(a, b)
    if large <= 15.0:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    # lgamma(x) = (x - 1/2) log x - x + log(2 pi) / 2 + e(x): the difference of the leading
    # terms, rearranged so nothing large cancels, plus the difference of the small e's.
    whole = large + small
    ratio = (large - 0.5) * math.log1p(small / large) + small * math.log(whole) - small
    return math.lgamma(small) - ratio - float(stirling_series(whole) - stirling_series(large))


def _fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b), by the modified Lentz method."""
    c, d = 1.0, _nonzero(1.0 - (a + b) * x / (a + 1))
    d = 1.0 / d
    result = d
    for m in range(1, _MAX_TERMS):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 / _nonzero(1.0 + numerator * d)
            c = _nonzero(1.0 + numerator / c)
            result *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return result


def _nonzero(value: float) -> float:
    return value if abs(value) > _TINY else _TINY
