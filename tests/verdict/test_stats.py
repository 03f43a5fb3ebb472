"""Specification of canary_eval.verdict.stats: agreement with scipy and hand-worked values, and
seeded simulations showing the paired drop test neither pages on noise nor misses a real drop."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.stats

from canary_eval.verdict.stats import (
    PairedTest,
    binomial_excess_test,
    bootstrap_mean_ci,
    bootstrap_mean_cis,
    exact_rate_test,
    holm,
    mcnemar_exact,
    minimum_detectable_drop,
    paired_delta_ci,
    paired_drop_test,
    quantile_increase_test,
    relative_drop,
    resampled_quantiles,
    sign_flip_test,
    two_proportion_test,
    wilson_interval,
)

ALPHA = 0.05


def _binomial_margin(rate: float, trials: int) -> float:
    # Three standard errors of a rate estimated from `trials` Bernoulli outcomes: a seeded run at
    # the nominal rate lands inside with probability ~0.999, so an excess means a broken test.
    return 3.0 * math.sqrt(rate * (1.0 - rate) / trials)


# --- McNemar ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("worse", "better"), [(7, 1), (5, 5), (0, 4), (12, 3), (30, 18), (1, 0)])
def test_mcnemar_exact_matches_scipy_one_sided_binomial_test(worse: int, better: int) -> None:
    expected = scipy.stats.binomtest(worse, worse + better, 0.5, alternative="greater").pvalue
    assert mcnemar_exact(worse, better) == pytest.approx(expected, rel=1e-12)


def test_mcnemar_exact_is_one_without_discordant_pairs() -> None:
    assert mcnemar_exact(0, 0) == 1.0


def test_mcnemar_exact_stays_accurate_on_large_counts() -> None:
    expected = scipy.stats.binomtest(560, 1000, 0.5, alternative="greater").pvalue
    assert mcnemar_exact(560, 440) == pytest.approx(expected, rel=1e-9)


# --- sign-flip permutation test --------------------------------------------------------------


def _scipy_sign_flip(diffs: np.ndarray, n_resamples: int) -> float:
    result = scipy.stats.permutation_test(
        (diffs,),
        np.mean,
        permutation_type="samples",
        alternative="less",
        n_resamples=n_resamples,
        rng=np.random.default_rng(123),
    )
    return float(result.pvalue)


def test_sign_flip_exact_case_matches_scipy() -> None:
    # Non-dyadic values with no ties: 2**12 patterns, enumerated by both.
    diffs = np.random.default_rng(7).normal(-0.1, 0.3, size=12)
    expected = _scipy_sign_flip(diffs, n_resamples=10_000)
    assert sign_flip_test(diffs) == pytest.approx(expected, abs=1e-9)


def test_sign_flip_exact_case_counts_tied_patterns_like_scipy() -> None:
    diffs = np.array([-0.5, -0.25, -0.25, 0.5, -0.75, 0.25, -1.0, 0.5, -0.25, 0.75])
    expected = _scipy_sign_flip(diffs, n_resamples=10_000)
    assert sign_flip_test(diffs) == pytest.approx(expected, abs=1e-9)


def test_sign_flip_ignores_zero_differences() -> None:
    diffs = [-0.3, -0.2, 0.1, -0.4, 0.05]
    assert sign_flip_test([*diffs, 0.0, 0.0, 0.0]) == sign_flip_test(diffs)


def test_sign_flip_monte_carlo_case_agrees_with_scipy() -> None:
    diffs = np.random.default_rng(11).normal(-0.03, 0.2, size=60)
    expected = _scipy_sign_flip(diffs, n_resamples=20_000)
    observed = sign_flip_test(diffs, n_resamples=20_000, seed=3)
    assert 0.01 < expected < 0.5  # a p-value where Monte Carlo error is visible
    assert observed == pytest.approx(expected, abs=0.01)


def test_sign_flip_p_value_is_exact_on_a_grid_and_never_zero() -> None:
    # 40 pass -> fail flips: only the all-negative pattern is as extreme.
    assert sign_flip_test([-1.0] * 40, n_resamples=500) == 0.5**40


def test_sign_flip_on_a_grid_matches_scipys_exact_enumeration() -> None:
    # 18 differences in thirds (a pass/fail scorer weighted 1 and one weighted 0.5), with ties:
    # beyond enumeration by sign_flip_test, exact by convolution.
    rng = np.random.default_rng(17)
    diffs = rng.choice(
        [-1.0, -2 / 3, -1 / 3, 1 / 3, 2 / 3, 1.0], size=18, p=[0.2, 0.2, 0.2, 0.15, 0.15, 0.1]
    )
    expected = scipy.stats.permutation_test(
        (diffs,), np.mean, permutation_type="samples", alternative="less", n_resamples=np.inf
    ).pvalue
    assert sign_flip_test(diffs) == pytest.approx(expected, rel=1e-9)


def test_a_clear_drop_is_bounded_in_the_tail_instead_of_resampled() -> None:
    diffs = np.random.default_rng(8).normal(-0.2, 0.1, size=50)  # no grid: continuous scores
    p = sign_flip_test(diffs, n_resamples=10_000)
    assert 0.0 < p < 1 / 10_001


def test_a_large_p_value_stops_resampling_early_and_still_agrees_with_scipy() -> None:
    diffs = np.random.default_rng(12).normal(0.01, 0.2, size=80)
    expected = _scipy_sign_flip(diffs, n_resamples=20_000)
    observed = sign_flip_test(diffs, n_resamples=10_000, seed=4)
    assert expected > 0.3
    # Stopped at the 500th pattern as extreme: p = 500 / drawn, with drawn < 10,000.
    assert (500 / observed) == pytest.approx(round(500 / observed))
    assert 500 / observed < 10_000
    assert observed == pytest.approx(expected, abs=0.05)


def test_sign_flip_is_one_when_nothing_changed() -> None:
    assert sign_flip_test([0.0, 0.0, 0.0]) == 1.0
    assert sign_flip_test([]) == 1.0


def test_sign_flip_is_reproducible_for_a_seed() -> None:
    diffs = np.random.default_rng(5).normal(-0.02, 0.2, size=40)
    assert sign_flip_test(diffs, n_resamples=2000, seed=9) == sign_flip_test(
        diffs, n_resamples=2000, seed=9
    )


# --- quantiles -------------------------------------------------------------------------------


@pytest.mark.parametrize("q", [0.5, 0.9, 0.95])
def test_resampled_quantiles_have_the_distribution_of_quantiles_of_explicit_resamples(
    q: float,
) -> None:
    data = np.array([3.0, 10.0, 11.0, 40.0, 95.0])
    # Every one of the 5**5 equally likely resamples, its quantile as numpy computes it.
    resamples = np.array(list(itertools.product(data, repeat=data.size)))
    exact = np.quantile(resamples, q, axis=1)
    drawn = resampled_quantiles(data, q, 100_000, np.random.default_rng(0))
    support = np.unique(exact)
    assert set(np.unique(drawn)) <= set(support)
    exact_cdf = np.searchsorted(np.sort(exact), support, side="right") / exact.size
    drawn_cdf = np.searchsorted(np.sort(drawn), support, side="right") / drawn.size
    # Dvoretzky-Kiefer-Wolfowitz: 100 000 draws stray 0.01 from their CDF with odds below 1e-8.
    assert np.max(np.abs(drawn_cdf - exact_cdf)) < 0.01


def test_quantile_increase_test_finds_a_slower_tail_and_not_a_same_one() -> None:
    rng = np.random.default_rng(5)
    before = rng.gamma(2.0, 100.0, size=2000)
    same = rng.gamma(2.0, 100.0, size=2000)
    slower = same * 1.5
    assert quantile_increase_test(slower, before) < 0.001
    assert quantile_increase_test(same, before) > 0.05
    assert quantile_increase_test(slower, before, seed=3) == quantile_increase_test(
        slower, before, seed=3
    )
    assert quantile_increase_test([5.0], before) == 1.0


# --- bootstrap intervals ---------------------------------------------------------------------


def test_bootstrap_mean_ci_agrees_with_scipy_percentile_bootstrap() -> None:
    values = np.random.default_rng(2).normal(0.7, 0.2, size=30)
    expected = scipy.stats.bootstrap(
        (values,),
        np.mean,
        method="percentile",
        n_resamples=20_000,
        rng=np.random.default_rng(99),
    ).confidence_interval
    low, high = bootstrap_mean_ci(values, n_resamples=20_000, seed=1)
    # Monte Carlo error of a 2.5 % quantile over 20 000 resamples is well under 3 % of the
    # standard error of the mean; two independent streams differ by less than 5 % of it.
    tolerance = 0.05 * float(values.std(ddof=1)) / math.sqrt(values.size)
    assert low == pytest.approx(expected.low, abs=tolerance)
    assert high == pytest.approx(expected.high, abs=tolerance)


def test_bootstrap_mean_ci_brackets_the_mean_and_narrows_with_lower_confidence() -> None:
    values = np.random.default_rng(4).uniform(0, 1, size=100)
    low95, high95 = bootstrap_mean_ci(values)
    low80, high80 = bootstrap_mean_ci(values, confidence=0.8)
    assert low95 < low80 < values.mean() < high80 < high95


def test_bootstrap_mean_ci_edge_sizes() -> None:
    low, high = bootstrap_mean_ci([])
    assert math.isnan(low)
    assert math.isnan(high)
    assert bootstrap_mean_ci([0.4]) == (0.4, 0.4)


def test_bootstrap_mean_ci_on_few_distinct_values_agrees_with_scipy() -> None:
    # Pass/fail scores are resampled as counts of each value; the interval must not change.
    values = np.random.default_rng(3).binomial(1, 0.8, size=400).astype(float)
    expected = scipy.stats.bootstrap(
        (values,), np.mean, method="percentile", n_resamples=20_000, rng=np.random.default_rng(7)
    ).confidence_interval
    low, high = bootstrap_mean_ci(values, n_resamples=20_000, seed=1)
    # The resampled means lie on a lattice of step 1/400, and a 2.5 % point that falls on one of
    # its jumps lands on either side of it from one stream to the next: one step apart at most.
    step = 1 / values.size
    assert low == pytest.approx(expected.low, abs=step + 1e-12)
    assert high == pytest.approx(expected.high, abs=step + 1e-12)
    assert bootstrap_mean_ci([0.5] * 50) == (0.5, 0.5)


def test_intervals_resampled_together_are_each_the_interval_alone() -> None:
    rng = np.random.default_rng(6)
    graded, passed = rng.uniform(0, 1, size=300), rng.binomial(1, 0.7, size=300)
    diffs = graded - rng.uniform(0, 1, size=300)
    together = bootstrap_mean_cis(graded, passed, diffs, seed=4)
    assert together == [bootstrap_mean_ci(v, seed=4) for v in (graded, passed, diffs)]
    with pytest.raises(ValueError, match="one length"):
        bootstrap_mean_cis(graded, diffs[:-1])


def test_paired_delta_ci_brackets_the_mean_difference() -> None:
    rng = np.random.default_rng(8)
    baseline = rng.uniform(0.5, 1.0, size=80)
    current = baseline - 0.05 + rng.normal(0, 0.02, size=80)
    low, high = paired_delta_ci(current, baseline, seed=1)
    assert low < float(np.mean(current - baseline)) < high
    assert high < 0.0


def test_paired_delta_ci_rejects_unpaired_lengths() -> None:
    with pytest.raises(ValueError, match="length"):
        paired_delta_ci([1.0, 0.0], [1.0])


# --- paired drop test ------------------------------------------------------------------------


def test_paired_drop_test_uses_mcnemar_for_pass_fail_scores() -> None:
    baseline = [1, 1, 1, 1, 0, 1, 1, 0, 1, 1]
    current = [0, 0, 1, 0, 0, 1, 1, 1, 0, 1]
    result = paired_drop_test(current, baseline)
    assert (result.method, result.n, result.worse, result.better) == ("mcnemar", 10, 4, 1)
    assert result.p_value == mcnemar_exact(4, 1)
    assert result.mean_delta == pytest.approx(-0.3)


def test_paired_drop_test_uses_sign_flip_for_graded_scores() -> None:
    baseline = [0.9, 0.8, 0.7, 1.0, 0.6]
    current = [0.7, 0.8, 0.5, 0.9, 0.65]
    result = paired_drop_test(current, baseline)
    assert result.method == "sign_flip"
    assert (result.worse, result.better, result.n) == (3, 1, 5)
    assert result.p_value == sign_flip_test(np.subtract(current, baseline))


def test_paired_drop_test_without_pairs_reports_no_test() -> None:
    assert paired_drop_test([], []) == PairedTest("none", 1.0, 0, 0, 0, 0.0)


# --- Holm ------------------------------------------------------------------------------------


def test_holm_matches_hand_worked_example() -> None:
    # Sorted: 0.01 (x4 = 0.04), 0.02 (x3 = 0.06), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04 -> 0.06 by
    # monotonicity); results go back to input order.
    assert holm([0.03, 0.01, 0.04, 0.02]) == pytest.approx([0.06, 0.04, 0.06, 0.06])


def test_holm_caps_at_one_and_keeps_empty_input_empty() -> None:
    assert holm([0.5, 0.6, 0.01]) == pytest.approx([1.0, 1.0, 0.03])
    assert holm([]) == []


# --- proportions -----------------------------------------------------------------------------


def test_wilson_interval_matches_closed_form() -> None:
    # 8/20, z = 1.959964, z^2 = 3.841459: centre = (0.4 + z^2/40) / (1 + z^2/20) = 0.416112,
    # half = z / (1 + z^2/20) * sqrt(0.4*0.6/20 + z^2/1600) = 0.197306.
    assert wilson_interval(8, 20) == pytest.approx((0.218807, 0.613418), abs=1e-6)
    # 0/10: the upper bound reduces to z^2 / (n + z^2) = 3.841459 / 13.841459.
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.277533), abs=1e-6)
    assert wilson_interval(5, 5, confidence=0.9)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_two_proportion_test_matches_hand_computed_z() -> None:
    # ref 10/100, cur 25/100: pooled 0.175, se = sqrt(0.175*0.825*0.02) = 0.053735, z = 2.7915.
    z = 0.15 / math.sqrt(0.175 * 0.825 * 0.02)
    assert z == pytest.approx(2.7915, abs=1e-4)
    greater = 0.5 * math.erfc(z / math.sqrt(2))
    assert two_proportion_test(10, 100, 25, 100) == pytest.approx(greater, rel=1e-12)
    assert greater == pytest.approx(scipy.stats.norm.sf(z), rel=1e-9)
    assert two_proportion_test(10, 100, 25, 100, alternative="less") == pytest.approx(1 - greater)
    assert two_proportion_test(10, 100, 25, 100, alternative="two-sided") == pytest.approx(
        2 * greater
    )


def test_two_proportion_test_is_one_when_untestable() -> None:
    assert two_proportion_test(0, 0, 3, 10) == 1.0
    assert two_proportion_test(0, 50, 0, 50) == 1.0
    assert two_proportion_test(50, 50, 50, 50) == 1.0
    with pytest.raises(ValueError, match="alternative"):
        two_proportion_test(1, 10, 2, 10, alternative="bigger")


def test_relative_drop() -> None:
    assert relative_drop(0.765, 0.85) == pytest.approx(0.1)
    assert relative_drop(0.9, 0.85) == pytest.approx(-0.05 / 0.85)
    assert relative_drop(0.5, 0.0) == 0.0


# --- minimum detectable drop -----------------------------------------------------------------


def test_minimum_detectable_drop_continuous_formula() -> None:
    expected = (1.6448536 + 0.8416212) * 0.2 / math.sqrt(100)
    assert minimum_detectable_drop(100, sd_diff=0.2) == pytest.approx(expected, rel=1e-6)


def test_minimum_detectable_drop_decreases_with_n() -> None:
    sizes = [25, 50, 100, 200, 400, 800]
    for discordance, sd_diff in [(0.08, None), (None, 0.15), (None, None)]:
        drops = [
            minimum_detectable_drop(n, discordance=discordance, sd_diff=sd_diff) for n in sizes
        ]
        assert all(a > b for a, b in itertools.pairwise(drops)), (discordance, sd_diff)


def test_minimum_detectable_drop_is_finite_without_discordance() -> None:
    # Exact McNemar needs 5 all-worse pairs to reach p < 0.05 (2**-5 = 0.031); a drop with no
    # noise around it is all worse pairs, so 80 % power takes only a few more.
    assert minimum_detectable_drop(200) == minimum_detectable_drop(200, discordance=0.0)
    assert 5 / 200 < minimum_detectable_drop(200) < 8 / 200
    assert minimum_detectable_drop(0) == math.inf
    assert minimum_detectable_drop(200, alpha=1.0) == 0.0


def test_minimum_detectable_drop_grows_with_discordance() -> None:
    assert minimum_detectable_drop(200, discordance=0.05) < minimum_detectable_drop(
        200, discordance=0.2
    )


@pytest.mark.parametrize(("n", "discordance"), [(200, 0.06), (100, 0.15)])
def test_pass_fail_drop_of_minimum_detectable_size_is_caught_about_80_percent(
    n: int, discordance: float
) -> None:
    drop = minimum_detectable_drop(n, discordance=discordance)
    rng = np.random.default_rng(21)
    # `discordance` is the run's noise; the drop itself turns a further `drop` of the pairs worse.
    share_worse, share_better = discordance / 2 + drop, discordance / 2
    counts = rng.multinomial(n, [share_worse, share_better, 1 - discordance - drop], size=1000)
    caught = np.mean([mcnemar_exact(int(w), int(b)) < ALPHA for w, b, _ in counts])
    assert 0.65 <= caught <= 0.95


def test_continuous_drop_of_minimum_detectable_size_is_caught_about_80_percent() -> None:
    n, sd = 60, 0.2
    drop = minimum_detectable_drop(n, sd_diff=sd)
    rng = np.random.default_rng(22)
    diffs = rng.normal(-drop, sd, size=(150, n))
    caught = np.mean(
        [sign_flip_test(d, n_resamples=1000, seed=i) < ALPHA for i, d in enumerate(diffs)]
    )
    assert 0.65 <= caught <= 0.95


# --- seeded simulations ----------------------------------------------------------------------


def _noisy_run(truth: np.ndarray, flip: float, rng: np.random.Generator) -> np.ndarray:
    """One run of a pass/fail eval where each case's outcome flips independently."""
    return np.where(rng.random(truth.size) < flip, 1 - truth, truth)


