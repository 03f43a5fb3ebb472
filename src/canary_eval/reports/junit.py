"""The JUnit XML report, the format CI systems read: one testcase per gate and per intent.

It validates against Jenkins xunit's `junit-10.xsd` and carries what dorny/test-reporter and
GitLab's parser read: suite and testcase `time` (seconds, three decimals), a `timestamp` without
a zone offset (UTC), `hostname`, `id` and `package`. Each breached (failing) alert is exactly one
`<failure>` with the observed and allowed values. A run that could not be evaluated (a blown error
budget, exit 3) is an `<error>`, not a failure: nothing was measured that could fail. Gates that
held, and alerts that only inform (a suspect drop, a changed model), are passing testcases.
The schema allows `<properties>` only on the suite, so the run's facts go there and each
testcase's observed and allowed values go in its `<system-out>`.

Times: the suite's is the run's wall time; the quality gate's is the same (it is what ran the
cases); an intent's is the summed call latency of its cases; gates derived from those calls
(behaviour, operations, the served model) took no time of their own.
"""

from __future__ import annotations

import math
import re
import socket
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from canary_eval.models import Alert
from canary_eval.reports.destination import write_text
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
    seconds: float = 0.0

    def claims(self, alert: Alert) -> bool:
        return (alert.layer, alert.metric, alert.intent) == (self.layer, self.metric, self.intent)


def write_junit(comparison: Comparison, path: Path, thresholds: Thresholds | None = None) -> None:
    """Write the JUnit report. `thresholds` adds testcases for configured gates that held."""
    write_text(path, junit_xml(comparison, thresholds))


def junit_xml(comparison: Comparison, thresholds: Thresholds | None = None) -> str:
    c = comparison
    limits = thresholds or Thresholds()
    duration = _run_seconds(c)
    suite = ET.Element(
        "testsuite",
        name=f"canary.{_clean(c.suite)}",
        timestamp=_started(c.run.info.created_at, duration),
        hostname=_clean(socket.gethostname() or "localhost"),
        id="0",
        package=f"canary.{_clean(c.suite)}",
    )
    _suite_properties(suite, c)
    claimed: set[int] = set()
    counts = {"failure": 0, "error": 0}
    for gate in _gates(c, limits):
        alerts = [a for a in c.alerts if gate.claims(a)]
        claimed.update(id(a) for a in alerts)
        _testcase(suite, c.suite, gate, alerts, counts)
    for alert in c.alerts:
        if id(alert) not in claimed:  # a layer this report has no gate row for (drift, ...)
            name = " ".join(p for p in (alert.layer, alert.intent, alert.metric) if p)
            gate = _Gate(
                alert.layer, alert.metric, name, alert.observed, alert.allowed, alert.intent
            )
            _testcase(suite, c.suite, gate, [alert], counts)
    tests = str(len(suite.findall("testcase")))
    time = _seconds(duration)
    failures, errors = str(counts["failure"]), str(counts["error"])
    for key, value in (("tests", tests), ("failures", failures), ("errors", errors)):
        suite.set(key, value)
    suite.set("skipped", "0")
    suite.set("time", time)
    root = ET.Element(
        "testsuites", name="canary", time=time, tests=tests, failures=failures, errors=errors
    )
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _suite_properties(suite: ET.Element, c: Comparison) -> None:
    props = ET.SubElement(suite, "properties")
    facts = {
        "verdict": c.verdict,
        "exit_code": str(c.exit_code),
        "served_model": c.served_model or "unknown",
        "baseline_model": c.baseline_model or "unknown",
        "provider": c.run.info.provider,
        "model": c.run.info.model,
        "cases": str(len(c.run.cases)),
        **{f"set.{key}": value for key, value in c.run.info.overrides.items()},
        # the honest limits: intents that cannot page (reliably), drops this run cannot see
        **{f"note.{i}": note for i, note in enumerate(c.notes, start=1)},
    }
    for name, value in facts.items():
        ET.SubElement(props, "property", name=_clean(name), value=_clean(value))


def _run_seconds(c: Comparison) -> float:
    """The run's wall time; a saved run from before it was measured: its summed call latency."""
    return c.run.info.duration_s or sum(case.latency_ms for case in c.run.cases) / 1000


def _started(created_at: str, duration: float) -> str:
    """JUnit's timestamp: when the run started, in UTC, with no zone offset (xs:dateTime as the
    common JUnit schema restricts it)."""
    try:
        end = datetime.fromisoformat(created_at)
    except ValueError:
        end = datetime.now(UTC)
    if end.tzinfo is not None:
        end = end.astimezone(UTC).replace(tzinfo=None)
    return (end - timedelta(seconds=duration)).isoformat(timespec="seconds")


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}" if math.isfinite(value) else "0.000"


def _gates(c: Comparison, t: Thresholds) -> list[_Gate]:
    q, b, bb, o, ob = c.quality, c.behaviour, c.baseline_behaviour, c.ops, c.baseline_ops
    run_s = _run_seconds(c)
    gates = [
        _Gate(
            "quality", "score", "quality score", q.relative_drop, t.max_relative_drop, None, run_s
        )
    ]
    latency: dict[str | None, float] = {}
    for case in c.run.cases:
        latency[case.intent] = latency.get(case.intent, 0.0) + case.latency_ms / 1000
    for row in c.intents:
        allowed = t.per_intent.max_relative_drop if row.tested else None
        name = f"intent {row.intent}"
        seconds = latency.get(row.intent, 0.0)
        gates.append(
            _Gate("intent", "score", name, row.relative_drop, allowed, row.intent, seconds)
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


def _testcase(
    parent: ET.Element, suite: str, gate: _Gate, alerts: list[Alert], counts: dict[str, int]
) -> None:
    case = ET.SubElement(
        parent,
        "testcase",
        classname=f"canary.{_clean(suite)}.{gate.layer}",
        name=_clean(gate.name),
        time=_seconds(gate.seconds),
    )
    for alert in (a for a in alerts if a.failing):
        observed = alert.observed if alert.observed is not None else gate.observed
        allowed = alert.allowed if alert.allowed is not None else gate.allowed
        # A blown error budget means the run measured too little to judge: an error, not a fail.
        kind = "error" if alert.metric == "error_budget" else "failure"
        counts[kind] += 1
        element = ET.SubElement(
            case, kind, type=f"{alert.layer}.{alert.metric}", message=_clean(alert.message)
        )
        element.text = _clean(
            f"{alert.message}\nobserved: {_fmt(observed)}\nallowed: {_fmt(allowed, _OFF)}\n"
            f"severity: {alert.severity}"
        )
    lines = [f"observed: {_fmt(gate.observed)}", f"allowed: {_fmt(gate.allowed, _OFF)}"]
    lines += [f"{a.severity}: {a.message}" for a in alerts if not a.failing]
    out = ET.SubElement(case, "system-out")
    out.text = _clean("\n".join(lines))


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
