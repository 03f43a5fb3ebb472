"""Honest limits: the smallest drop each quality series pages on, and the cases it would need.

A series (the overall score, an intent) pages through the calibrated CUSUM of
verdict/calibration.py: S = max(0, S + z - K) passes H, the run is itself short, and the mean
relative deficit since S left 0 passes the gate's relative limit. Its detectable drop is the
smallest sustained relative drop that does all three within HORIZON_RUNS runs with 80 %
probability. It is found by running that very rule on seeded normal per-run changes with the
series' run-to-run spread (common random numbers: monotone in the drop, the same answer every
time), and, for pass/fail scores, rounded up to whole cases turning wrong. Drops the baseline
score does not allow are infinite: such a series cannot page reliably.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from canary_eval.models import RunResult
from canary_eval.suite.config import Alerting, Thresholds
from canary_eval.verdict.alarm import Pairs, observe
from canary_eval.verdict.calibration import CAP, K, Reference, SeriesResult, series_thresholds

HORIZON_RUNS = 6  # six hourly runs: the drop is paged within a working morning
POWER = 0.8
RELIABLE = 0.5  # a series that needs more than half its score gone to page cannot page reliably
ASSUMED_FLIPS = 0.05  # the share of answers assumed to flip between runs when none was measured
ASSUMED_SCORE = 0.9  # the baseline score assumed when there is no baseline yet
_PATHS = 1000
_MAX_CASES = 1_000_000


@dataclass(frozen=True)
class Limit:
    """What one series can page on."""

    name: str
    n: int
    drop: float  # the smallest relative drop paged within HORIZON_RUNS runs, 80 %; inf: none
    cases_needed: int | None  # cases for a drop of the limit to pass H so; None: out of reach

    @property
    def reliable(self) -> bool:
        return self.drop <= RELIABLE


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
        from scipy.stats import norm
        from scipy.stats import t as student

        tail = student.sf(np.abs(t), df)
        z = np.where(tail > 0, np.sign(t) * norm.isf(np.maximum(tail, 1e-300)), t)
    c = spread.skew / 6
    if c <= 0:
        return z
    root = 1 + 4 * c * (z + c)
    return np.where(root > 0, (np.sqrt(np.maximum(root, 0.0)) - 1) / (2 * c), -1 / (2 * c))


def caught(drop: float, spread: Spread, score: float, h: float, limit: float | None) -> float:
    """The share of seeded paths on which a sustained relative `drop` of the expected healthy
    `score` pages within HORIZON_RUNS runs, decided as `calibration.update` decides."""
    import numpy as np

    shift = drop * score
    scale = spread.sd * math.sqrt(1 + 1 / spread.runs)
    s = np.zeros(_PATHS)
    runs = np.zeros(_PATHS)
    deficit = np.zeros(_PATHS)
    paged = np.zeros(_PATHS, dtype=bool)
    for noise in _draws(round(spread.skew, 2)):
        short = shift + spread.sd * noise  # the reference mean minus this run's change
        z = _standardise(short / scale, spread)
        s = np.minimum(np.maximum(0.0, s + z - K), h + CAP)
        going = s > 0
        runs = np.where(going, runs + 1, 0)
        deficit = np.where(going, deficit + short / score, 0.0)
        estimate = deficit / np.maximum(runs, 1)
        paged |= (s > h) & (z > 0) & (limit is None or estimate > limit)
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


def case_variance(diffs: Sequence[float]) -> float:
    """A case's run-to-run score variance from paired differences (current - baseline): each
    difference carries two runs' noise."""
    if len(diffs) < 2:
        return 0.0
    mean = sum(diffs) / len(diffs)
    return sum((d - mean) ** 2 for d in diffs) / len(diffs) / 2


def series_limit(
    name: str,
    n: int,
    baseline_score: float,
    variance: float,
    thresholds: Thresholds,
    alerting: Alerting,
    gated: Sequence[str],
    *,
    reference: Reference | None = None,
    binary: bool = True,
) -> Limit:
    """The limit of one series: "overall" or an intent; `gated` the intents that have a
    series, `reference` the one the series was just measured against (None: its healthy
    spread is `variance` per case). An intent below `per_intent.min_cases` never pages."""
    overall = name == "overall"
    gate = thresholds.max_relative_drop if overall else thresholds.per_intent.max_relative_drop
    if not overall and gate is None:
        return Limit(name, n, math.inf, None)
    names = ["overall", *gated, *([] if overall or name in gated else [name])]
    h = series_thresholds(names, alerting.false_pages_per_month)[name]
    runs = alerting.reference_runs
    score = baseline_score + (reference.mean if reference is not None else 0.0)
    if reference is not None and reference.source in ("history", "baseline repeats"):
        spread = Spread(reference.sd, reference.runs, reference.df, reference.skew)
    else:
        # Stated for the steady state, once the history holds `reference_runs` healthy runs:
        # the first runs against a new baseline decide on less.
        sd = reference.sd if reference is not None else run_sd(variance, n)
        spread = Spread(sd, runs, runs - 1, flip_skew(sd * sd * n, n) if binary else 0.0)
    needed = cases_needed(spread.sd**2 * n, score, h, gate, runs, binary=binary)
    if not overall and n < thresholds.per_intent.min_cases:
        return Limit(name, n, math.inf, max(thresholds.per_intent.min_cases, needed or 0))
    return Limit(name, n, detectable_drop(spread, score, h, gate), needed)


