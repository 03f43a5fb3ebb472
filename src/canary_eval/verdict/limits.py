"""Honest limits: per series (the overall score, every intent) the smallest drop it pages on
within HORIZON_RUNS runs with 80 % probability (verdict/detectable.py), whether it can page
reliably, the cases it would need, and the notes that name the intents that cannot. In a run,
each series is measured with the reference its calibrated series used, stated for the steady
state; before any run (`canary validate`), from the baseline's scores or stated assumptions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from canary_eval.suite.config import Alerting, Thresholds
from canary_eval.verdict.alarm import Pairs, observe
from canary_eval.verdict.calibration import Reference, SeriesResult, series_thresholds
from canary_eval.verdict.detectable import (
    HORIZON_RUNS,
    Spread,
    cases_needed,
    detectable_drop,
    flip_skew,
    run_sd,
)

RELIABLE = 0.5  # a series that needs more than half its score gone to page cannot page reliably
ASSUMED_FLIPS = 0.05  # the share of answers assumed to flip between runs when none was measured
ASSUMED_SCORE = 0.9  # the baseline score assumed when there is no baseline yet


@dataclass(frozen=True)
class Limit:
    """What one series can page on."""

    name: str
    n: int
    drop: float  # the smallest relative drop paged within HORIZON_RUNS runs, 80 %; inf: none
    # cases for a drop of the limit to pass H so, when it cannot page (reliably); else None
    cases_needed: int | None

    @property
    def reliable(self) -> bool:
        return self.drop <= RELIABLE


class ScoredCase(Protocol):
    """A baseline case as the limits before any run read it (`CaseResult`, `CaseScore`)."""

    @property
    def intent(self) -> str | None: ...
    @property
    def score(self) -> float | None: ...
    @property
    def samples(self) -> tuple[float, ...]: ...


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

    def needed() -> int | None:
        return cases_needed(spread.sd**2 * n, score, h, gate, runs, binary=binary)

    if not overall and n < thresholds.per_intent.min_cases:
        return Limit(name, n, math.inf, max(thresholds.per_intent.min_cases, needed() or 0))
    drop = detectable_drop(spread, score, h, gate)
    return Limit(name, n, drop, None if drop <= RELIABLE else needed())


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
    baseline: Sequence[ScoredCase] | None,
    thresholds: Thresholds,
    alerting: Alerting,
) -> tuple[list[Limit], str]:
    """Before any run (`canary validate`): every series' limit from the eval set's case counts
    and the baseline's cases' scores per intent when there is a baseline (the spread of its
    `--repeat` samples when it has them), and what was assumed, as a phrase."""
    flips = ASSUMED_FLIPS * (1 - ASSUMED_FLIPS)  # a 0/1 score flipping with that chance
    scores: dict[str, list[float]] = {}
    spreads: list[float] = []
    for case in baseline or ():
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

    gated = [i for i, n in sizes.items() if thresholds.per_intent.gates(n)]
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
