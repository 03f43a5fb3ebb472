"""Quality paging calibrated for the cadence the canary runs at: a one-sided CUSUM per series.

A series is the run's paired score change against the baseline, overall and per intent. Each
hour's change is standardised against a reference of the run-to-run spread (recent healthy runs
in the history; else a baseline recorded with `--repeat`; else, while the history warms up, the
run's own discordance against the one baseline draw), and the deficit accumulates in a one-sided
CUSUM: S = max(0, S + z - K). A series pages when S passes the threshold H that gives the
configured false pages per month of hourly runs (Siegmund's approximation of the in-control
run length) *and* its estimated drop since the deficit began passes the configured relative
drop. The budget is split: half to the overall score, half shared by the gated intents.

A frozen baseline is one noisy draw reused every hour; comparing each run with the mean of many
runs instead removes the per-baseline bias that made a per-run test page on noise.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from statistics import NormalDist

from canary_eval.verdict.tdist import t_normal_score

# Reference value: the CUSUM is tuned to shifts of two run-to-run standard deviations, about a
# 5 % drop at 10 % per-request noise on 170 cases (bench/bench_alerting.py).
K = 1.0
CAP = 2.0  # S is capped at H + CAP, so a fixed drop is forgotten within a few runs
RUNS_PER_MONTH = 720  # 30 days of hourly runs
# Siegmund's run length is normal theory with a known spread; per-run deficits are skewed (wrong
# answers are counts) and the spread is estimated, so the in-control run length asked of it is
# this many times the budget's. Chosen with bench/bench_alerting.py.
SAFETY = 4.0


@dataclass(frozen=True)
class SeriesState:
    """What the next run needs of one series: this run's change and the CUSUM after it."""

    x: float  # the paired score change (current - baseline) on this run
    spread: float = 0.0  # the run-to-run sd this run's per-case differences imply
    s: float = 0.0  # the CUSUM statistic, in standard deviations
    runs: int = 0  # runs since S last left 0
    deficit: float = 0.0  # sum of relative deficits over those runs
    paged: bool = False  # a paging run is left out of the series' reference


@dataclass(frozen=True)
class PastRun:
    """A recorded run as calibration sees it: evaluated or not (an outage is no reference),
    and its series' states."""

    healthy: bool
    key: str  # runs compare only under the same baseline, eval set, prompt and scorers
    series: Mapping[str, SeriesState]


@dataclass(frozen=True)
class Observation:
    """One series on this run: the paired change, the baseline score, the number of pairs,
    the per-case differences (for the spread the run itself implies) and the baseline's
    per-repeat means over the same cases (empty unless it was recorded with `--repeat`)."""

    x: float
    baseline_score: float
    n: int
    diffs: Sequence[float] = ()
    repeat_means: Sequence[float] = ()
    runs: int = 1  # how many runs `x` is the mean of (`--repeat`, confirmation re-runs)


@dataclass(frozen=True)
class Reference:
    source: str  # "history" | "baseline repeats" | "history spread" | "this run"
    runs: int
    mean: float  # the expected paired change of a healthy run
    sd: float  # the run-to-run standard deviation of the change
    df: int | None  # degrees of freedom of the t reference; None for normal
    skew: float = 0.0  # skewness of the healthy deficits (wrong answers are counts)


@dataclass(frozen=True)
class SeriesResult:
    name: str  # "overall" or the intent
    state: SeriesState
    z: float
    threshold: float
    reference: Reference
    drop: float  # estimated relative drop since the deficit began
    limit: float | None  # the relative drop that must also be passed to page
    alarm: bool


def arl_of(h: float, k: float = K) -> float:
    """Siegmund's in-control average run length of a CUSUM with threshold h and reference k:
    ARL = (exp(2kb) - 2kb - 1) / 2k^2 with b = h + 1.166."""
    b = 2 * k * (h + 1.166)
    return (math.exp(b) - b - 1) / (2 * k * k)


@cache
def threshold(arl: float, k: float = K) -> float:
    """H such that the CUSUM runs `arl` in-control steps on average before it signals."""
    low, high = 0.0, 50.0
    for _ in range(80):
        mid = (low + high) / 2
        low, high = (mid, high) if arl_of(mid, k) < arl else (low, mid)
    return high


