"""What a quality series can detect: the smallest sustained drop that pages within
HORIZON_RUNS runs with 80 % probability, and the cases a drop of a given size needs.

A series (the overall score, an intent) pages through the calibrated CUSUM of
verdict/calibration.py: S = max(0, S + z - K) passes H, the run is itself short, and the mean
relative deficit since S left 0 passes the gate's relative limit. That very rule is run here on
seeded per-run changes with the series' run-to-run spread: normal, or gamma-distributed with the
skewness of its deficits (wrong answers are counts), standardised against the same t reference
and skewness correction. The draws are fixed (common random numbers), so the share caught is
monotone in the drop and the answer the same every time. `tests/verdict/test_limits.py` checks
it against pass/fail runs fed to `calibration.update` itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

from canary_eval.verdict.calibration import CAP, K
from canary_eval.verdict.tdist import t_normal_score

HORIZON_RUNS = 6  # six hourly runs: the drop is paged within a working morning
POWER = 0.8
_PATHS = 1000
_MAX_CASES = 1_000_000


@dataclass(frozen=True)
class Spread:
    """How a series' healthy runs vary, as the CUSUM standardises them: the run-to-run sd of
    the change, the reference's size and degrees of freedom (None: normal) and the skewness of
    the deficits (wrong answers are counts)."""

    sd: float
    runs: int
    df: int | None = None
    skew: float = 0.0


@cache
def _draws(skew: float) -> Any:
    """Seeded standardised per-run noise of the deficit: normal, or a gamma of that skewness."""
    import numpy as np

    rng = np.random.default_rng(0)
    if skew <= 0:
        return rng.standard_normal((HORIZON_RUNS, _PATHS))
    shape = 4 / skew**2
    return (rng.standard_gamma(shape, (HORIZON_RUNS, _PATHS)) - shape) / math.sqrt(shape)


@cache
def _normal_scores(df: int) -> tuple[Any, Any]:
    """`tdist.t_normal_score` on a grid of asinh |t| up to |t| of about 1,500, to interpolate
    (within 1e-3 of it between the points; beyond, the last point's score)."""
    import numpy as np

    grid = np.linspace(0.0, 8.0, 201)
    return grid, np.array([t_normal_score(math.sinh(u), df) for u in grid])


def _standardise(t: Any, spread: Spread) -> Any:
    """`calibration.standardise` on arrays: the t-predictive tail as a normal score (for a
    large reference by z = t (1 - 1/4df) / sqrt(1 + t^2/2df), within 0.01 of it for
    df >= 150), then the skewness correction (`calibration._unskew`)."""
    import numpy as np

    z = t
    df = spread.df
    if df is not None and df >= 150:
        z = t * (1 - 1 / (4 * df)) / np.sqrt(1 + t * t / (2 * df))
    elif df is not None and df > 0:
        grid, scores = _normal_scores(df)
        z = np.sign(t) * np.interp(np.arcsinh(np.abs(t)), grid, scores)
    c = spread.skew / 6
    if c <= 0:
        return z
    root = 1 + 4 * c * (z + c)
    return np.where(root > 0, (np.sqrt(np.maximum(root, 0.0)) - 1) / (2 * c), -1 / (2 * c))


def caught(drop: float, spread: Spread, score: float, h: float, limit: float | None) -> float:
    """The share of seeded paths on which a sustained relative `drop` of the expected healthy
    `score` pages within HORIZON_RUNS runs, decided as `calibration.update` decides."""
    import numpy as np

    # every run's shortfall (the reference mean minus its change) and standardised deficit
    short = drop * score + spread.sd * _draws(round(spread.skew, 2))
    zs = _standardise(short / (spread.sd * math.sqrt(1 + 1 / spread.runs)), spread)
    s = np.zeros(_PATHS)
    runs = np.zeros(_PATHS)
    deficit = np.zeros(_PATHS)
    paged = np.zeros(_PATHS, dtype=bool)
    for z, relative in zip(zs, short / score, strict=True):
        s = np.minimum(np.maximum(0.0, s + z - K), h + CAP)
        going = s > 0
        runs = np.where(going, runs + 1, 0)
        deficit = np.where(going, deficit + relative, 0.0)
        alarm = (s > h) & (z > 0)
        paged |= alarm if limit is None else alarm & (deficit > limit * np.maximum(runs, 1))
    return float(paged.mean())


def detectable_drop(spread: Spread, score: float, h: float, limit: float | None) -> float:
    """The smallest relative drop of the expected score paged within HORIZON_RUNS runs with
    80 % probability; inf when even the whole score gone is not."""
    if score <= 0 or spread.sd <= 0 or caught(1.0, spread, score, h, limit) < POWER:
        return math.inf
    low, high = 0.0, 1.0
    for _ in range(12):
        mid = (low + high) / 2
        low, high = (low, mid) if caught(mid, spread, score, h, limit) >= POWER else (mid, high)
    return high


def flip_skew(variance: float, n: int) -> float:
    """The skewness of a healthy run's deficit over n pass/fail cases, each flipping with the
    chance f that gives it `variance` = f (1 - f): a binomial's, capped at 1 as
    `calibration.reference` caps it."""
    if n <= 0 or not 0 < variance < 0.25:
        return 0.0
    f = (1 - math.sqrt(1 - 4 * variance)) / 2
    return min(1.0, (1 - 2 * f) / math.sqrt(n * variance))


def run_sd(variance: float, n: int) -> float:
    """The run-to-run sd of a mean over n cases whose scores vary by `variance` from run to
    run, never below the floor `calibration.reference` puts under it."""
    return max(math.sqrt(max(variance, 0.0) / n), 0.25 / n) if n > 0 else 0.0


def cases_needed(
    variance: float, score: float, h: float, limit: float | None, runs: int, *, binary: bool
) -> int | None:
    """The fewest cases with which a drop of `limit` passes the CUSUM threshold within
    HORIZON_RUNS runs with 80 % probability (it then pages on a drop a little above it); None
    without a limit, a score or a finite answer."""
    if limit is None or limit <= 0 or score <= 0:
        return None

    def enough(n: int) -> bool:
        skew = flip_skew(variance, n) if binary else 0.0
        spread = Spread(run_sd(variance, n), runs, runs - 1, skew)
        return caught(limit, spread, score, h, None) >= POWER

    high = 1
    while not enough(high):
        high *= 2
        if high > _MAX_CASES:
            return None
    low = high // 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if enough(mid) else (mid, high)
    return high
