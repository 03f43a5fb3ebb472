"""Specification of canary_eval.verdict.kolmogorov: the tail of the two-sided Kolmogorov-Smirnov
statistic is scipy.stats.kstwo's, to 1e-12 relative in every region of Simard and L'Ecuyer's
scheme but the one where both compute it as one minus a cdf near 1 (there to 1e-10); the exact
methods agree with each other, and Pelz and Good's series with the exact value at large n."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.special
import scipy.stats

from canary_eval.verdict.kolmogorov import (
    _durbin_cdf,
    _pelz_good_cdf,
    _pomeranz_cdf,
    _smirnov_sf,
    kstwo_sf,
)


def _region(n: int, d: float) -> str:
    spread = n * d * d
    if d >= 1 or n * d <= 1 or n * d >= n - 1:
        return "closed form"
    if d >= 0.5 or spread > 4 or (n > 140 and spread >= 2.2):
        return "one-sided"
    if n <= 140:
        return "durbin" if spread <= 0.754693 else "pomeranz"
    return "durbin" if n <= 100_000 and n * d**1.5 <= 1.4 else "pelz-good"


# Pomeranz's region has tails down to 6e-4 computed as 1 - P(D_n < d): the last bits of the cdf
# (~1e-14, in either implementation) become 1e-11 of the tail.
TOLERANCE = {"pomeranz": 1e-10}


@pytest.mark.parametrize(
    "n", [1, 2, 3, 5, 10, 40, 139, 140, 141, 1000, 20_000, 100_000, 100_001, 250_000, 10**7]
)
def test_tail_is_scipys_in_every_region(n: int) -> None:
    # d on a grid of n d^2 (what decides the method and the size of the tail) and of d itself
    spreads = np.r_[np.linspace(0.02, 6.0, 25), 0.754693, 2.2, 4.0, 18.0, 40.0]
    ds = {*np.sqrt(spreads / n), *np.linspace(0.0, 1.0, 21), 0.5 / n, 1.0 / n, 1.5 / n}
    ds |= {(n - 1) / n, 0.5, -0.1, 1.1}
    seen = set()
    for d in sorted(float(v) for v in ds):
        region = _region(n, d)
        seen.add(region)
        expected = float(scipy.stats.kstwo.sf(d, n))
        assert kstwo_sf(d, n) == pytest.approx(
            expected, rel=TOLERANCE.get(region, 1e-12), abs=1e-300
        ), (n, d, region)
    assert "closed form" in seen


def test_durbins_matrix_and_pomeranzs_recursion_agree() -> None:
    # Two exact methods, each valid everywhere for small n.
    for n in (2, 5, 17, 60, 140):
        for d in np.linspace(1.05 / n, 0.95, 30):
            assert _pomeranz_cdf(n, float(d)) == pytest.approx(_durbin_cdf(n, float(d)), rel=1e-12)


def test_pelz_and_goods_series_is_within_1e9_of_the_exact_value_at_large_n() -> None:
    n = 100_000
    for spread in (0.2, 0.5, 1.0, 1.5, 2.19):
        d = math.sqrt(spread / n)
        exact_tail = 1.0 - _durbin_cdf(n, d)
        assert 1.0 - _pelz_good_cdf(n, d) == pytest.approx(exact_tail, rel=1e-9)


@pytest.mark.parametrize("n", [1, 7, 141, 1000, 10**5])
def test_one_sided_tail_is_scipy_specials_smirnov(n: int) -> None:
    for spread in (0.01, 0.5, 2.2, 5.0, 30.0, 200.0, 600.0):
        d = min(0.999, math.sqrt(spread / n))
        expected = float(scipy.special.smirnov(n, d))
        assert _smirnov_sf(n, d) == pytest.approx(expected, rel=1e-12, abs=1e-300), d


def test_tail_falls_from_one_to_zero() -> None:
    for n in (1, 3, 50, 141, 5000, 300_000):
        tails = [kstwo_sf(float(d), n) for d in np.linspace(0.0, 1.0, 400)]
        assert tails[0] == 1.0
        assert tails[-1] == 0.0
        assert all(a >= b for a, b in itertools.pairwise(tails))
