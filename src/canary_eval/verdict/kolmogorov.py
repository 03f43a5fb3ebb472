"""Kolmogorov's distribution, of the two-sided one-sample Kolmogorov-Smirnov statistic D_n, without
scipy.stats.

Beyond 10,000 calls a side, the monitor's two-sample test of input lengths takes its p-value from
D_n at the effective size n = n1 n2 / (n1 + n2), as scipy's `ks_2samp` does through
`scipy.stats.kstwo`. `kstwo_sf` chooses its method by region as Simard and L'Ecuyer do
("Computing the two-sided Kolmogorov-Smirnov distribution", J. Stat. Softw. 39(11), 2011), and
as scipy does, so the two agree to ~1e-12 relative wherever the tail is above 1e-300 (1e-10
where both take it as one minus a cdf near 1):

* n d <= 1 or n d >= n - 1: Ruben and Gambino's closed forms.
* d >= 1/2, or n d^2 past 4 (n <= 140) or 2.2 (beyond): twice the one-sided tail, exact for
  d >= 1/2 (the two sides cannot both be crossed) and beyond those points off by the chance of
  crossing both, under 1e-5 of it. The one-sided tail is Birnbaum and Tingey's sum.
* Small n d^2: Durbin's matrix, as Marsaglia, Tsang and Wang compute it (J. Stat. Softw. 8(18),
  2003): P(D_n < d) = n!/n^n (H^n)_kk, for n <= 10**5 while the matrix stays small.
* n <= 140 between: Pomeranz's recursion (Comm. ACM 17(12), 1974).
* Otherwise Pelz and Good's asymptotic series in 1/sqrt(n) (JRSS B 38(2), 1976), within ~1e-9
  of the exact value there; scipy uses the same series.
"""

from __future__ import annotations

import math
from typing import Any

from canary_eval.verdict.discrete import stirling_error, stirling_series

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_PI2 = math.pi**2
# Matrix entries below this share of the largest (1) cannot move the central one the answer
# reads; kept, their products fall among the subnormals and slow the products a hundredfold.
_NEGLIGIBLE = 2.0**-511
_SMIRNOV_EXACT_UP_TO = 1_000_000  # n: scipy.special.smirnov is exact up to here


def kstwo_sf(d: float, n: int) -> float:
    """P(D_n >= d) for the two-sided Kolmogorov-Smirnov statistic of n values:
    scipy.stats.kstwo.sf(d, n)."""
    if d >= 1.0:
        return 0.0
    t = n * d
    if t <= 0.5:
        return 1.0
    if t <= 1.0:  # only orders with every value in its own 1/n-cell: n!/n^n (2t - 1)^n
        return 1.0 - math.exp(_log_factorial_over_power(n) + n * math.log(2.0 * t - 1.0))
    if t >= n - 1:
        return min(1.0, 2.0 * (1.0 - d) ** n)
    spread = t * d  # n d^2
    if n > 140 and spread >= 370.0 and d < 0.5:  # 2 exp(-740): below the smallest float
        return 0.0
    if d >= 0.5 or spread > 4.0 or (n > 140 and spread >= 2.2):
        return min(1.0, 2.0 * _smirnov_sf(n, d))
    if n <= 140:
        cdf = _durbin_cdf(n, d) if spread <= 0.754693 else _pomeranz_cdf(n, d)
    elif n <= 100_000 and n * d**1.5 <= 1.4:
        cdf = _durbin_cdf(n, d)
    else:
        cdf = _pelz_good_cdf(n, d)
    return min(1.0, max(0.0, 1.0 - cdf))


