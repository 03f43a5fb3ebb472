"""The decision of one monitor pass: every gate's test draws on one family-wise error budget.

Tested one family at a time, each at its own 5 %, the gates of a pass (four signals and three
ops shares per intent, CSAT, five drift tests) raised a false alert on 5 % of passes over
unchanged logs at 3,000 calls a day and 14 % at 500: at an hourly cadence, a false alert every
day. Here the tests of every layer, metric and intent are Holm-corrected together at the pass's
`thresholds.alpha`, so a pass over unchanged traffic alerts falsely with probability at most
`alpha`; a layer (or the domain classifier, `auc_alpha`) given an `alpha` of its own is decided
at that level instead, outside the shared budget. The relative gates (p95 latency, cost and
tokens per task) carry no test: their thresholds, floors and minimum counts keep them far from
noise, which `bench/bench_alerting_monitor.py` measures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from canary_eval.models import Alert
from canary_eval.monitor.config import GATES, MonitorConfig
from canary_eval.monitor.drift import DriftFigures, drift_tests
from canary_eval.monitor.gates import GateTest, decide
from canary_eval.monitor.ops import OpsFigures, ops_gates
from canary_eval.monitor.signals import SignalFigures, signal_tests

OpsPair = tuple[str | None, OpsFigures, OpsFigures]  # (intent, reference, current)
SignalPair = tuple[str | None, SignalFigures, SignalFigures]
_LAYERS = ("ops", "signals", "drift")


def pass_alerts(
    config: MonitorConfig,
    ops: Sequence[OpsPair],
    signals: Sequence[SignalPair],
    drift: DriftFigures,
    traffic: Mapping[str, int],
) -> tuple[Alert, ...]:
    """Every alert of one pass, ops first, then signals, then drift, each with its gate and the
    severity the config gives it; `traffic` is calls per intent in the current window."""
    tested, untested = ops_gates(ops, config.ops)
    tests = [
        *tested,
        *signal_tests(signals, config.signals),
        *drift_tests(drift, traffic, config.drift),
    ]
    alerts = []
    for alert in (*decide_budget(tests, config.alpha), *untested):
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
