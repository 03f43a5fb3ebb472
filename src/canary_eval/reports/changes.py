"""The cases whose score moved since the baseline, worst first, for the Markdown and HTML
reports, and the small number formats those reports (and the terminal) share."""

from __future__ import annotations

import math
from dataclasses import dataclass

from canary_eval.models import CaseResult
from canary_eval.verdict.compare import Comparison, Quality
from canary_eval.verdict.detectable import HORIZON_RUNS


@dataclass(frozen=True)
class ChangedCase:
    current: CaseResult
    baseline: CaseResult

    @property
    def delta(self) -> float:
        return (self.current.score or 0.0) - (self.baseline.score or 0.0)

    @property
    def why(self) -> str:
        """The explanations of the scorers that failed this output now."""
        return "; ".join(
            s.explanation for s in self.current.scores if not s.passed and s.explanation
        )


def changed_cases(comparison: Comparison) -> list[ChangedCase]:
    """Every paired case whose score differs from its baseline's: biggest drops first, then
    the biggest gains; ties in case order."""
    changed = [
        ChangedCase(current, base)
        for current, base in comparison.pairing.pairs
        if current.score != base.score
    ]
    return sorted(changed, key=lambda change: change.delta)


def num(value: float | None, fmt: str = ".3f") -> str:
    """A figure for a report; missing and NaN show as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, fmt)


def percent_change(relative_drop: float) -> str:
    """A relative drop shown as a signed change: a 3 % drop is "-3.0%"."""
    return "-" if math.isnan(relative_drop) else f"{0.0 - relative_drop:+.1%}"


def drop_or_never(drop: float) -> str:
    """A detectable drop as reports show it: a percentage, or "never" for one no drop reaches."""
    return "never" if not math.isfinite(drop) else f"{drop:.1%}"


def detectable(q: Quality) -> str:
    """The honest limit of the overall score: on this run alone, and as the calibrated page."""
    return (
        f"drops of {drop_or_never(q.min_detectable_drop)} or more on this run alone (80 % power); "
        f"pages on drops of {drop_or_never(q.min_paged_drop)} or more within {HORIZON_RUNS} runs "
        "(80 %)"
    )
