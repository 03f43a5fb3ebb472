"""Gates shared by the ops, signals and drift layers: a change past its threshold becomes an Alert.

A tested gate breaches when the change exceeds its threshold and a one-sided test of "no change"
rejects after Holm correction over every test of the monitor pass, all layers, metrics and
intents together (`canary_eval.monitor.budget`): a pass over unchanged traffic raises a false
alert with probability at most the pass's `alpha`, however many gates there are. Shares use
Fisher's exact test, which stays valid for the small counts of a quiet intent. Past the threshold
but not significant is noise at this sample size: the figure is in the report, but nobody is
alerted. A relative gate compares current / reference - 1 with its threshold once both windows
have enough data, and is tested too (monitor/ops.py says how).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from canary_eval.models import Alert, Layer
from canary_eval.verdict.stats import exact_rate_test, holm


@dataclass(frozen=True)
class RateChange:
    """One segment's share in both windows; `intent` None is the overall figure."""

    intent: str | None
    x_ref: int
    n_ref: int
    x_cur: int
    n_cur: int

    @property
    def reference(self) -> float:
        return self.x_ref / self.n_ref if self.n_ref else 0.0

    @property
    def current(self) -> float:
        return self.x_cur / self.n_cur if self.n_cur else 0.0


@dataclass(frozen=True)
class ValueChange:
    """One segment's figure (p95 latency, cost per task...) in both windows, with the p-value
    of a one-sided test that it grew and what that test saw (`detail`, for the message)."""

    intent: str | None
    reference: float | None
    current: float | None
    n_ref: int
    n_cur: int
    p_value: float = 1.0
    detail: str = ""


def where(intent: str | None) -> str:
    return f"intent {intent}: " if intent is not None else ""


@dataclass(frozen=True)
class GateTest:
    """One tested figure: its raw p-value, and the alert it raises if the p-value survives."""

    intent: str | None
    p_value: float
    alert: Alert | None  # None when the change is within its threshold
    alpha: float | None = None  # a level of its own, outside the pass's shared budget


def decide(tests: Sequence[GateTest], alpha: float) -> list[Alert]:
    """Holm-correct the tests together at `alpha`; keep the alerts whose tests reject."""
    adjusted = holm([t.p_value for t in tests])
    return [
        replace(t.alert, message=f"{t.alert.message}; p={p:.3g})")
        for t, p in zip(tests, adjusted, strict=True)
        if t.alert is not None and p < alpha
    ]


def rate_tests(
    layer: Layer,
    metric: str,
    label: str,
    changes: Sequence[RateChange],
    *,
    max_change: float | None,
    min_n: int,
    drop: bool = False,
    alpha: float | None = None,
) -> list[GateTest]:
    """Tests of a share that may rise by at most `max_change` (or fall, with `drop`)."""
    if max_change is None:
        return []
    tests = []
    for c in changes:
        if min(c.n_ref, c.n_cur) < min_n:
            continue
        p = exact_rate_test(
            c.x_ref, c.n_ref, c.x_cur, c.n_cur, alternative="less" if drop else "greater"
        )
        delta = c.reference - c.current if drop else c.current - c.reference
        alert = None
        if delta > max_change:
            points = (c.current - c.reference) * 100
            alert = Alert(
                layer=layer,
                metric=metric,
                message=(
                    f"{where(c.intent)}{label} {'fell' if drop else 'rose'} from "
                    f"{c.reference:.1%} to {c.current:.1%} ({points:+.1f} points, allowed "
                    f"{max_change * 100:.1f}"
                ),
                intent=c.intent,
                observed=round(delta, 6),
                allowed=max_change,
            )
        tests.append(GateTest(c.intent, p, alert, alpha))
    return tests


def relative_tests(
    layer: Layer,
    metric: str,
    label: str,
    changes: Sequence[ValueChange],
    *,
    max_increase: float | None,
    min_n: int,
    unit: str = "",
    floor: float = 0.0,
    alpha: float | None = None,
) -> list[GateTest]:
    """Tests of a figure that may grow by at most `max_increase` relative to the reference,
    and by at most `floor` in its own unit (a 40 % rise of a 30 ms p95 is nobody's problem):
    the change must be both that large and significant (each change carries its p-value)."""
    if max_increase is None:
        return []
    tests = []
    for change in changes:
        ref, cur = change.reference, change.current
        if ref is None or cur is None or ref <= 0 or min(change.n_ref, change.n_cur) < min_n:
            continue
        growth = cur / ref - 1.0
        alert = None
        if growth > max_increase and cur - ref > floor:
            detail = f"; {change.detail}" if change.detail else ""
            alert = Alert(
                layer=layer,
                metric=metric,
                message=(
                    f"{where(change.intent)}{label} {_fmt(cur)}{unit} vs {_fmt(ref)}{unit} in "
                    f"the reference window ({growth:+.0%}, allowed +{max_increase:.0%}{detail}"
                ),
                intent=change.intent,
                observed=round(growth, 6),
                allowed=max_increase,
            )
        tests.append(GateTest(change.intent, change.p_value, alert, alpha))
    return tests


def fold_intents(alerts: Sequence[Alert], metrics: Sequence[str]) -> list[Alert]:
    """When the overall figure of one of `metrics` alerts, the intents that alert too are named
    in its one alert instead of an alert each: one thing to act on, not an alert per intent."""
    overall = {a.metric: a for a in alerts if a.metric in metrics and a.intent is None}
    folded: dict[str, list[Alert]] = {}
    kept = []
    for alert in alerts:
        if alert.intent is not None and alert.metric in overall:
            folded.setdefault(alert.metric, []).append(alert)
        else:
            kept.append(alert)
    out = []
    for alert in kept:
        intents = sorted(folded.get(alert.metric, []) if alert.intent is None else [],
                         key=lambda a: -(a.observed or 0.0))  # fmt: skip
        if intents:
            worst = ", ".join(f"{a.intent} {a.observed or 0.0:+.0%}" for a in intents[:3])
            alert = replace(alert, message=f"{alert.message}; worst intents: {worst}")
        out.append(alert)
    return out


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.4g}"