def limit_notes(limits: Sequence[Limit], thresholds: Thresholds) -> list[str]:
    """One line per intent too small to ever page (below `per_intent.min_cases`) or to page
    reliably (its detectable drop above RELIABLE), with the cases it would need."""
    gate = thresholds.per_intent
    if gate.max_relative_drop is None:
        return []
    lines = []
    for limit in limits:
        if limit.name == "overall" or limit.reliable:
            continue
        needed = limit.cases_needed
        if limit.n < gate.min_cases:
            more = (needed or gate.min_cases) - limit.n
            lines.append(
                f"intent '{limit.name}' has {limit.n} case(s), below per_intent.min_cases "
                f"{gate.min_cases}: it can never page; it needs {more} more case(s)"
            )
            continue
        what = (
            "no drop its baseline score allows pages"
            if math.isinf(limit.drop)
            else f"only a drop of {limit.drop:.0%} or more pages"
        )
        need = (
            f"; it needs about {needed} cases for a drop of {gate.max_relative_drop:.0%}"
            if needed is not None
            else ""
        )
        lines.append(
            f"intent '{limit.name}' ({limit.n} cases) cannot page reliably: {what} within "
            f"{HORIZON_RUNS} runs with 80 % probability{need}"
        )
    return lines


def paired_limits(
    series: Mapping[str, Pairs],
    results: Sequence[SeriesResult],
    thresholds: Thresholds,
    alerting: Alerting,
) -> dict[str, Limit]:
    """The limit of every series of a run ("overall" and every intent), each measured against
    the reference its calibrated series used (`results`), or its own spread when it has none."""
    references = {r.name: r.reference for r in results}
    gated = [r.name for r in results if r.name != "overall"]
    limits = {}
    for name, pairs in series.items():
        if not pairs:
            continue
        obs = observe(pairs)
        scores = [s for c, b in pairs for s in (c.score, b.score)]
        limits[name] = series_limit(
            name,
            obs.n,
            obs.baseline_score,
            case_variance(obs.diffs),
            thresholds,
            alerting,
            gated,
            reference=references.get(name),
            binary=all(s in (0.0, 1.0) for s in scores),
        )
    return limits


def planned_limits(
    sizes: Mapping[str, int],
    baseline: RunResult | None,
    thresholds: Thresholds,
    alerting: Alerting,
) -> tuple[list[Limit], str]:
    """Before any run (`canary validate`): every series' limit from the eval set's case counts
    and the baseline's scores per intent when there is one (the spread of its `--repeat`
    samples when it has them), and what was assumed, as a phrase."""
    flips = ASSUMED_FLIPS * (1 - ASSUMED_FLIPS)  # a 0/1 score flipping with that chance
    scores: dict[str, list[float]] = {}
    spreads: list[float] = []
    for case in baseline.cases if baseline else ():
        if case.score is not None:
            scores.setdefault(case.intent or "(none)", []).append(case.score)
            if len(case.samples) >= 2:
                mean = sum(case.samples) / len(case.samples)
                spreads.append(sum((x - mean) ** 2 for x in case.samples) / len(case.samples))
    repeats = bool(spreads) and len(spreads) == sum(map(len, scores.values()))
    variance = sum(spreads) / len(spreads) if repeats else flips
    if baseline is None:
        basis = (
            f"no baseline yet: assuming a baseline score of {ASSUMED_SCORE:g} and "
            f"{ASSUMED_FLIPS * 100:g} % of answers flipping between runs"
        )
    elif repeats:
        basis = "from the baseline's scores and the spread of its repeats"
    else:
        basis = (
            f"from the baseline's scores, assuming {ASSUMED_FLIPS * 100:g} % of answers flip "
            "between runs"
        )

    def score_of(values: Sequence[float]) -> float:
        return sum(values) / len(values) if values else ASSUMED_SCORE

    gate = thresholds.per_intent
    gated = [
        i for i, n in sizes.items() if gate.max_relative_drop is not None and n >= gate.min_cases
    ]
    everything = [s for values in scores.values() for s in values]
    limits = [
        series_limit(
            "overall",
            sum(sizes.values()),
            score_of(everything),
            variance,
            thresholds,
            alerting,
            gated,
        )
    ]
    for intent, n in sorted(sizes.items()):
        base = score_of(scores.get(intent, ()))
        limits.append(series_limit(intent, n, base, variance, thresholds, alerting, gated))
    return limits, basis
