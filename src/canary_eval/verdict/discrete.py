"""Tails of the binomial, hypergeometric and negative hypergeometric distributions, without scipy.

The monitor's rate gates (Fisher's exact test), its p95 exceedance test and coverage's binomial
test each need a tail per intent and window; importing scipy.stats for them cost every hourly
pass 0.3-0.6 s of CPU. A tail is summed from its end nearest the mode, where its terms are
largest, outwards by the ratio of consecutive terms, until what is left cannot change the sum: the
probabilities are log-concave, so past the mode each ratio is at most the one before and the rest
of the tail is bounded by a geometric series. A tail that holds the mode is one minus the other.

The first term of a tail comes from Loader's saddle-point form of the binomial probability
(C. Loader, "Fast and accurate computation of binomial probabilities", 2000): Stirling's error
terms and the deviance x log(x / np) + np - x, each small and accurate, where differences of
lgamma lose their digits (lgamma(10**7) alone is off by ~1e-8, which would be the probability's
relative error). The tails are exact to ~1e-13 relative down to 1e-300, populations of 10**7
included, where scipy.stats' own are off by up to ~1e-9 (its negative hypergeometric tail, one
minus a summed cdf, by up to ~1e-9 absolute); `tests/verdict/test_discrete.py` checks them
against integer arithmetic and scipy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

_LOG_2PI = math.log(2.0 * math.pi)
_NEGLIGIBLE = 2.0**-60  # of the sum so far: the rest of a tail below this cannot change it
# log(n!) - log(sqrt(2 pi n) (n / e)**n) for small n, where its asymptotic series falls short.
_STIRLING_TABLE = tuple(
    math.lgamma(n + 1.0) - (n + 0.5) * math.log(n) + n - _LOG_2PI / 2 for n in range(1, 16)
)


def stirling_error(n: int) -> float:
    """log(n!) - log(sqrt(2 pi n) (n / e)**n), for n >= 1, to full precision."""
    return _STIRLING_TABLE[n - 1] if n <= 15 else stirling_series(n)


def stirling_series(x: Any) -> Any:
    """lgamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2) for x > 15 (a float or an array of
    them): 1/12x - 1/360x^3 + ..., whose next term is below 2e-16 there."""
    r = 1.0 / (x * x)
    return (1 / 12 - r * (1 / 360 - r * (1 / 1260 - r * (1 / 1680 - r / 1188)))) / x


def _deviance(x: int, mean: float) -> float:
    """x log(x / mean) + mean - x, without the cancellation of its terms when x is near mean."""
    if abs(x - mean) >= 0.1 * (x + mean):
        return x * math.log(x / mean) + mean - x
    # log(x / mean) = 2 atanh(v) = 2 (v + v^3/3 + v^5/5 + ...) with v = (x - mean) / (x + mean)
    v = (x - mean) / (x + mean)
    total = (x - mean) * v
    power, j = 2.0 * x * v, 1
    while True:
        power *= v * v
        term = power / (2 * j + 1)
        if total + term == total:
            return total
        total += term
        j += 1


def _log_binomial_pmf(x: int, n: int, p: float, q: float, np_: float, nq: float) -> float:
    """log P(X = x) for X ~ Binomial(n, p), 0 <= x <= n, 0 < p < 1, given q = 1 - p and the means
    np_ = n p and nq = n q (each rounded once: their error is the deviance's)."""
    if x == 0:
        return n * (math.log1p(-p) if p < 0.5 else math.log(q))
    if x == n:
        return n * (math.log1p(-q) if q < 0.5 else math.log(p))
    exponent = stirling_error(n) - stirling_error(x) - stirling_error(n - x)
    exponent -= _deviance(x, np_) + _deviance(n - x, nq)
    return exponent - 0.5 * (_LOG_2PI + math.log(x) + math.log((n - x) / n))


def _tail(
    log_first: float, ratio: Callable[[int], float], start: int, stop: int, step: int
) -> float:
    """The sum of the terms from `start` to `stop` (inclusive, walking by `step`) whose first is
    exp(log_first) and whose k-th follows from the one before by `ratio(k)`, the walk leading away
    from the mode."""
    total = term = 1.0
    for k in range(start, stop, step):
        r = ratio(k)
        term *= r
        total += term
        # Past the mode the ratios only fall: the terms left sum to less than term r / (1 - r).
        if r < 1.0 and term * r < _NEGLIGIBLE * total * (1.0 - r):
            break
    return math.exp(log_first + math.log(total))


def binom_sf(k: int, n: int, p: float) -> float:
    """P(X > k) for X ~ Binomial(n, p): scipy.stats.binom.sf(k, n, p)."""
    if k < 0 or p >= 1.0:
        return 1.0 if k < n else 0.0
    if k >= n or p <= 0.0:
        return 0.0
    q = 1.0 - p

    def up(j: int) -> float:  # P(X = j + 1) / P(X = j)
        return (n - j) * p / ((j + 1) * q)

    def down(j: int) -> float:  # P(X = j - 1) / P(X = j)
        return j * q / ((n - j + 1) * p)

    mode = math.floor((n + 1) * p)
    if k + 1 > mode:
        first = _log_binomial_pmf(k + 1, n, p, q, n * p, n * q)
        return _tail(first, up, k + 1, n, 1)
    first = _log_binomial_pmf(k, n, p, q, n * p, n * q)
    return max(0.0, 1.0 - _tail(first, down, k, 0, -1))


def _log_hypergeom_pmf(k: int, total: int, good: int, draws: int) -> float:
    # Loader's identity: with p = draws / total, the hypergeometric probability is the chance
    # that Binomial(good, p) gives k and Binomial(bad, p) gives draws - k, over the chance that
    # Binomial(total, p) gives draws; each is accurate, so their ratio is.
    bad, rest = total - good, total - draws
    p, q = draws / total, rest / total
    return (
        _log_binomial_pmf(k, good, p, q, good * draws / total, good * rest / total)
        + _log_binomial_pmf(draws - k, bad, p, q, bad * draws / total, bad * rest / total)
        - _log_binomial_pmf(draws, total, p, q, float(draws), float(rest))
    )


def _hypergeom_tails(k: int, total: int, good: int, draws: int, *, upper: bool) -> float:
    """P(X >= k) (upper) or P(X <= k) for X ~ Hypergeometric(total, good, draws)."""
    bad = total - good
    low, high = max(0, draws - bad), min(good, draws)
    if (upper and k <= low) or (not upper and k >= high):
        return 1.0
    if (upper and k > high) or (not upper and k < low):
        return 0.0

    def up(j: int) -> float:  # P(X = j + 1) / P(X = j)
        return (good - j) * (draws - j) / ((j + 1) * (bad - draws + j + 1))

    def down(j: int) -> float:  # P(X = j - 1) / P(X = j)
        return j * (bad - draws + j) / ((good - j + 1) * (draws - j + 1))

    mode = (draws + 1) * (good + 1) // (total + 2)
    if upper and k > mode:
        return _tail(_log_hypergeom_pmf(k, total, good, draws), up, k, high, 1)
    if not upper and k < mode:
        return _tail(_log_hypergeom_pmf(k, total, good, draws), down, k, low, -1)
    if upper:  # the tail holds the mode: one minus the tail below k
        rest = _tail(_log_hypergeom_pmf(k - 1, total, good, draws), down, k - 1, low, -1)
    else:
        rest = _tail(_log_hypergeom_pmf(k + 1, total, good, draws), up, k + 1, high, 1)
    return max(0.0, 1.0 - rest)


def hypergeom_sf(k: int, total: int, good: int, draws: int) -> float:
    """P(X > k) for X the good items among `draws` drawn without replacement from `total` items
    of which `good` are good: scipy.stats.hypergeom.sf(k, total, good, draws)."""
    return _hypergeom_tails(k + 1, total, good, draws, upper=True)


def hypergeom_cdf(k: int, total: int, good: int, draws: int) -> float:
    """P(X <= k) for the X of `hypergeom_sf`: scipy.stats.hypergeom.cdf(k, total, good, draws)."""
    return _hypergeom_tails(k, total, good, draws, upper=False)


def nhypergeom_sf(k: int, total: int, good: int, r: int) -> float:
    """P(X > k) for X the good items drawn, without replacement from `total` items of which `good`
    are good, before the r-th bad one: scipy.stats.nhypergeom.sf(k, total, good, r).

    X > k exactly when the (k + 1)-th good item comes before the r-th bad one, that is when the
    first k + r draws hold more than k good items: a hypergeometric tail. With r one more than
    the bad items (scipy's NaN) the r-th bad one never comes and every good item counts.
    """
    if k < 0:
        return 1.0
    return hypergeom_sf(k, total, good, min(k + r, total))
