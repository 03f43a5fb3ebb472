"""The JUnit XML report, the format CI systems read: one testcase per gate and per intent.

Each breached (failing) alert is exactly one `<failure>` carrying the observed and allowed
values; a blown error budget is one of them. Gates that are configured but held,
and alerts that only inform (a suspect drop, a changed model), are passing testcases whose
`<system-out>` says what was seen. Every testcase carries `observed` and `allowed` properties.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from canary_eval.models import Alert
from canary_eval.store.baseline import write_atomic
from canary_eval.suite.config import Thresholds
from canary_eval.verdict.compare import Comparison

# XML 1.0 cannot carry most control characters, and model output may hold any of them.
_OFF = "not configured"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class _Gate:
    layer: str
    metric: str
    name: str
    observed: float | str | None
    allowed: float | str | None
    intent: str | None = None

    def claims(self, alert: Alert) -> bool:
        return (alert.layer, alert.metric, alert.intent) == (self.layer, self.metric, self.intent)


def write_junit(comparison: Comparison, path: Path, thresholds: Thresholds | None = None) -> None:
    """Write the JUnit report. `thresholds` adds testcases for configured gates that held."""
    write_atomic(path, junit_xml(comparison, thresholds))


def junit_xml(comparison: Comparison, thresholds: Thresholds | None = None) -> str:
    c = comparison
    limits = thresholds or Thresholds()
    suite = ET.Element(
        "testsuite", name=f"canary.{_clean(c.suite)}", timestamp=_clean(c.run.info.created_at)
    )
    claimed: set[int] = set()
    failures = 0
    for gate in _gates(c, limits):
        alerts = [a for a in c.alerts if gate.claims(a)]
        claimed.update(id(a) for a in alerts)
        failures += _testcase(suite, c.suite, gate, alerts)
    for alert in c.alerts:
        if id(alert) not in claimed:  # a layer this report has no gate row for (drift, ...)
            name = " ".join(p for p in (alert.layer, alert.intent, alert.metric) if p)
            gate = _Gate(
                alert.layer, alert.metric, name, alert.observed, alert.allowed, alert.intent
            )
            failures += _testcase(suite, c.suite, gate, [alert])
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    root = ET.Element(
        "testsuites",
        name="canary",
        tests=suite.get("tests", "0"),
        failures=str(failures),
        errors="0",
    )
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _gates(c: Comparison, t: Thresholds) -> list[_Gate]:
    q, b, bb, o, ob = c.quality, c.behaviour, c.baseline_behaviour, c.ops, c.baseline_ops
    gates = [_Gate("quality", "score", "quality score", q.relative_drop, t.max_relative_drop)]
    for row in c.intents:
        allowed = t.per_intent.max_relative_drop if row.tested else None
        gates.append(
            _Gate("intent", "score", f"intent {row.intent}", row.relative_drop, allowed, row.intent)
        )
    optional = (
        (
            "behaviour",
            "output_length",
            "output length increase",
            _relative(b.mean_chars, bb.mean_chars),
            t.max_length_increase,
        ),
        (
            "behaviour",
            "refusal_rate",
            "refusal rate increase",
            b.refusal_rate - bb.refusal_rate,
            t.max_refusal_rate_increase,
        ),
        (
            "behaviour",
            "hedging_rate",
            "hedging rate increase",
            b.hedging_rate - bb.hedging_rate,
            t.max_hedging_rate_increase,
        ),
        (
            "ops",
            "latency_p95_ms",
            "p95 latency increase",
            _relative(o.latency_p95_ms, ob.latency_p95_ms),
            t.max_p95_latency_increase,
        ),
        (
            "ops",
            "cost_per_case_usd",
            "cost per case increase",
            _relative(o.cost_per_case_usd, ob.cost_per_case_usd),
            t.max_cost_per_case_increase,
        ),
        (
            "ops",
            "error_rate",
            "error rate increase",
            o.error_rate - ob.error_rate,
            t.max_error_rate_increase,
        ),
    )
    for layer, metric, name, observed, allowed in optional:
        if allowed is not None or any((a.layer, a.metric) == (layer, metric) for a in c.alerts):
            gates.append(_Gate(layer, metric, name, observed, allowed))
    gates.append(
        _Gate(
            "model",
            "served_model",
            "served model unchanged",
            c.served_model or "unknown",
            c.baseline_model or "unknown",
        )
    )
    gates.append(_Gate("ops", "error_budget", "error budget", o.error_rate, t.max_error_rate))
    return gates


def _testcase(parent: ET.Element, suite: str, gate: _Gate, alerts: list[Alert]) -> int:
    case = ET.SubElement(
        parent,
        "testcase",
        classname=f"canary.{_clean(suite)}.{gate.layer}",
        name=_clean(gate.name),
        time="0",
    )
    _properties(case, gate.observed, gate.allowed)
    failing = [a for a in alerts if a.failing]
    for alert in failing:
        observed = alert.observed if alert.observed is not None else gate.observed
        allowed = alert.allowed if alert.allowed is not None else gate.allowed
        failure = ET.SubElement(
            case, "failure", type=f"{alert.layer}.{alert.metric}", message=_clean(alert.message)
        )
        failure.text = _clean(
            f"{alert.message}\nobserved: {_fmt(observed)}\nallowed: {_fmt(allowed, _OFF)}\n"
            f"severity: {alert.severity}"
        )
    informing = [a for a in alerts if not a.failing]
    if informing:
        out = ET.SubElement(case, "system-out")
        out.text = _clean("\n".join(f"{a.severity}: {a.message}" for a in informing))
    return len(failing)


def _properties(
    case: ET.Element, observed: float | str | None, allowed: float | str | None
) -> None:
    props = ET.SubElement(case, "properties")
    ET.SubElement(props, "property", name="observed", value=_clean(_fmt(observed)))
    ET.SubElement(props, "property", name="allowed", value=_clean(_fmt(allowed, _OFF)))


def _relative(value: float, base: float) -> float | None:
    return value / base - 1 if base else None


def _fmt(value: float | str | None, missing: str = "n/a") -> str:
    if value is None:
        return missing
    if isinstance(value, str):
        return value
    return "nan" if math.isnan(value) else f"{value:.6g}"


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
