"""Reports of a monitor run: the JSON report dict, terminal (rich), Markdown and HTML.

The human ones say the same things in the same order: the verdict, the alerts, the per-intent
table (reference -> current for every figure), then drift, the classifier and malformed lines.
"""

from __future__ import annotations

import html
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from canary_eval.monitor.aggregate import SegmentFigures
from canary_eval.monitor.ops import OpsFigures
from canary_eval.monitor.run import MonitorResult
from canary_eval.monitor.signals import SignalFigures
from canary_eval.reports.schemas import REPORT_SCHEMA_VERSION
from canary_eval.verdict.incidents import Incident, incident_dict, monitor_incident

if TYPE_CHECKING:
    from rich.console import Console

HEADERS = (
    "intent",
    "traffic",
    "canary",
    "calls",
    "p95 ms",
    "errors",
    "cost/task",
    "thumbs-down",
    "accepted",
    "escalated",
    "CSAT",
    "uncovered",
)

TERMINAL_TABLES = (
    ("operations", (0, 1, 2, 3, 4, 5, 6)),
    ("user signals and coverage", (0, 7, 8, 9, 10, 11)),
)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _usd(value: float | None) -> str:
    return "-" if value is None else f"${value:.3g}"


def _pair(ref: str, cur: str) -> str:
    return cur if ref == cur else f"{ref} -> {cur}"


def _row(s: SegmentFigures) -> list[str]:
    ro, co, rs, cs = s.ops_reference, s.ops_current, s.signals_reference, s.signals_current
    return [
        s.intent if s.intent is not None else "(all)",
        _pct(s.traffic_share),
        _pct(s.canary_share),
        f"{co.calls:,}",
        _pair(_num(ro.latency_p95_ms), _num(co.latency_p95_ms)),
        _pair(_pct(ro.error_rate), _pct(co.error_rate)),
        _pair(_usd(ro.cost_per_task_usd), _usd(co.cost_per_task_usd)),
        _pair(_pct(rs.thumbs_down.rate), _pct(cs.thumbs_down.rate)),
        _pair(_pct(rs.acceptance.rate), _pct(cs.acceptance.rate)),
        _pair(_pct(rs.escalation.rate), _pct(cs.escalation.rate)),
        _pair(_num(rs.csat_mean, 2), _num(cs.csat_mean, 2)),
        _pct(s.uncovered_share),
    ]


def rows(result: MonitorResult) -> list[list[str]]:
    """The per-intent table, overall first."""
    return [_row(result.overall), *(_row(s) for s in result.intents)]


def summary_lines(result: MonitorResult) -> list[str]:
    """Drift, classifier and malformed-line figures, one sentence each."""
    lines = []
    drift = result.drift
    if drift.domain is not None:
        d = drift.domain
        lines.append(
            f"Domain classifier AUC {d.auc:.3f} (permutation null quantile "
            f"{d.null_quantile:.3f}, p={d.p_value:.3g}, {d.n_current} inputs a side)"
        )
    if drift.intent_mix is not None:
        m = drift.intent_mix
        lines.append(f"Intent mix PSI {m.psi:.3f} (chi-square p={m.p_value:.3g})")
    if drift.length is not None:
        n = drift.length
        lines.append(
            f"Input length KS {n.ks:.3f} (p={n.p_value:.3g}), mean {n.reference_mean:.0f} -> "
            f"{n.current_mean:.0f} characters"
        )
    if drift.coverage is not None:
        c = drift.coverage
        terms = f"; top terms of uncovered inputs: {', '.join(c.top_terms)}" if c.top_terms else ""
        lines.append(
            f"Uncovered by the canary set (cosine < {c.floor:g}): {c.uncovered_share:.1%} of "
            f"{c.sampled} sampled current inputs (reference {_pct(c.reference_uncovered_share)})"
            f"{terms}"
        )
    k = result.classifier
    if k.trained:
        accuracy = "n/a" if k.cv_accuracy is None else f"{k.cv_accuracy:.1%}"
        lines.append(
            f"Intent classifier: {k.examples} examples, {len(k.labels)} intents, "
            f"cross-validated accuracy {accuracy}; tagged {k.tagged:,} records, "
            f"{k.other:,} as other"
        )
    else:
        lines.append("Intent classifier: not trained (fewer than two labelled intents)")
    change = result.model_change
    if change is not None:
        ran = ""
        if change.canary is not None:
            ran = f"; canary {change.canary.suite}: exit {change.canary.exit_code}"
        lines.append(f"Model changed at {change.at}: {change.before} -> {change.after}{ran}")
    units = ", ".join(
        f"{stream} {'/'.join(sorted(u))}" for stream, u in (result.time_units or {}).items() if u
    )
    if units:
        lines.append(f"Times read as: {units} (engine {result.engine})")
    if result.budget is not None:
        b = result.budget
        lines.append(
            f"Error budget of the pass: alpha {b.alpha:.3g} ({b.source}); expected false alerts "
            f"in 30 days of {b.passes_per_month:.0f} passes: at most {b.false_alerts_per_month:.3g}"
        )
    mf = result.malformed
    lines.append(
        f"Malformed: {mf.calls_malformed:,} of {mf.calls_read:,} call records, "
        f"{mf.feedback_malformed:,} of {mf.feedback_read:,} feedback events"
    )
    lines += [f"  {m.path}:{m.line}: {m.reason}" for m in mf.examples[:5]]
    return lines


