"""User signals per window and intent: acceptance, edits, thumbs-down, escalations and CSAT.

Feedback joins calls by task_id and takes the task's intent. Acceptance, edit and escalation
rates are shares of the window's tasks (tasks with a call or a feedback event in it) that had the
event at least once; the thumbs-down rate is the share of thumbs ratings that are down; CSAT is
the mean score. Each share carries a Wilson interval; gates use Fisher exact tests (CSAT a
one-sided Welch test) against the reference window; a change past its threshold alerts only
when it is significant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from canary_eval.models import Alert
from canary_eval.monitor.config import SignalThresholds
from canary_eval.monitor.gates import GateTest, RateChange, rate_tests, where
from canary_eval.verdict.stats import wilson_interval
from canary_eval.verdict.tdist import welch_test


@dataclass(frozen=True)
class Proportion:
    successes: int
    n: int
    low: float | None
    high: float | None

    @property
    def rate(self) -> float | None:
        return self.successes / self.n if self.n else None

    @classmethod
    def of(cls, successes: int, n: int) -> Proportion:
        if not n:
            return cls(successes, n, None, None)
        low, high = wilson_interval(successes, n)
        return cls(successes, n, low, high)


@dataclass(frozen=True)
class SignalFigures:
    tasks: int
    acceptance: Proportion
    edit: Proportion
    escalation: Proportion
    thumbs_down: Proportion  # of thumbs ratings
    csat_mean: float | None
    csat_n: int
    csat_sd: float | None


Pair = tuple[str | None, SignalFigures, SignalFigures]  # (intent, reference, current)


def signal_tests(pairs: Sequence[Pair], t: SignalThresholds) -> list[GateTest]:
    """The tests of every `signals` gate that is on, overall and per intent."""
    tests: list[GateTest] = []
    for metric, label, attr, limit, drop in (
        (
            "thumbs_down_rate",
            "thumbs-down rate",
            "thumbs_down",
            t.max_thumbs_down_rate_increase,
            False,
        ),
        ("escalation_rate", "escalation rate", "escalation", t.max_escalation_rate_increase, False),
        ("acceptance_rate", "acceptance rate", "acceptance", t.max_acceptance_rate_drop, True),
        ("edit_rate", "edit rate", "edit", t.max_edit_rate_increase, False),
    ):
        changes = []
        for intent, ref, cur in pairs:
            a, b = getattr(ref, attr), getattr(cur, attr)
            changes.append(RateChange(intent, a.successes, a.n, b.successes, b.n))
        tests += rate_tests(
            "signals",
            metric,
            label,
            changes,
            max_change=limit,
            min_n=t.min_tasks,
            drop=drop,
            alpha=t.alpha,
        )
    if t.max_csat_drop is not None:
        tests += _csat_tests(pairs, t.max_csat_drop, t.min_tasks, t.alpha)
    return tests


def _csat_tests(
    pairs: Sequence[Pair], limit: float, min_n: int, alpha: float | None
) -> list[GateTest]:
    """One-sided Welch tests of a fall in mean CSAT."""
    tests = []
    for intent, ref, cur in pairs:
        if min(ref.csat_n, cur.csat_n) < min_n or ref.csat_mean is None or cur.csat_mean is None:
            continue
        p = welch_test(
            cur.csat_mean,
            cur.csat_sd or 0.0,
            cur.csat_n,
            ref.csat_mean,
            ref.csat_sd or 0.0,
            ref.csat_n,
            alternative="less",
        )
        drop = ref.csat_mean - cur.csat_mean
        alert = None
        if drop > limit:
            alert = Alert(
                layer="signals",
                metric="csat",
                message=(
                    f"{where(intent)}mean CSAT fell from {ref.csat_mean:.2f} to "
                    f"{cur.csat_mean:.2f} (-{drop:.2f}, allowed -{limit:.2f}"
                ),
                intent=intent,
                observed=round(drop, 6),
                allowed=limit,
            )
        tests.append(GateTest(intent, p, alert, alpha))
    return tests
