"""Specification of canary_eval.verdict.discrete: the binomial, hypergeometric and negative
hypergeometric tails are exact to ~1e-12 relative (against integer arithmetic) down to 1e-300,
and scipy.stats' within scipy's own error (up to ~1e-9 for hypergeometric populations of 10**7,
~1e-12 absolute for its negative hypergeometric tail); a tail costs a few standard deviations'
worth of terms."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import pytest
import scipy.stats

from canary_eval.verdict import discrete
from canary_eval.verdict.discrete import (
    binom_sf,
    hypergeom_cdf,
    hypergeom_sf,
    nhypergeom_sf,
    stirling_error,
)

TOTALS = (2, 5, 40, 1000, 10**5, 10**7)


def _agrees(ours: float, reference: float, rel: float = 5e-9) -> bool:
    if reference < 1e-300:  # scipy underflows (or is subnormal) there: so must we, nearly
        return ours < 1e-290
    return abs(ours - reference) <= rel * reference


def _hypergeom_cases(total: int, seed: int) -> list[tuple[int, int, int]]:
    """(k, good, draws): the corners of the parameters, random ones, and for each the edges of
    the support and the points up to 12 standard deviations from the mean."""
    rng = np.random.default_rng(seed)
    params = {(g, d) for g in (0, 1, total - 1, total) for d in (0, 1, total - 1, total)}
    params |= {(int(rng.integers(0, total + 1)), int(rng.integers(0, total + 1))) for _ in range(8)}
    cases = []
    for good, draws in sorted(params):
        low, high = max(0, draws - (total - good)), min(good, draws)
        mean = draws * good / total
        sd = math.sqrt(mean * (1 - good / total) * (total - draws) / max(total - 1, 1))
        ks = {low - 1, low, low + 1, high - 1, high, high + 1}
        ks |= {round(mean + z * sd) for z in range(-12, 13)}
        cases += [(k, good, draws) for k in sorted(ks)]
    return cases


@pytest.mark.parametrize("total", TOTALS)
def test_hypergeometric_tails_are_scipys(total: int) -> None:
    for k, good, draws in _hypergeom_cases(total, seed=total):
        sf = scipy.stats.hypergeom.sf(k, total, good, draws)
        cdf = scipy.stats.hypergeom.cdf(k, total, good, draws)
        assert _agrees(hypergeom_sf(k, total, good, draws), sf), (k, total, good, draws)
        assert _agrees(hypergeom_cdf(k, total, good, draws), cdf), (k, total, good, draws)


def _exact_tails(
    total: int, good: int, draws: int, *, within: int | None = None
) -> dict[int, tuple[float, float]]:
    """k -> (P(X >= k), P(X <= k)) in integers until the last (correctly rounded) division,
    over the support or `within` standard deviations of the mean (beyond 50 the rest is below
    1e-500 of a tail)."""
    bad = total - good
    low, high = max(0, draws - bad), min(good, draws)
    if within is not None:
        mean = good * draws / total
        sd = math.sqrt(mean * (bad / total) * (total - draws) / (total - 1))
        low, high = max(low, int(mean - within * sd)), min(high, int(mean + within * sd))
    ways = [math.comb(good, low) * math.comb(bad, draws - low)]
    for j in range(low, high):  # the ratio of consecutive terms, exact in integers
        ways.append(ways[-1] * (good - j) * (draws - j) // ((j + 1) * (bad - draws + j + 1)))
    whole = math.comb(total, draws)
    below = list(itertools.accumulate(ways))
    above = list(itertools.accumulate(reversed(ways)))[::-1]
    return {
        k: (a / whole, b / whole)  # int / int: correctly rounded
        for k, a, b in zip(range(low, high + 1), above, below, strict=True)
    }


@pytest.mark.parametrize(
    ("total", "good", "draws"), [(60, 20, 25), (900, 300, 150), (2000, 37, 1500)]
)
def test_hypergeometric_far_tails_are_exact(total: int, good: int, draws: int) -> None:
    # Every point of the support, down to 1e-300: scipy's own far tails drift by ~1e-9 at 10**7.
    for k, (upper, lower) in _exact_tails(total, good, draws).items():
        if upper > 1e-300:
            assert hypergeom_sf(k - 1, total, good, draws) == pytest.approx(upper, rel=1e-12)
        if lower > 1e-300:
            assert hypergeom_cdf(k, total, good, draws) == pytest.approx(lower, rel=1e-12)


def test_the_tails_of_a_busy_intents_rate_test_are_exact() -> None:
    # A week of 175,000 calls against the day's 25,000, error rates of 1 % and 20 %: scipy's
    # tails are off by up to 4e-11 here (1.5e-10 at five times the size).
    total, draws = 200_000, 25_000
    for good in (2_000, 40_000):
        exact = _exact_tails(total, good, draws, within=50)
        mean = good * draws / total
        for k in range(int(mean - 8 * mean**0.5), int(mean + 8 * mean**0.5), 7):
            upper, lower = exact[k]
            assert hypergeom_sf(k - 1, total, good, draws) == pytest.approx(upper, rel=1e-13)
            assert hypergeom_cdf(k, total, good, draws) == pytest.approx(lower, rel=1e-13)


@pytest.mark.parametrize("n", [1, 2, 10, 1000, 10**6])
def test_binomial_tail_is_scipys(n: int) -> None:
    for p in (0.0, 1e-9, 1e-4, 0.01, 0.3, 0.5, 0.77, 0.99, 1 - 1e-9, 1.0):
        sd = math.sqrt(n * p * (1 - p))
        ks = {-2, -1, 0, 1, n - 1, n, n + 1} | {round(n * p + z * sd) for z in range(-15, 16)}
        for k in sorted(ks):
            assert _agrees(binom_sf(k, n, p), scipy.stats.binom.sf(k, n, p)), (k, n, p)


def test_binomial_far_tail_is_exact() -> None:
    n, p = 300, 0.1
    a, b = p.as_integer_ratio()  # the double's exact value
    ways = [math.comb(n, j) * a**j * (b - a) ** (n - j) for j in range(n + 1)]
    for k in range(-1, n):
        exact = sum(ways[k + 1 :]) / b**n
        if exact > 1e-300:
            assert binom_sf(k, n, p) == pytest.approx(exact, rel=1e-12), k


def test_negative_hypergeometric_tail_is_scipys_nhypergeom() -> None:
    # scipy sums its pmf and takes one minus the sum: right to ~1e-12 absolute only (0.339350709
    # 69 where the tail is 0.33935070977); the exact tails are checked below.
    rng = np.random.default_rng(5)
    for total in (5, 50, 1000, 10**5):
        for _ in range(12):
            good = int(rng.integers(0, total))
            r = int(rng.integers(1, total - good + 1))
            for k in {-1, 0, 1, good - 1, good, good + 1, *rng.integers(0, good + 1, 8).tolist()}:
                ref = scipy.stats.nhypergeom.sf(k, total, good, r)
                assert nhypergeom_sf(k, total, good, r) == pytest.approx(ref, rel=1e-9, abs=1e-9)


def test_negative_hypergeometric_far_tail_is_exact() -> None:
    # Good items (red) drawn before the r-th bad one: P(X = j) = C(j + r - 1, j) C(M - r - j,
    # n - j) / C(M, n), scipy's pmf. Its sf here is 4.7e-13 where the tail is 1.9e-32.
    total, good, r = 1000, 732, 178
    for k in (0, 500, 600, 650, 700, 720):
        ways = sum(
            math.comb(j + r - 1, j) * math.comb(total - r - j, good - j)
            for j in range(k + 1, good + 1)
        )
        exact = ways / math.comb(total, good)
        assert nhypergeom_sf(k, total, good, r) == pytest.approx(exact, rel=1e-12)


def test_the_negative_hypergeometric_tail_counts_every_good_item_when_the_rth_bad_never_comes() -> (
    None
):
    # scipy has NaN for r = bad + 1; the p95 exceedance test would then see every current call.
    assert nhypergeom_sf(5, 100, 40, 61) == 1.0
    assert nhypergeom_sf(40, 100, 40, 61) == 0.0


def test_stirling_error_is_log_factorial_minus_stirlings_formula() -> None:
    for n in range(1, 400):
        stirling = (n + 0.5) * math.log(n) - n + 0.5 * math.log(2 * math.pi)
        # to lgamma's own rounding: any wrong coefficient would be off by 1e-10 or more
        assert stirling_error(n) == pytest.approx(math.lgamma(n + 1) - stirling, abs=1e-12)


def test_a_tail_stops_a_few_standard_deviations_past_its_start() -> None:
    # The cost of a p-value: terms are summed only until the rest cannot change the sum.
    calls = 0
    original = discrete._tail

    def counting(
        log_first: float, ratio: Callable[[int], float], start: int, stop: int, step: int
    ) -> float:
        def counted(k: int) -> float:
            nonlocal calls
            calls += 1
            return ratio(k)

        return original(log_first, counted, start, stop, step)

    total, good, draws = 10**7, 5 * 10**6, 10**6
    sd = math.sqrt(draws * 0.25 * 0.9)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(discrete, "_tail", counting)
        assert 0.0 < hypergeom_sf(draws // 2, total, good, draws) < 0.5
    assert calls < 12 * sd