def series_thresholds(names: Sequence[str], false_pages_per_month: float) -> dict[str, float]:
    """Each series' H: "overall" gets half the budget, the intents share the other half."""
    intents = [n for n in names if n != "overall"]
    shares = {"overall": 0.5 if intents else 1.0}
    shares.update({n: 0.5 / len(intents) for n in intents})
    rate = max(false_pages_per_month, 1e-9)
    return {n: threshold(SAFETY * RUNS_PER_MONTH / (rate * shares[n])) for n in names}


def spread(obs: Observation) -> float:
    """The run-to-run sd of the mean the per-case differences imply: a change between two
    runs carries both runs' noise, var(mean change) = var(diffs) / n = 2 sd^2."""
    return statistics.pstdev(obs.diffs) / math.sqrt(2 * obs.n) if len(obs.diffs) > 1 else 0.0


def reference(
    name: str, obs: Observation, past: Sequence[PastRun], min_runs: int, max_runs: int
) -> Reference:
    """The healthy spread of the series, from the best evidence there is: at least `min_runs`
    healthy runs in the history; else a baseline recorded with repeats; else the per-case
    spread of the healthy runs there are, against the one baseline draw; else this run's own."""
    floor = 0.25 / max(obs.n, 1)  # one case moving by a quarter point: never a zero spread
    states = (r.series.get(name) for r in past if r.healthy)
    healthy = [state for state in states if state is not None and not state.paged][-max_runs:]
    xs = [state.x for state in healthy]
    if len(xs) >= min_runs:
        mean, sd = statistics.fmean(xs), max(statistics.stdev(xs), floor)
        skew = statistics.fmean(((mean - x) / sd) ** 3 for x in xs)
        return Reference("history", len(xs), mean, sd, len(xs) - 1, min(max(skew, 0.0), 1.0))
    if len(obs.repeat_means) >= 2:
        r = len(obs.repeat_means)
        sd = max(statistics.stdev(obs.repeat_means), floor)
        return Reference("baseline repeats", r, 0.0, sd, r - 1)
    if healthy:
        # The few runs there are carry the baseline draw's own error alike: their mean, not
        # the baseline, is the reference; their per-case spreads give the run-to-run spread.
        pooled = math.sqrt(statistics.fmean(state.spread**2 for state in healthy))
        return Reference("history spread", len(xs), statistics.fmean(xs), max(pooled, floor), None)
    return Reference("this run", 1, 0.0, max(spread(obs), floor), None)


def standardise(obs: Observation, ref: Reference) -> float:
    """The run's deficit in predictive standard deviations (t-predictive when df is known)."""
    t = (ref.mean - obs.x) / (ref.sd * math.sqrt(1 / obs.runs + 1 / ref.runs))
    if ref.df is None or abs(t) < 1e-12:
        return t
    return _unskew(t_normal_score(t, ref.df), ref.skew)


def _unskew(x: float, skew: float) -> float:
    """The normal score of a deficit from a right-skewed distribution: the inverse of the
    Cornish-Fisher expansion x = z + c (z^2 - 1), c = skew / 6, on its increasing branch."""
    c = skew / 6
    if c <= 0:
        return x
    root = 1 + 4 * c * (x + c)
    return (math.sqrt(root) - 1) / (2 * c) if root > 0 else -1 / (2 * c)


def update(
    name: str,
    obs: Observation,
    previous: SeriesState | None,
    ref: Reference,
    h: float,
    limit: float | None,
) -> SeriesResult:
    """One CUSUM step for the series; it pages when S passes H and the drop passes `limit`.

    With no history and a single-draw baseline there is no CUSUM yet: the run pages alone
    only when its deficit is as unlikely as the series' budget for one run allows."""
    z = standardise(obs, ref)
    prev = previous or SeriesState(x=0.0)
    if ref.source == "this run":
        one_run = NormalDist().inv_cdf(1 - 1 / arl_of(h))
        h = max(0.0, one_run - K)
    s = min(max(0.0, prev.s + z - K), h + CAP)
    expected = obs.baseline_score + ref.mean
    relative = (ref.mean - obs.x) / expected if expected > 0 else 0.0
    runs, deficit = (prev.runs + 1, prev.deficit + relative) if s > 0 else (0, 0.0)
    drop = deficit / runs if runs else 0.0
    # This run must itself fall short: a fixed drop stops paging on the first good run.
    alarm = s > h and z > 0 and (limit is None or drop > limit)
    state = SeriesState(obs.x, spread(obs), s, runs, deficit, alarm)
    return SeriesResult(name, state, z, h, ref, drop, limit, alarm)