def test_aa_runs_with_two_percent_flips_rarely_raise_a_false_alarm() -> None:
    rng = np.random.default_rng(2024)
    trials, cases = 400, 200
    alarms = 0
    for _ in range(trials):
        truth = (rng.random(cases) < 0.85).astype(int)
        baseline = _noisy_run(truth, 0.02, rng)
        current = _noisy_run(truth, 0.02, rng)
        alarms += paired_drop_test(current.tolist(), baseline.tolist()).p_value < ALPHA
    assert alarms / trials <= ALPHA + _binomial_margin(ALPHA, trials)


def test_true_ten_percent_drop_on_200_cases_is_caught_in_95_percent_of_trials() -> None:
    rng = np.random.default_rng(2025)
    trials, cases = 400, 200
    caught = 0
    for _ in range(trials):
        truth = (rng.random(cases) < 0.85).astype(int)
        # A 10 % relative drop: each passing case independently starts failing with p = 0.10,
        # on top of the same 2 % run-to-run noise.
        degraded = np.where(rng.random(cases) < 0.10, 0, truth)
        baseline = _noisy_run(truth, 0.02, rng)
        current = _noisy_run(degraded, 0.02, rng)
        caught += paired_drop_test(current.tolist(), baseline.tolist()).p_value < ALPHA
    assert caught / trials >= 0.95


