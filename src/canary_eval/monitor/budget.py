"""The decision of one monitor pass: every gate's test draws on one family-wise error budget.

Tested one family at a time, each at its own 5 %, the gates of a pass (four signals and three
ops shares per intent, CSAT, five drift tests) raised a false alert on 5 % of passes over
unchanged logs at 3,000 calls a day and 14 % at 500: at an hourly cadence, a false alert every
day. Here the tests of every layer, metric and intent, the relative ops gates (p95 latency, cost
and tokens per task) included, are Holm-corrected together at the pass's `alpha`, so a pass over
unchanged traffic alerts falsely with probability at most `alpha`. That budget derives from the
false alerts a month the config accepts (`alerting.false_alerts_per_month` over the passes a
month at `alerting.cadence`), unless `thresholds.alpha` sets it; a layer (or the domain
classifier, `auc_alpha`) given an `alpha` of its own is decided at that level instead, outside
the shared budget. `bench/bench_alerting_monitor.py` measures the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from canary_eval.models import Alert
from canary_eval.monitor.config import GATES, MONTH, MonitorConfig
from canary_eval.monitor.drift import DriftFigures, drift_tests
from canary_eval.monitor.gates import GateTest, decide, fold_intents
from canary_eval.monitor.ops import RELATIVE, OpsFigures, ops_gates
from canary_eval.monitor.signals import SignalFigures, signal_tests

OpsPair = tuple[str | None, OpsFigures, OpsFigures]  # (intent, reference, current)
SignalPair = tuple[str | None, SignalFigures, SignalFigures]
_LAYERS = ("ops", "signals", "drift")


@dataclass(frozen=True)
class PassBudget:
    """The pass's family-wise error budget and where it came from, for the reports."""

    alpha: float
    source: str  # "thresholds.alpha" or "alerting.false_alerts_per_month"
    false_alerts_per_month: float  # the bound alpha gives over 30 days of passes
    passes_per_month: float

    @classmethod
    def of(cls, config: MonitorConfig) -> PassBudget:
        passes = max(MONTH / config.cadence, 1.0)
        return cls(config.alpha, config.alpha_source, config.alpha * passes, passes)


def pass_alerts(
    config: MonitorConfig,
    ops: Sequence[OpsPair],
    signals: Sequence[SignalPair],
    drift: DriftFigures,
    traffic: Mapping[str, int],
) -> tuple[Alert, ...]:
    """Every alert of one pass, ops first, then signals, then drift, each with its gate and the
    severity the config gives it; `traffic` is calls per intent in the current window."""
    tests = [
        *ops_gates(ops, config.ops),
        *signal_tests(signals, config.signals),
        *drift_tests(drift, traffic, config.drift),
    ]
    alerts = []
    for alert in fold_intents(decide_budget(tests, config.alpha), RELATIVE):
        layer, gate = GATES[alert.metric]
        alerts.append(replace(alert, gate=gate, severity=config.severity_of(gate, layer)))
    return tuple(sorted(alerts, key=lambda a: _LAYERS.index(a.layer)))


def decide_budget(tests: Sequence[GateTest], alpha: float) -> list[Alert]:
    """Holm over the tests that share the pass's budget `alpha`; a test with a level of its own
    is Holm-corrected with the others at that level."""
    families: dict[float | None, list[GateTest]] = {}
    for test in tests:
        families.setdefault(test.alpha, []).append(test)
    alerts: list[Alert] = []
    for own, family in families.items():
        alerts += decide(family, alpha if own is None else own)
    return alerts