def _smirnov_sf(n: int, d: float) -> float:
    """P(D+_n >= d), the one-sided tail, by Birnbaum and Tingey's sum over j <= n (1 - d) of
    C(n, j) d (d + j/n)^(j - 1) (1 - d - j/n)^(n - j), every term at once, in logs rearranged so
    that nothing large cancels. scipy.special.smirnov sums the same terms one by one, 30 times
    slower (a second at n = 10**6); beyond 10**6 it switches to an approximation, used here too
    so that the two still agree."""
    import numpy as np

    if n > _SMIRNOV_EXACT_UP_TO:
        from scipy.special import smirnov

        return float(smirnov(n, d))
    t = n * d
    j = np.arange(1.0, math.ceil(n - t))  # j = n - t, if whole, adds 0^t
    rest = n - j
    logs = (j - 1) * np.log1p(t / j) + rest * np.log1p(-t / rest)
    logs -= 1.5 * np.log(j) + 0.5 * np.log(rest) + _stirling_errors(j) + _stirling_errors(rest)
    front = math.log(t) + 0.5 * math.log(n / (2.0 * math.pi)) + stirling_error(n)
    return float(np.sum(np.exp(logs + front))) + (1.0 - d) ** n


def _stirling_errors(k: Any) -> Any:
    """`stirling_error` of each of an array of whole numbers."""
    errors = stirling_series(k)
    small = k <= 15
    errors[small] = [stirling_error(int(v)) for v in k[small]]
    return errors


def _log_factorial_over_power(n: int) -> float:
    """log(n! / n^n), by Stirling: log(n!) and n log(n) each carry an absolute error that would
    be this ratio's relative error (~1e-10 at n = 10**5)."""
    return 0.5 * math.log(2.0 * math.pi * n) - n + stirling_error(n)


def _durbin_cdf(n: int, d: float) -> float:
    """P(D_n < d) = n!/n^n (H^n)_kk with n d = k - h, 0 <= h < 1, H the (2k - 1)-square matrix of
    Durbin (1968): its powers are taken by squaring, scaled by powers of two to stay finite."""
    import numpy as np

    k = math.ceil(n * d)
    h = k - n * d
    m = 2 * k - 1
    inverse_factorials = np.cumprod(np.r_[1.0, 1.0 / np.arange(1.0, m + 1)])  # 1/j!, j = 0..m
    lag = np.arange(m)[:, None] - np.arange(m)[None, :] + 1  # i - j + 1
    matrix = np.where(lag >= 0, inverse_factorials[np.clip(lag, 0, m)], 0.0)
    # The first column and last row hold the partial first and last cells: (1 - h^i) / i!.
    edge = (1.0 - h ** np.arange(1.0, m + 1)) * inverse_factorials[1:]
    matrix[:, 0] = edge
    matrix[-1, :] = edge[::-1]
    matrix[-1, 0] = (1.0 - 2.0 * h**m + max(0.0, 2.0 * h - 1.0) ** m) * inverse_factorials[m]
    matrix[matrix < _NEGLIGIBLE] = 0.0
    power, exponent = _matrix_power(matrix, n)
    value = float(power[k - 1, k - 1])
    if value <= 0.0:
        return 0.0
    return math.exp(math.log(value) + exponent * math.log(2.0) + _log_factorial_over_power(n))


def _matrix_power(matrix: Any, n: int) -> tuple[Any, int]:
    """(M, e) with matrix^n = M 2^e: the entries (all non-negative) grow like e^n."""
    import numpy as np

    def scaled(product: Any, exponent: int) -> tuple[Any, int]:
        _, shift = np.frexp(np.max(product))
        product = np.ldexp(product, -shift)
        product[product < _NEGLIGIBLE] = 0.0
        return product, exponent + int(shift)

    result: Any = None
    result_exponent = 0
    base, base_exponent = matrix, 0
    while True:
        if n & 1:
            if result is None:
                result, result_exponent = base, base_exponent
            else:
                result, result_exponent = scaled(result @ base, result_exponent + base_exponent)
        n >>= 1
        if not n:
            return result, result_exponent
        base, base_exponent = scaled(base @ base, 2 * base_exponent)


