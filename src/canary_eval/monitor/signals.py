"""User signals per window and intent: acceptance, edits, thumbs-down, escalations and CSAT.

Feedback joins calls by task_id and takes the task's intent. Acceptance, edit and escalation
rates are shares of the window's tasks (tasks with a call or a feedback event in it) that had the
event at least once; the thumbs-down rate is the share of thumbs ratings that are down; CSAT is
the mean score. Each share carries a Wilson interval; gates use two-proportion tests (CSAT a
one-sided Welch test) against the reference window; a change past its threshold alerts only
when it is significant.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from canary_eval.models import Alert
from canary_eval.monitor.config import SignalThresholds
from canary_eval.monitor.gates import GateTest, RateChange, decide, rate_tests, where
from canary_eval.monitor.records import EVENTS
from canary_eval.monitor.windows import Columns
from canary_eval.verdict.stats import wilson_interval

_CODE = {name: i for i, name in enumerate(EVENTS)}


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


class WindowSignals:
    """One window's feedback, joined to tasks once for every intent."""

    def __init__(self, call_tasks: Any, feedback: Columns, mask: Any, task_intent: Any) -> None:
        self._fb = {name: values[mask] for name, values in feedback.items()}
        self._tasks = np.union1d(np.unique(call_tasks), np.unique(self._fb["task"]))
        self._task_intent = task_intent
        self._event_tasks = {
            name: np.unique(self._fb["task"][self._fb["event"] == _CODE[name]])
            for name in ("accepted", "edited", "escalated")
        }

    def _in(self, tasks: Any, intent: int | None) -> Any:
        return tasks if intent is None else tasks[self._task_intent[tasks] == intent]

    def figures(self, intent: int | None = None) -> SignalFigures:
        fb = self._fb
        n = int(self._in(self._tasks, intent).size)
        events = (
            fb["event"]
            if intent is None
            else np.where(self._task_intent[fb["task"]] == intent, fb["event"], -1)
        )
        down = int((events == _CODE["thumbs_down"]).sum())
        rated = down + int((events == _CODE["thumbs_up"]).sum())
        csat = fb["value"][events == _CODE["csat"]].astype(np.float64)
        return SignalFigures(
            tasks=n,
            acceptance=Proportion.of(int(self._in(self._event_tasks["accepted"], intent).size), n),
            edit=Proportion.of(int(self._in(self._event_tasks["edited"], intent).size), n),
            escalation=Proportion.of(int(self._in(self._event_tasks["escalated"], intent).size), n),
            thumbs_down=Proportion.of(down, rated),
            csat_mean=float(csat.mean()) if csat.size else None,
            csat_n=int(csat.size),
            csat_sd=float(csat.std(ddof=1)) if csat.size > 1 else None,
        )


Pair = tuple[str | None, SignalFigures, SignalFigures]  # (intent, reference, current)


def signal_alerts(pairs: Sequence[Pair], t: SignalThresholds) -> list[Alert]:
    """Alerts with layer `signals` for every configured gate, overall and per intent."""
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
            "signals", metric, label, changes, max_change=limit, min_n=t.min_tasks, drop=drop
        )
    if t.max_csat_drop is not None:
        tests += _csat_tests(pairs, t.max_csat_drop, t.min_tasks)
    return decide(tests, t.alpha)


def _csat_tests(pairs: Sequence[Pair], limit: float, min_n: int) -> list[GateTest]:
    """One-sided Welch tests of a fall in mean CSAT."""
    from scipy.stats import ttest_ind_from_stats

    tests = []
    for intent, ref, cur in pairs:
        if min(ref.csat_n, cur.csat_n) < min_n or ref.csat_mean is None or cur.csat_mean is None:
            continue
        _, p = ttest_ind_from_stats(
            cur.csat_mean,
            cur.csat_sd or 0.0,
            cur.csat_n,
            ref.csat_mean,
            ref.csat_sd or 0.0,
            ref.csat_n,
            equal_var=False,
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
        tests.append(GateTest(intent, 1.0 if math.isnan(p) else float(p), alert))
    return tests
