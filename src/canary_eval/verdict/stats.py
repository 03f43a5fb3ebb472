"""Statistics for comparing a canary run with its baseline.

Paired tests decide whether a drop is real (exact McNemar for pass/fail, a sign-flip permutation
test otherwise), bootstrap intervals say how precise a score is, Holm keeps per-intent testing
honest, Wilson intervals and two-proportion tests serve the behaviour rates, and the minimum
detectable drop states what this run's size can and cannot see. Pure functions; every random
draw comes from ``numpy.random.default_rng(seed)`` so reports are reproducible. numpy is
imported by the functions that use it: loading this module costs nothing before the calls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from canary_eval.verdict.discrete import binom_sf, hypergeom_cdf, hypergeom_sf
from canary_eval.verdict.permutation import sign_flip_p_value

if TYPE_CHECKING:
    import numpy as np

    # Per-case scores: a plain sequence, or a numpy array for callers that already hold one.
    Scores = Sequence[float] | np.ndarray[Any, Any]

# Resampled matrices are built in chunks of about this many cells to bound memory on big sets.
_CHUNK_CELLS = 2_000_000


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def _as_array(values: Scores) -> Any:
    import numpy as np

    return np.asarray(values, dtype=float).reshape(-1)


def bootstrap_mean_ci(
    values: Scores,
    *,
    confidence: float = 0.95,
    n_resamples: int = 5000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean."""
    return bootstrap_mean_cis(values, confidence=confidence, n_resamples=n_resamples, seed=seed)[0]


