"""Specification of canary_eval.verdict.twosample: average ranks, the Mann-Whitney test, the
chi-square test of a table and the two-sample Kolmogorov-Smirnov test are scipy.stats' (to
1e-12 relative, ties, tiny and huge samples included), and the drift layer's statistics run
without importing scipy.stats."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pytest
import scipy.stats

from canary_eval.verdict.twosample import (
    _outside_band,
    _outside_square,
    _u_tail,
    average_ranks,
    chi2_contingency,
    chi2_sf,
    ks_2samp_p,
    mann_whitney_p,
)
from imports import modules_after

ALTERNATIVES = ("greater", "less", "two-sided")


def test_average_ranks_are_scipys_rankdata_with_the_sizes_of_ties() -> None:
    rng = np.random.default_rng(1)
    for values in (
        rng.integers(0, 5, 40),
        rng.normal(size=25),
        np.array([3.0, 1.0, 3.0, 3.0, -2.0, 1.0]),
        np.array([7.0]),
        np.array([]),
    ):
        ranks, ties = average_ranks(values)
        np.testing.assert_array_equal(ranks, scipy.stats.rankdata(values))
        assert ties.sum() == values.size
        assert sorted(ties.tolist()) == sorted(np.unique(values, return_counts=True)[1].tolist())


def _samples(rng: np.random.Generator) -> list[tuple[Any, Any]]:
    pairs: list[tuple[Any, Any]] = []
    for n1 in (1, 2, 5, 8, 9, 40):
        for n2 in (1, 3, 8, 12, 300):
            shift = rng.choice([0.0, 0.7, 3.0])
            pairs.append((rng.normal(shift, 1, n1), rng.normal(0, 1, n2)))  # no ties: exact
            pairs.append((rng.integers(0, 4, n1) + shift, rng.integers(0, 4, n2)))  # ties
    pairs.append((np.ones(10), np.ones(7)))  # nothing but ties
    return pairs


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_mann_whitney_is_scipys(alternative: str) -> None:
    for x, y in _samples(np.random.default_rng(2)):
        expected = scipy.stats.mannwhitneyu(x, y, alternative=alternative).pvalue
        assert mann_whitney_p(x, y, alternative=alternative) == pytest.approx(
            expected, rel=1e-12, abs=1e-300
        ), (x, y)


def test_mann_whitney_on_the_domain_classifiers_held_out_scores() -> None:
    # Hundreds of held-out scores a side, ties among them (inputs the model cannot tell apart).
    rng = np.random.default_rng(3)
    scores = np.round(rng.normal(0, 1, 600), 2)
    current, reference = scores[:300] + 0.15, scores[300:]
    expected = scipy.stats.mannwhitneyu(current, reference, alternative="greater").pvalue
    assert mann_whitney_p(current, reference) == pytest.approx(expected, rel=1e-12)


def test_the_exact_null_of_u_is_a_distribution() -> None:
    for n1, n2 in ((1, 1), (3, 5), (8, 8), (4, 30)):
        assert _u_tail(0, n1, n2) == 1.0
        assert _u_tail(n1 * n2 + 1, n1, n2) == 0.0
        for u in range(n1 * n2 + 1):  # U is symmetric about n1 n2 / 2
            assert _u_tail(u, n1, n2) + _u_tail(n1 * n2 - u + 1, n1, n2) == pytest.approx(1.0)


def test_mann_whitney_rejects_empty_samples_and_unknown_alternatives() -> None:
    with pytest.raises(ValueError, match="values"):
        mann_whitney_p([], [1.0])
    with pytest.raises(ValueError, match="alternative"):
        mann_whitney_p([1.0], [2.0], alternative="bigger")


@pytest.mark.parametrize("columns", [2, 3, 5, 12])
def test_chi2_contingency_is_scipys(columns: int) -> None:
    rng = np.random.default_rng(columns)
    for scale in (3, 40, 5000, 10**6):
        table = rng.integers(0, scale, (2, columns)) + 1
        if columns > 2:
            table[0, 1] = 0  # a zero cell, its column not empty
        statistic, p = chi2_contingency(table)
        expected = scipy.stats.chi2_contingency(table)
        assert statistic == pytest.approx(expected.statistic, rel=1e-12)
        assert p == pytest.approx(expected.pvalue, rel=1e-12, abs=1e-300)


def test_chi2_contingency_corrects_a_2x2_table_by_at_most_its_gap() -> None:
    # Yates' half unit, never past the expected count (scipy's gh-13875): here the gaps are 0.25.
    for table in ([[10, 10], [11, 9]], [[5, 0], [1, 4]], [[100, 3], [80, 9]], [[2, 2], [2, 2]]):
        statistic, p = chi2_contingency(table)
        expected = scipy.stats.chi2_contingency(table)
        assert statistic == pytest.approx(expected.statistic, rel=1e-12, abs=1e-15)
        assert p == pytest.approx(expected.pvalue, rel=1e-12)


def test_chi2_contingency_of_one_row_and_of_an_empty_column() -> None:
    assert chi2_contingency([[3, 4, 5]]) == (0.0, 1.0)
    with pytest.raises(ValueError, match="no counts"):
        chi2_contingency([[3, 0, 5], [1, 0, 2]])


SIZES = (1, 2, 7, 60, 333, 1000, 4096, 9999, 10_000, 10_001, 60_000)


def _largest_gap(x: Any, y: Any) -> float:
    values = np.union1d(x, y)
    below_x = np.searchsorted(np.sort(x), values, "right") / len(x)
    below_y = np.searchsorted(np.sort(y), values, "right") / len(y)
    return float(np.max(np.abs(below_x - below_y)))


@pytest.mark.parametrize("n1", SIZES)
def test_ks_2samp_is_scipys(n1: int) -> None:
    rng = np.random.default_rng(n1)
    for n2 in SIZES:
        if n1 * n2 > 10**8:
            continue
        for shift in (0.0, 0.1, 1.0):
            x = rng.poisson(30 + shift * 5, n1)  # lengths: ties everywhere
            y = rng.poisson(30, n2)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                expected = scipy.stats.ks_2samp(x, y)
            statistic, p = ks_2samp_p(_largest_gap(x, y), n1, n2)
            assert statistic == expected.statistic, (n1, n2, shift)
            if caught:
                # Where the exact tail is 1, scipy's rounds above 1 now and then, which it takes
                # for a failure and answers with the asymptotic tail (0.99996 for 7 against 7).
                assert p == 1.0
                assert "Exact calculation unsuccessful" in str(caught[0].message)
                continue
            assert p == pytest.approx(expected.pvalue, rel=1e-11, abs=1e-300), (n1, n2, shift)


def test_the_exact_two_sample_tail_of_equal_samples_is_the_lattice_counts() -> None:
    # Two methods: reflection's alternating sum (n1 = n2), and the band sweep for any sizes.
    for n in (1, 2, 9, 50, 700):
        for h in range(1, n + 1, max(1, n // 25)):
            assert _outside_band(n, n, h) == pytest.approx(_outside_square(n, h), rel=1e-12)


def test_the_exact_two_sample_tail_against_counted_paths() -> None:
    # m = 3, n = 2: the 10 orderings of the values, D computed for each.
    m, n = 3, 2
    ds = []
    for positions in itertools.combinations(range(m + n), m):
        x = y = 0
        d = 0.0
        for i in range(m + n):
            x, y = (x + 1, y) if i in positions else (x, y + 1)
            d = max(d, abs(x / m - y / n))
        ds.append(d)
    for h in range(1, m * n + 1):
        share = sum(d >= h / (m * n) - 1e-12 for d in ds) / len(ds)
        assert _outside_band(m, n, h) == pytest.approx(share, rel=1e-12), h


def test_the_drift_statistics_run_without_importing_scipy_stats() -> None:
    code = (
        "import numpy as np; from canary_eval.monitor import drift; "
        "from canary_eval.verdict.twosample import mann_whitney_p; "
        "h = lambda x: np.unique(x, return_counts=True); g = np.random.default_rng(0); "
        "drift.length_shift(h(g.poisson(60, 3000)), h(g.poisson(61, 800))); "
        "drift.length_shift(h(g.poisson(60, 875000)), h(g.poisson(60.3, 125000))); "
        "drift.intent_mix_shift({'a': 5, 'b': 7}, {'a': 9, 'b': 2}); "
        "drift.auc_from_scores([0, 1, 1, 0], [0.1, 0.5, 0.2, 0.3]); "
        "mann_whitney_p(g.normal(size=30), g.normal(size=30)); mann_whitney_p([1, 2], [3, 4])"
    )
    assert "scipy.stats" not in modules_after(code)


def test_ks_2samp_without_a_gap_is_one() -> None:
    assert ks_2samp_p(0.0, 30, 40) == (0.0, 1.0)
    assert ks_2samp_p(1e-9, 30, 40) == (0.0, 1.0)  # below the lattice's step
    apart = scipy.stats.ks_2samp(np.arange(30), np.arange(100, 140))
    statistic, p = ks_2samp_p(1.0, 30, 40)
    assert statistic == 1.0
    assert p == pytest.approx(apart.pvalue, rel=1e-12)


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 7, 10, 25, 60])
def test_chi2_tail_is_scipys_from_the_centre_to_far_out(dof: int) -> None:
    for x in (0.0, 1e-6, 0.3, 1.0, dof / 2, dof, 2 * dof, 5 * dof + 20, 300.0, 1200.0):
        expected = scipy.stats.chi2.sf(x, dof)
        assert chi2_sf(x, dof) == pytest.approx(expected, rel=1e-12, abs=1e-300)
