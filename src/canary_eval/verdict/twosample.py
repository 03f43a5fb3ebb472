"""Two-sample tests of the monitor's drift layer, without scipy.stats: average ranks and the
Mann-Whitney U test (the domain classifier's AUC), the chi-square test of a 2 x K table (the
intent mix), and the two-sample Kolmogorov-Smirnov test (input lengths).

Each returns what scipy.stats returns for the monitor's calls (`mannwhitneyu` with its "auto"
method, `chi2_contingency` with Yates' correction where it applies, two-sided `ks_2samp` with its
"auto" method), to ~1e-12 relative: `tests/verdict/test_twosample.py` compares them. Importing
scipy.stats for them cost every hourly pass 0.3-0.6 s of CPU.
"""

from __future__ import annotations

import math
from typing import Any

from canary_eval.verdict.kolmogorov import kstwo_sf

_EXACT_UP_TO = 10_000  # values a side: ks_2samp's "auto" is exact up to here, asymptotic beyond
_EXACT_RANKS_UP_TO = 8  # mannwhitneyu's "auto" is exact when a side has at most 8, without ties


def average_ranks(values: Any) -> tuple[Any, Any]:
    """The 1-based ranks of `values`, equal values sharing their average rank
    (scipy.stats.rankdata), and the size of each group of equal values, in order."""
    import numpy as np

    data = np.asarray(values, dtype=float).reshape(-1)
    if not data.size:
        return np.empty(0), np.empty(0, dtype=np.int64)
    order = np.argsort(data, kind="stable")
    ordered = data[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, data.size])
    ranks = np.empty(data.size)
    ranks[order] = np.repeat(starts + (sizes + 1) / 2, sizes)
    return ranks, sizes


def mann_whitney_p(x: Any, y: Any, *, alternative: str = "greater") -> float:
    """The p-value of the Mann-Whitney U test that x tends to be greater ("greater"), smaller
    ("less") or either ("two-sided") than y: scipy.stats.mannwhitneyu(x, y, alternative=...).

    Exact when a sample has at most 8 values and nothing ties, from the null distribution of U;
    otherwise the normal limit with the tie-corrected variance and a continuity correction.
    """
    import numpy as np

    if alternative not in ("greater", "less", "two-sided"):
        raise ValueError(f"unknown alternative {alternative!r}")
    x, y = np.asarray(x, dtype=float).reshape(-1), np.asarray(y, dtype=float).reshape(-1)
    n1, n2 = x.size, y.size
    if not n1 or not n2:
        raise ValueError("both samples need values")
    ranks, ties = average_ranks(np.concatenate([x, y]))
    u1 = float(ranks[:n1].sum()) - n1 * (n1 + 1) / 2
    u2 = n1 * n2 - u1
    u = {"greater": u1, "less": u2}.get(alternative, max(u1, u2))
    factor = 2.0 if alternative == "two-sided" else 1.0
    if min(n1, n2) <= _EXACT_RANKS_UP_TO and int(ties.max()) == 1:
        p = _u_tail(int(u), n1, n2)
    else:
        n = n1 + n2
        tie_term = float(np.sum(ties.astype(float) ** 3 - ties))
        sd = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
        excess = u - n1 * n2 / 2 - 0.5
        if sd > 0.0:
            p = 0.5 * math.erfc(excess / sd / math.sqrt(2.0))
        else:  # every value tied: U sits at its mean and the test sees nothing
            p = 1.0 if excess <= 0.0 else 0.0
    return min(1.0, max(0.0, p * factor))


def _u_tail(u: int, n1: int, n2: int) -> float:
    """P(U >= u) under "no difference", exactly: the orderings of n1 + n2 distinct values are
    equally likely, and the number giving U = j is the coefficient of q^j in the Gaussian
    binomial [n1 + n2 choose n1]_q, built factor by factor in integers."""
    small, large = sorted((n1, n2))
    counts = [1] + [0] * (small * large)
    for i in range(1, small + 1):
        # times (1 - q^(large + i)) / (1 - q^i) turns [large + i - 1 choose i - 1]_q into
        # [large + i choose i]_q; the division is exact, a running sum with stride i
        shift = large + i
        for j in range(len(counts) - 1, shift - 1, -1):
            counts[j] -= counts[j - shift]
        for j in range(i, len(counts)):
            counts[j] += counts[j - i]
    return sum(counts[max(u, 0) :]) / math.comb(n1 + n2, n1)


