"""Gates shared by the ops and signals layers: a change past its threshold becomes an Alert.

A rate gate breaches when the absolute change of a share exceeds its threshold and a one-sided
two-proportion test says the change is real (Holm-corrected across intents; the overall figure
is its own family). Past the threshold but not significant is noise at this sample size: the
figure is in the report, but it raises no alert (nobody should be paged for it). A relative
gate compares current / reference - 1 with its threshold once both windows have enough data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from canary_eval.models import Alert, Layer
from canary_eval.stats import holm, two_proportion_test


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
    intent: str | None
    reference: float | None
    current: float | None
    n_ref: int
    n_cur: int


def where(intent: str | None) -> str:
    return f"intent {intent}: " if intent is not None else ""


def rate_alerts(
    layer: Layer,
    metric: str,
    label: str,
    changes: Sequence[RateChange],
    *,
    max_change: float | None,
    alpha: float,
    min_n: int,
    drop: bool = False,
) -> list[Alert]:
    """Alerts for a share that may rise by at most `max_change` (or fall, with `drop`)."""
    if max_change is None:
        return []
    tested = [c for c in changes if c.n_ref >= min_n and c.n_cur >= min_n]
    alternative = "less" if drop else "greater"
    raw = [
        two_proportion_test(c.x_ref, c.n_ref, c.x_cur, c.n_cur, alternative=alternative)
        for c in tested
    ]
    per_intent = [i for i, c in enumerate(tested) if c.intent is not None]
    adjusted = list(raw)
    for i, p in zip(per_intent, holm([raw[i] for i in per_intent]), strict=True):
        adjusted[i] = p
    alerts = []
    for change, p in zip(tested, adjusted, strict=True):
        delta = change.reference - change.current if drop else change.current - change.reference
        if delta <= max_change or p >= alpha:
            continue
        verb = "fell" if drop else "rose"
        points = (change.current - change.reference) * 100
        message = (
            f"{where(change.intent)}{label} {verb} from {change.reference:.1%} to "
            f"{change.current:.1%} ({points:+.1f} points, allowed {max_change * 100:.1f}; "
            f"p={p:.3g})"
        )
        alerts.append(
            Alert(
                layer=layer,
                metric=metric,
                message=message,
                intent=change.intent,
                observed=round(delta, 6),
                allowed=max_change,
            )
        )
    return alerts


def relative_alerts(
    layer: Layer,
    metric: str,
    label: str,
    changes: Sequence[ValueChange],
    *,
    max_increase: float | None,
    min_n: int,
    unit: str = "",
) -> list[Alert]:
    """Alerts for a figure that may grow by at most `max_increase` relative to the reference."""
    if max_increase is None:
        return []
    alerts = []
    for change in changes:
        ref, cur = change.reference, change.current
        if ref is None or cur is None or ref <= 0 or min(change.n_ref, change.n_cur) < min_n:
            continue
        growth = cur / ref - 1.0
        if growth <= max_increase:
            continue
        alerts.append(
            Alert(
                layer=layer,
                metric=metric,
                message=(
                    f"{where(change.intent)}{label} {_fmt(cur)}{unit} vs {_fmt(ref)}{unit} in "
                    f"the reference window ({growth:+.0%}, allowed +{max_increase:.0%})"
                ),
                intent=change.intent,
                observed=round(growth, 6),
                allowed=max_increase,
            )
        )
    return alerts


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.4g}"