def test_aa_runs_with_graded_scores_rarely_raise_a_false_alarm() -> None:
    rng = np.random.default_rng(2026)
    trials, cases = 150, 200
    alarms = 0
    for trial in range(trials):
        quality = rng.uniform(0.3, 1.0, size=cases)
        baseline = np.clip(quality + rng.normal(0, 0.05, size=cases), 0, 1)
        current = np.clip(quality + rng.normal(0, 0.05, size=cases), 0, 1)
        result = paired_drop_test(current, baseline, seed=trial, n_resamples=2000)
        assert result.method == "sign_flip"
        alarms += result.p_value < ALPHA
    assert alarms / trials <= ALPHA + _binomial_margin(ALPHA, trials)


def _size(test: object, n_ref: int, n_cur: int, rate: float, alpha: float) -> float:
    """Exact probability that `test` rejects at `alpha` when both windows have `rate`."""
    ref = scipy.stats.binom.pmf(np.arange(n_ref + 1), n_ref, rate)
    cur = scipy.stats.binom.pmf(np.arange(n_cur + 1), n_cur, rate)
    likely = [(x, p) for x, p in enumerate(ref) if p > 1e-12]
    return float(
        sum(
            p_ref * p_cur
            for x_ref, p_ref in likely
            for x_cur, p_cur in enumerate(cur)
            if test(x_ref, n_ref, x_cur, n_cur) < alpha  # type: ignore[operator]
        )
    )