def _pomeranz_cdf(n: int, d: float) -> float:
    """P(D_n < d) for n <= 140, by Pomeranz's method: D_n < d exactly when the i-th smallest of
    n uniforms, scaled to [0, n], lies between i - t and i - 1 + t (t = n d) for every i, that is
    when the count N(y) of values below y has N(i - 1 + t) >= i and N(i - t) <= i - 1. Poisson
    points of rate 1 on [0, n], conditioned on n of them, are n scaled uniforms: the count is
    carried from checkpoint to checkpoint with Poisson weights (their e^-gap left out, and
    restored with the conditioning as n!/n^n), and zeroed where it breaks a bound."""
    import numpy as np

    t = n * d
    checks = sorted(
        [(i - 1 + t, i, True) for i in range(1, n + 1) if i - 1 + t < n]
        + [(i - t, i, False) for i in range(1, n + 1) if i - t > 0]
    )
    counts = np.zeros(n + 1)
    counts[0] = 1.0
    steps = np.arange(n + 1, dtype=float)
    at = 0.0
    for y, i, at_least in [*checks, (float(n), 0, True)]:
        if y > at:
            # gap^j / j! for j = 0..n; the counts stay below e^n, finite for n <= 140
            weights = np.cumprod(np.r_[1.0, (y - at) / steps[1:]])
            counts = np.convolve(counts, weights)[: n + 1]
            at = y
        if at_least:
            counts[:i] = 0.0
        else:
            counts[i:] = 0.0
    return math.exp(math.log(counts[n]) + _log_factorial_over_power(n)) if counts[n] > 0 else 0.0


def _pelz_good_cdf(n: int, d: float) -> float:
    """P(D_n <= d) ~ K0(z) + K1(z)/sqrt(n) + K2(z)/n + K3(z)/n^1.5, z = d sqrt(n): the Li-Chien
    and Korolyuk expansion in Pelz and Good's form, whose series in exp(-pi^2 m^2 / 8 z^2)
    converge fast for the small z (n d^2 < 2.2) it serves."""
    z = d * math.sqrt(n)
    z2 = z * z
    if _PI2 / (8.0 * z2) > 708.0:  # even the first term underflows
        return 0.0
    z4, z6 = z2 * z2, z2 * z2 * z2
    odd = [0.0, 0.0, 0.0, 0.0]  # sums over odd m, one per K
    even2 = even3 = 0.0  # the sums over even m = 2j of K2's and K3's second parts
    m = 1
    while True:
        w = math.exp(-_PI2 * m * m / (8.0 * z2))
        if m % 2:
            a = _PI2 * m * m / 4.0
            odd[0] += w
            odd[1] += (a - z2) * w
            odd[2] += (6 * z6 + 2 * z4 + (2 * z4 - 5 * z2) * a + (1 - 2 * z2) * a * a) * w
            odd[3] += (
                -30 * z6 - 90 * z6 * z2
                + (135 * z4 - 96 * z6) * a
                + (212 * z4 - 60 * z2) * a * a
                + (5 - 30 * z2) * a**3
            ) * w  # fmt: skip
            if w * (1.0 + a) ** 3 < 1e-17 * odd[0]:
                break
        else:
            j2 = (m // 2) ** 2
            even2 += j2 * w
            even3 += (3 * z2 - _PI2 * j2) * j2 * w
        m += 1
    k0 = _SQRT_2PI / z * odd[0]
    k1 = _SQRT_2PI / (6 * z4) * odd[1]
    k2 = _SQRT_2PI / (72 * z6 * z) * odd[2] - _PI2 * _SQRT_2PI / (36 * z2 * z) * even2
    k3 = _SQRT_2PI / (6480 * z6 * z4) * odd[3] + _PI2 * _SQRT_2PI / (216 * z6) * even3
    root = math.sqrt(n)
    return k0 + k1 / root + k2 / n + k3 / (n * root)