def _headline(result: MonitorResult) -> str:
    w = result.windows
    return (
        f"{result.name}: {result.verdict.upper()} (exit {result.exit_code}); current window "
        f"{w.current_start} to {w.end}, reference from {w.reference_start}"
    )


def render_terminal(result: MonitorResult, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    style = "bold green" if result.verdict == "pass" else "bold red"
    console.print(_headline(result), style=style, markup=False, highlight=False)
    for a in result.alerts:
        text = Text(f"{a.severity:>8} ", style="red" if a.failing else "yellow")
        text.append(f"[{a.layer}] {a.message}", style="default")
        console.print(text, highlight=False)
    if not result.alerts:
        console.print("no alerts")
    # Two narrower tables rather than one wide one: they fit an 80-column cron log.
    for title, columns in TERMINAL_TABLES:
        table = Table(title=f"{title} per intent (reference -> current)")
        for i in columns:
            table.add_column(HEADERS[i], justify="left" if i == 0 else "right")
        for row in rows(result):
            table.add_row(*(row[i] for i in columns))
        console.print(table)
    for line in summary_lines(result):
        console.print(line, markup=False, highlight=False)


def render_markdown(result: MonitorResult) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    out = [f"# canary monitor: {result.name}", "", f"**{_headline(result)}**", "", "## Alerts", ""]
    out += [f"- **{a.severity}** `{a.layer}` {cell(a.message)}" for a in result.alerts] or [
        "No alerts."
    ]
    out += ["", "## Per intent (reference -> current)", ""]
    out.append("| " + " | ".join(HEADERS) + " |")
    out.append("|" + "---|" * len(HEADERS))
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows(result)]
    out += ["", "## Drift, classifier and logs", ""]
    out += [f"- {cell(line.strip())}" for line in summary_lines(result)]
    return "\n".join(out) + "\n"


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
    "table{border-collapse:collapse;font-size:.9rem}"
    "th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}"
    "th:first-child,td:first-child{text-align:left}"
    ".pass{color:#1a7f37}.regression{color:#c0392b}.warning{color:#b7791f}.critical{color:#c0392b}"
)


def render_html(result: MonitorResult) -> str:
    e = html.escape
    alerts = "".join(
        f'<li class="{e(a.severity)}"><b>{e(a.severity)}</b> [{e(a.layer)}] {e(a.message)}</li>'
        for a in result.alerts
    )
    head = "".join(f"<th>{e(h)}</th>" for h in HEADERS)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows(result)
    )
    notes = "".join(f"<li>{e(line.strip())}</li>" for line in summary_lines(result))
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>canary monitor: {e(result.name)}</title><style>{_CSS}</style></head><body>"
        f"<h1>canary monitor: {e(result.name)}</h1>"
        f'<p class="{e(result.verdict)}"><b>{e(_headline(result))}</b></p>'
        f"<h2>Alerts</h2><ul>{alerts or '<li>No alerts.</li>'}</ul>"
        f"<h2>Per intent (reference &rarr; current)</h2><table><tr>{head}</tr>{body}</table>"
        f"<h2>Drift, classifier and logs</h2><ul>{notes}</ul>"
        "</body></html>\n"
    )