@pytest.mark.parametrize(("n", "rate"), [(30, 0.1), (50, 0.15), (100, 0.04)])
def test_the_exact_rate_test_never_exceeds_its_level_where_the_z_test_does(
    n: int, rate: float
) -> None:
    # A monitor's day against its week (7:1), at a Holm-level alpha of an hourly pass: the
    # pooled z-test rejects 2-4 times as often as it says; Fisher's test never more.
    alpha = 0.001
    assert _size(exact_rate_test, 7 * n, n, rate, alpha) <= alpha
    assert _size(two_proportion_test, 7 * n, n, rate, alpha) > 1.5 * alpha


def test_the_exact_rate_test_is_fishers() -> None:
    for x_ref, n_ref, x_cur, n_cur in ((1, 40, 6, 40), (50, 500, 75, 500), (0, 10, 3, 12)):
        table = [[x_cur, n_cur - x_cur], [x_ref, n_ref - x_ref]]
        greater = scipy.stats.fisher_exact(table, alternative="greater").pvalue
        less = scipy.stats.fisher_exact(table, alternative="less").pvalue
        assert exact_rate_test(x_ref, n_ref, x_cur, n_cur) == pytest.approx(greater)
        assert exact_rate_test(x_ref, n_ref, x_cur, n_cur, alternative="less") == pytest.approx(
            less
        )
    assert exact_rate_test(0, 0, 3, 10) == 1.0


def test_binomial_excess_is_the_upper_tail() -> None:
    assert binomial_excess_test(15, 100, 0.1) == pytest.approx(scipy.stats.binom.sf(14, 100, 0.1))
    assert binomial_excess_test(0, 100, 0.1) == 1.0
    assert binomial_excess_test(1, 100, 0.0) == 0.0