def bootstrap_mean_cis(
    *samples: Scores,
    confidence: float = 0.95,
    n_resamples: int = 5000,
    seed: int = 0,
) -> list[tuple[float, float]]:
    """`bootstrap_mean_ci` of each of several samples of one length (a run's scores and its
    paired differences): each gets the interval it would get alone, and those that need case
    indices resampled share one draw of them, the costly part."""
    _check_confidence(confidence)
    import numpy as np

    arrays = [_as_array(values) for values in samples]
    intervals: list[tuple[float, float]] = []
    shared: list[int] = []
    for i, data in enumerate(arrays):
        n = int(data.size)
        distinct, counts = np.unique(data, return_counts=True)
        if n <= 1 or distinct.size == 1:
            value = float(data[0]) if n else math.nan
            intervals.append((value, value))
        elif distinct.size * 8 <= n:
            # Few distinct values (pass/fail, weighted or rubric scores): a resample is how often
            # it draws each value, a multinomial: one draw per distinct value, not per case.
            draws = np.random.default_rng(seed).multinomial(n, counts / n, size=n_resamples)
            intervals.append(_percentile_interval(draws @ distinct / n, confidence))
        else:
            intervals.append((math.nan, math.nan))
            shared.append(i)
    if shared:
        n = int(arrays[shared[0]].size)
        if any(arrays[i].size != n for i in shared):
            raise ValueError("samples resampled together must have one length")
        rng = np.random.default_rng(seed)
        means = np.empty((len(shared), n_resamples))
        rows = max(1, _CHUNK_CELLS // n)
        for start in range(0, n_resamples, rows):
            stop = min(n_resamples, start + rows)
            idx = rng.integers(0, n, size=(stop - start, n), dtype=np.int32)
            for row, i in enumerate(shared):
                means[row, start:stop] = arrays[i][idx].mean(axis=1)
        for row, i in enumerate(shared):
            intervals[i] = _percentile_interval(means[row], confidence)
    return intervals


def _percentile_interval(means: Any, confidence: float) -> tuple[float, float]:
    import numpy as np

    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return (float(low), float(high))


def _paired_diffs(current: Scores, baseline: Scores) -> Any:
    cur, base = _as_array(current), _as_array(baseline)
    if cur.size != base.size:
        raise ValueError(f"paired samples differ in length: {cur.size} vs {base.size}")
    return cur - base


def paired_delta_ci(
    current: Scores,
    baseline: Scores,
    *,
    confidence: float = 0.95,
    n_resamples: int = 5000,
    seed: int = 0,
) -> tuple[float, float]:
    """Bootstrap interval of mean(current - baseline), resampling whole pairs."""
    diffs = _paired_diffs(current, baseline)
    return bootstrap_mean_ci(diffs, confidence=confidence, n_resamples=n_resamples, seed=seed)


def mcnemar_exact(worse: int, better: int) -> float:
    """One-sided exact McNemar p-value for H1 "more pairs got worse than better".

    P(X >= worse) for X ~ Binomial(worse + better, 1/2); 1.0 without discordant pairs.
    """
    if worse < 0 or better < 0:
        raise ValueError("discordant counts must be non-negative")
    n = worse + better
    if n == 0:
        return 1.0
    # Integer arithmetic keeps the tail exact; int / int division is correctly rounded. Each
    # binomial coefficient follows from the previous one: C(n, k + 1) = C(n, k) (n - k) / (k + 1).
    term = tail = math.comb(n, worse)
    for k in range(worse, n):
        term = term * (n - k) // (k + 1)
        tail += term
    return min(1.0, float(tail / 2**n))


def sign_flip_test(diffs: Scores, *, n_resamples: int = 10000, seed: int = 0) -> float:
    """One-sided paired permutation test of H1: mean(diffs) < 0, with diffs = current - baseline.

    Under H0 each difference is equally likely to carry either sign. Zero differences cannot
    change the statistic, so only the k non-zero ones are flipped: exactly over all 2**k patterns
    (enumerated when k <= 16, by convolution when the differences share a grid), otherwise by
    up to ``n_resamples`` random patterns with the (hits + 1) / (n + 1) correction that keeps the
    Monte Carlo p-value valid, stopping early when the answer is clear (see `permutation`).
    """
    return sign_flip_p_value(_as_array(diffs), n_resamples, seed)


@dataclass(frozen=True)
class PairedTest:
    """Outcome of a one-sided paired test of a drop from baseline to current."""

    method: str  # "mcnemar" | "sign_flip" | "none"
    p_value: float
    n: int
    worse: int
    better: int
    mean_delta: float


def paired_drop_test(
    current: Scores,
    baseline: Scores,
    *,
    seed: int = 0,
    n_resamples: int = 10000,
) -> PairedTest:
    """Test whether current scores dropped below their paired baseline scores.

    Exact McNemar when every score is 0 or 1, the sign-flip test otherwise; "none" on no pairs.
    """
    import numpy as np

    diffs = _paired_diffs(current, baseline)
    n = int(diffs.size)
    if n == 0:
        return PairedTest("none", 1.0, 0, 0, 0, 0.0)
    worse = int(np.count_nonzero(diffs < 0))
    better = int(np.count_nonzero(diffs > 0))
    mean_delta = float(diffs.mean())
    both = np.concatenate([_as_array(current), _as_array(baseline)])
    if bool(np.all((both == 0.0) | (both == 1.0))):
        return PairedTest("mcnemar", mcnemar_exact(worse, better), n, worse, better, mean_delta)
    p = sign_flip_test(diffs, n_resamples=n_resamples, seed=seed)
    return PairedTest("sign_flip", p, n, worse, better, mean_delta)


def quantile_increase_test(
    current: Scores, baseline: Scores, *, q: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> float:
    """One-sided bootstrap p-value that the q-quantile of `current` exceeds the baseline's:
    the share of paired resamples (each side resampled on its own) whose difference is <= 0."""
    import numpy as np

    now, before = _as_array(current), _as_array(baseline)
    if now.size < 2 or before.size < 2:
        return 1.0
    rng = np.random.default_rng(seed)
    a = resampled_quantiles(now, q, n_resamples, rng)
    b = resampled_quantiles(before, q, n_resamples, rng)
    return float((np.count_nonzero(a - b <= 0) + 1) / (n_resamples + 1))


def resampled_quantiles(data: Any, q: float, n_resamples: int, rng: Any) -> Any:
    """The q-quantiles (numpy's default, linear between two order statistics) of `n_resamples`
    bootstrap resamples of `data`, drawn in O(n_resamples) instead of O(n_resamples x n).

    A resample is n indices drawn uniformly, floor(n U) for uniform U; floor keeps order, so its
    k-th smallest index is floor(n U_(k)), with U_(k) the k-th smallest of n uniforms, which is
    Beta(k, n + 1 - k); the next one is U_(k) plus (1 - U_(k)) times the smallest of the n - k
    uniforms above it, Beta(1, n - k). Indexing the sorted data with them gives the resample's
    order statistics with exactly the distribution of sorting the resample itself.
    """
    import numpy as np

    ordered = np.sort(data)
    n = int(ordered.size)
    position = (n - 1) * q
    k = math.floor(position)  # 0-based: the (k + 1)-th smallest, and the next one
    fraction = position - k
    u = rng.beta(k + 1, n - k, n_resamples)
    low = ordered[np.minimum((u * n).astype(np.int64), n - 1)]
    if fraction == 0.0 or k + 1 >= n:
        return low
    above = u + (1.0 - u) * rng.beta(1, n - k - 1, n_resamples)
    high = ordered[np.minimum((above * n).astype(np.int64), n - 1)]
    if fraction < 0.5:  # numpy's own interpolation, so ties come out as numpy's would
        return low + fraction * (high - low)
    return high - (1.0 - fraction) * (high - low)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in input order, monotone and capped at 1."""
    m = len(p_values)
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(sorted(range(m), key=lambda j: p_values[j])):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def wilson_interval(successes: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion; (0, 1) when there is no data."""
    _check_confidence(confidence)
    if n <= 0:
        return (0.0, 1.0)
    z = NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def two_proportion_test(
    x_ref: int, n_ref: int, x_cur: int, n_cur: int, *, alternative: str = "greater"
) -> float:
    """Pooled two-proportion z-test p-value that the current proportion is greater / less /
    different ("greater", "less", "two-sided") than the reference; 1.0 when it cannot be tested.
    """
    if alternative not in ("greater", "less", "two-sided"):
        raise ValueError(f"unknown alternative {alternative!r}")
    if n_ref <= 0 or n_cur <= 0:
        return 1.0
    pooled = (x_ref + x_cur) / (n_ref + n_cur)
    variance = pooled * (1.0 - pooled) * (1.0 / n_ref + 1.0 / n_cur)
    if variance <= 0.0:
        return 1.0
    z = (x_cur / n_cur - x_ref / n_ref) / math.sqrt(variance)
    if alternative == "greater":
        return 0.5 * math.erfc(z / math.sqrt(2.0))
    if alternative == "less":
        return 0.5 * math.erfc(-z / math.sqrt(2.0))
    return min(1.0, math.erfc(abs(z) / math.sqrt(2.0)))


def exact_rate_test(
    x_ref: int, n_ref: int, x_cur: int, n_cur: int, *, alternative: str = "greater"
) -> float:
    """One-sided Fisher exact p-value that the current proportion is greater (or "less") than
    the reference; 1.0 when it cannot be tested.

    Conditional on the successes of both windows together, the current window's count is
    hypergeometric under "no change", so the p-value never undershoots its level however small
    the counts, where the pooled z-test's far tail does (by 1.2-2.6x at Holm-level alphas).
    """
    if alternative not in ("greater", "less"):
        raise ValueError(f"unknown alternative {alternative!r}")
    if n_ref <= 0 or n_cur <= 0:
        return 1.0
    total, successes = n_ref + n_cur, x_ref + x_cur
    if alternative == "greater":
        return hypergeom_sf(x_cur - 1, total, successes, n_cur)
    return hypergeom_cdf(x_cur, total, successes, n_cur)


def binomial_excess_test(successes: int, n: int, share: float) -> float:
    """Exact one-sided p-value that a proportion is above `share`: P(X >= successes) for
    X ~ Binomial(n, share)."""
    if n <= 0 or successes <= 0:
        return 1.0
    return binom_sf(successes - 1, n, min(max(share, 0.0), 1.0))


def minimum_detectable_drop(
    n: int,
    *,
    discordance: float | None = None,
    sd_diff: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """Smallest mean drop (score units) a one-sided paired test at ``alpha`` detects with
    ``power`` on ``n`` pairs.

    Continuous scores (``sd_diff`` given, the standard deviation of per-case differences):
    ``(z_{1-alpha} + z_{power}) * sd_diff / sqrt(n)``.

    Pass/fail scores: McNemar's normal approximation (Connor, 1987). With discordant share psi
    and drop d (share of pairs worse minus share better), the test has the requested power when
    ``d * sqrt(n) = z_{1-alpha} * sqrt(psi') + z_{power} * sqrt(psi' - d**2)``, where
    psi' = psi + d is the discordance the drop itself adds to the run's noise; the increasing left
    side minus the decreasing right side is solved for d by bisection. A missing or zero
    discordance is floored at 1/n so the answer stays finite. The exact test cannot reject with
    fewer than m = ceil(log2(1/alpha)) discordant pairs (all worse gives p = 2**-m), so the
    answer is never below m/n; it is capped at 1. With ``alpha >= 1`` (the plain threshold rule)
    every drop counts, so the answer is 0.
    """
    if n <= 0 or alpha <= 0.0:
        return math.inf
    if alpha >= 1.0:
        return 0.0
    z_alpha = NormalDist().inv_cdf(1.0 - alpha)
    z_power = NormalDist().inv_cdf(power)
    if sd_diff is not None:
        return (z_alpha + z_power) * sd_diff / math.sqrt(n)
    psi = min(1.0, max(discordance or 0.0, 1.0 / n))

    def excess(d: float) -> float:
        # A real drop of d turns d of the pairs worse: the discordance under it is psi + d.
        with_drop = min(1.0, psi + d)
        rhs = z_alpha * math.sqrt(with_drop) + z_power * math.sqrt(max(with_drop - d * d, 0.0))
        return d * math.sqrt(n) - rhs

    resolution = min(1.0, math.ceil(math.log2(1.0 / alpha)) / n)
    low, high = 0.0, 1.0
    if excess(high) <= 0.0:
        return 1.0
    for _ in range(100):
        mid = (low + high) / 2.0
        if excess(mid) < 0.0:
            low = mid
        else:
            high = mid
    return max(high, resolution)


def relative_drop(current: float, baseline: float) -> float:
    """(baseline - current) / baseline; 0.0 when the baseline is 0."""
    if baseline == 0:
        return 0.0
    return (baseline - current) / baseline
