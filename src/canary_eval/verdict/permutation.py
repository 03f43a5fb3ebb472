"""The one-sided paired sign-flip permutation test, computed as cheaply as its answer allows.

Under "no change" each non-zero difference (current - baseline) is equally likely to carry
either sign; the p-value is the share of the 2**k sign patterns whose sum is at most the
observed one. In order of preference:

- exactly, by enumerating the patterns, when k <= 16;
- exactly, by convolution, when the differences lie on a common grid (pass/fail and weighted
  scorers, rubric points, percentages: scores with few decimals): the sum's distribution is a
  product of two-point distributions, built in k vectorised steps over the grid;
- far in the tail, by Hoeffding's bound exp(-s**2 / (2 * sum d**2)) for a sum of random signs,
  a valid p-value on its own, once it is below what resampling could resolve;
- otherwise by sequential Monte Carlo (Besag & Clifford 1991): patterns are drawn in batches
  until `h` of them are as extreme as the observed one (p = h / drawn) or `n_resamples` are
  drawn (p = (hits + 1) / (n_resamples + 1)); a clearly large p-value needs a few hundred
  patterns instead of all of them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

# Exact sign-flip enumeration up to 2**16 sign patterns.
EXACT_MAX_NONZERO = 16
# Grids tried for the exact convolution: the denominators scores with few decimals share.
_GRIDS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 25, 30, 40, 48, 50, 60, 64, 100, 120, 1000)
_MAX_CONVOLUTION_CELLS = 20_000_000  # k x grid points; beyond it, Monte Carlo is cheaper
_BATCH_CELLS = 2_000_000  # resampled sign matrices are built in chunks of about this size


def sign_flip_p_value(diffs: Any, n_resamples: int, seed: int) -> float:
    """P(sum of randomly signed |diffs| <= sum(diffs)); `diffs` a float array."""
    import numpy as np

    nonzero = diffs[diffs != 0.0]
    k = int(nonzero.size)
    if k == 0:
        return 1.0
    observed = float(nonzero.sum())
    # Sums over flipped signs are accumulated in another order than the observed sum; the slack
    # makes mathematically tied patterns count as ties.
    slack = 1e-9 * float(np.abs(nonzero).sum())
    if k <= EXACT_MAX_NONZERO:
        patterns = np.arange(1 << k)[:, None] >> np.arange(k) & 1
        sums = (1 - 2 * patterns) @ nonzero
        return float(np.count_nonzero(sums <= observed + slack)) / (1 << k)
    exact = _on_grid(nonzero)
    if exact is not None:
        return exact
    if observed < 0:
        bound = math.exp(-(observed**2) / (2.0 * float(nonzero @ nonzero)))
        if bound < 1.0 / (n_resamples + 1):
            return bound
    return _sequential_monte_carlo(nonzero, observed + slack, n_resamples, seed)


def _on_grid(nonzero: np.ndarray[Any, Any]) -> float | None:
    """The exact p-value when every difference is a whole number of 1/q steps, else None."""
    import numpy as np

    for q in _GRIDS:
        steps = nonzero * q
        whole = np.rint(steps)
        if np.all(np.abs(steps - whole) <= 1e-6):
            break
    else:
        return None
    sizes = np.abs(whole).astype(np.int64)
    total = int(sizes.sum())
    if sizes.size * (total + 1) > _MAX_CONVOLUTION_CELLS:
        return None
    # prob[j]: chance that the positively signed differences add up to j steps. The sum of all
    # signed differences is then 2j - total, so the observed sum corresponds to j_observed.
    prob = np.zeros(total + 1)
    prob[0] = 1.0
    reach = 0
    for size in sizes.tolist():
        shifted = prob[: reach + 1].copy()
        prob[: reach + 1] *= 0.5
        prob[size : size + reach + 1] += 0.5 * shifted
        reach += size
    observed = int(sizes[whole > 0].sum())
    return float(min(1.0, prob[: observed + 1].sum()))


def _sequential_monte_carlo(
    nonzero: np.ndarray[Any, Any], threshold: float, n_resamples: int, seed: int
) -> float:
    import numpy as np

    rng = np.random.default_rng(seed)
    target = max(10, n_resamples // 20)  # hits that pin a large p-value down well enough
    k = int(nonzero.size)
    rows = max(1, min(1000, _BATCH_CELLS // k))
    hits = drawn = 0
    while drawn < n_resamples:
        size = min(rows, n_resamples - drawn)
        signs = 1 - 2 * rng.integers(0, 2, size=(size, k), dtype=np.int8)
        extreme = (signs @ nonzero) <= threshold
        found = int(np.count_nonzero(extreme))
        if hits + found >= target:
            at = int(np.flatnonzero(extreme)[target - hits - 1])
            return target / (drawn + at + 1)
        hits += found
        drawn += size
    return (hits + 1) / (n_resamples + 1)