def chi2_contingency(table: Any) -> tuple[float, float]:
    """Pearson's chi-square statistic and p-value for independence in a table of counts, with
    Yates' continuity correction when it has one degree of freedom (a 2 x 2 table):
    scipy.stats.chi2_contingency(table)[:2]."""
    import numpy as np

    observed = np.asarray(table, dtype=float)
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True)
    expected = expected / observed.sum()
    if np.any(expected == 0):
        raise ValueError("a row or column of the table has no counts")
    dof = expected.size - sum(expected.shape) + expected.ndim - 1
    if dof == 0:
        return 0.0, 1.0
    if dof == 1:  # Yates: each count half a unit nearer its expectation, never past it
        gap = expected - observed
        observed = observed + np.minimum(0.5, np.abs(gap)) * np.sign(gap)
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    return statistic, chi2_sf(statistic, dof)


def chi2_sf(x: float, dof: int) -> float:
    """P(X > x) for X ~ chi-square with a whole number of degrees of freedom: scipy.stats.chi2.sf.

    With y = x / 2 the tail is a finite sum of Poisson-like terms, e^-y y^i / i! for i below
    dof / 2 (even dof), plus erfc(sqrt y) with half-integer powers (odd dof): all positive, so
    summed in log space they keep full precision (and need no scipy.special, 0.15 s to import).
    """
    if x <= 0:
        return 1.0
    y = x / 2
    if dof % 2 == 0:
        powers = [float(i) for i in range(dof // 2)]
        tail = 0.0
    else:
        powers = [i - 0.5 for i in range(1, dof // 2 + 1)]
        tail = math.erfc(math.sqrt(y))
    log_y = math.log(y)
    return min(1.0, tail + sum(math.exp(a * log_y - y - math.lgamma(a + 1)) for a in powers))


def ks_2samp_p(d: float, n1: int, n2: int) -> tuple[float, float]:
    """The two-sided two-sample Kolmogorov-Smirnov test of samples of n1 and n2 values whose
    empirical distribution functions lie at most `d` apart: the statistic and p-value of
    scipy.stats.ks_2samp. Exact up to 10,000 values a side (d is then rounded to the lattice of
    multiples of 1 / lcm(n1, n2), as scipy reports it); beyond, Smirnov's limit: Kolmogorov's
    distribution at n = n1 n2 / (n1 + n2)."""
    if max(n1, n2) > _EXACT_UP_TO:
        effective = round(max(n1, n2) * min(n1, n2) / (n1 + n2))
        return d, kstwo_sf(d, effective)
    g = math.gcd(n1, n2)
    lcm = n1 // g * n2
    h = round(d * lcm)
    if h == 0:
        return 0.0, 1.0
    p = _outside_square(n1, h) if n1 == n2 else _outside_band(n1, n2, h)
    return h / lcm, min(1.0, max(0.0, p))


def _outside_square(n: int, h: int) -> float:
    """P(D >= h / n) for two samples of n: by reflection, 2 sum_k (-1)^(k-1) C(2n, n - kh) /
    C(2n, n), summed inside out (each ratio of consecutive terms a product of h factors)."""
    total = 0.0
    for k in range(n // h, 0, -1):
        base = (k - 1) * h
        ratio = math.prod((n - base - j) / (n + base + j + 1) for j in range(h))
        total = ratio * (1.0 - total)
    return 2.0 * total


def _outside_band(m: int, n: int, h: int) -> float:
    """P(D >= h / lcm(m, n)) for samples of m and n: the share of the lattice paths from (0, 0)
    to (m, n) that reach |x n/g - y m/g| >= h. The share P(x, y) of the paths to (x, y) that have
    left the band is 1 outside it, and inside it mixes its predecessors', as a uniformly drawn
    path to (x, y) comes from (x - 1, y) with probability x / (x + y): P(x, y) = (x P(x - 1, y) +
    y P(x, y - 1)) / (x + y) (Viehmann, arXiv:2102.08037). Only shares and their convex mixtures
    appear, so the tail keeps its relative precision however small. The sweep goes anti-diagonal
    by anti-diagonal (x + y = s), each holding only the band's cells, vectorised."""
    import numpy as np

    g = math.gcd(m, n)
    mg, ng = m // g, n // g
    xs = np.arange(-1.0, m + 1)  # the share of (x, s - x) is kept at index x + 1
    shares = np.ones(m + 3)  # and index m + 2, past the grid, read as outside
    shares[1] = 0.0  # (0, 0)
    for s in range(1, m + n + 1):
        # in the band: s mg - h < x (mg + ng) < s mg + h; on the grid: s - n <= x <= min(m, s)
        low = max((s * mg - h) // (mg + ng) + 1, s - n, 0)
        high = min(-(-(s * mg + h) // (mg + ng)) - 1, m, s)
        if low > high:  # the band is closed: every path has left it
            return 1.0
        x = xs[low + 1 : high + 2]
        left, down = shares[low : high + 1], shares[low + 1 : high + 2]
        shares[low + 1 : high + 2] = (x * left + (s - x) * down) / s
        # the cells just outside the band, read by the next anti-diagonal, are outside it
        shares[low] = shares[high + 2] = 1.0
    return float(shares[m + 1])