def monitor_report_dict(result: MonitorResult) -> dict[str, Any]:
    """The JSON report: verdict, exit_code, alerts, ops, signals, intents, drift, malformed,
    classifier, windows and models."""
    domain = result.drift.domain
    drift: dict[str, Any] = {
        "domain_classifier": None
        if domain is None
        else {
            "auc": domain.auc,
            "null_quantile": domain.null_quantile,
            "p_value": domain.p_value,
            "n_reference": domain.n_reference,
            "n_current": domain.n_current,
        },
        "intent_mix": _plain(result.drift.intent_mix),
        "input_length": _plain(result.drift.length),
        "coverage": _plain(result.drift.coverage),
    }
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "name": result.name,
        "verdict": result.verdict,
        "exit_code": result.exit_code,
        "windows": asdict(result.windows),
        "alerts": [
            {
                "layer": a.layer,
                "metric": a.metric,
                "intent": a.intent,
                "severity": a.severity,
                "failing": a.failing,
                "observed": a.observed,
                "allowed": a.allowed,
                "message": a.message,
            }
            for a in result.alerts
        ],
        "incident": incident_dict(pass_incident(result)),
        "budget": None if result.budget is None else asdict(result.budget),
        "ops": _ops(result.overall),
        "signals": _signals(result.overall),
        "intents": [
            {
                "intent": s.intent,
                "traffic_share": s.traffic_share,
                "canary_share": s.canary_share,
                "uncovered_share": s.uncovered_share,
                "regressed": any(a.failing and a.intent == s.intent for a in result.alerts),
                "ops": _ops(s),
                "signals": _signals(s),
            }
            for s in result.intents
        ],
        "drift": drift,
        "malformed": {
            "calls_read": result.malformed.calls_read,
            "calls_malformed": result.malformed.calls_malformed,
            "feedback_read": result.malformed.feedback_read,
            "feedback_malformed": result.malformed.feedback_malformed,
            "max_share": result.malformed.max_share,
            "examples": [asdict(m) for m in result.malformed.examples],
        },
        "classifier": asdict(result.classifier),
        "model_versions": dict(result.models),
        "model_change": _model_change(result),
        "engine": result.engine,
        "time_units": dict(result.time_units or {}),
    }


def _model_change(result: MonitorResult) -> dict[str, Any] | None:
    """When the served model changed: when, from what to what, every figure before and after,
    and the canary run it started."""
    change = result.model_change
    if change is None:
        return None

    def split(s: SegmentFigures) -> dict[str, Any]:
        ops, signals = _ops(s), _signals(s)
        return {
            "intent": s.intent,
            "ops": {"before": ops["reference"], "after": ops["current"]},
            "signals": {"before": signals["reference"], "after": signals["current"]},
        }

    return {
        "at": change.at,
        "from": change.before,
        "to": change.after,
        "overall": split(change.segments[0]),
        "intents": [split(s) for s in change.segments[1:]],
        "canary": asdict(change.canary) if change.canary else None,
    }


def monitor_report_json(result: MonitorResult) -> str:
    """The JSON report as text: NaN and infinity written as null, so every JSON parser reads it."""
    import json

    from canary_eval.reports.json import finite_json

    report = finite_json(monitor_report_dict(result))
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _ops(segment: SegmentFigures) -> dict[str, Any]:
    def one(f: OpsFigures) -> dict[str, Any]:
        return {
            **asdict(f),
            "error_rate": f.error_rate,
            "rate_limited_rate": f.rate_limited_rate,
            "fallback_rate": f.fallback_rate,
        }

    return {"current": one(segment.ops_current), "reference": one(segment.ops_reference)}


def _signals(segment: SegmentFigures) -> dict[str, Any]:
    def one(f: SignalFigures) -> dict[str, Any]:
        out: dict[str, Any] = {"tasks": f.tasks}
        for name in ("acceptance", "edit", "escalation", "thumbs_down"):
            p = getattr(f, name)
            out[f"{name}_rate"] = {
                "rate": p.rate,
                "successes": p.successes,
                "n": p.n,
                "low": p.low,
                "high": p.high,
            }
        out["csat"] = {"mean": f.csat_mean, "n": f.csat_n}
        return out

    return {"current": one(segment.signals_current), "reference": one(segment.signals_reference)}


def _plain(value: Any) -> Any:
    if value is None:
        return None
    out = asdict(value)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def pass_incident(result: MonitorResult) -> Incident | None:
    """The pass's alerts as one incident (canary_eval.verdict.incidents)."""
    change = result.model_change
    moved = None if change is None else (change.before, change.after, change.at)
    return monitor_incident(result.name, result.alerts, moved)
