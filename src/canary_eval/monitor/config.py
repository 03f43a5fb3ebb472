"""MONITOR.yaml: where the production logs are, how their fields map, windows and gates.

```yaml
name: support-bot
calls: logs/calls-*.jsonl          # glob(s) relative to this file; "-" is stdin; with
                                   #   engine: spark, table:db.llm_calls names a table
format: otlp                       # canonical | parquet | otlp | langfuse | litellm | helicone
status_values: {FAILURE: error}    # source status values -> ok | error | rate_limited
units: {latency: s}                # of a logged latency field: ms (default), s, us, ns
task_key: session.id               # OTLP: attribute grouping spans into tasks (default:
                                   #   gen_ai.conversation.id, else the trace id)
engine: duckdb                     # or spark (pip install 'canary-eval[spark]')
spark: {master: "local[2]", conf: {spark.executor.memory: 4g}}
on_model_change: {run: ../configs/support-bot.yaml, timeout_s: 1800}
feedback: logs/feedback-*.jsonl    # optional
fields: {ts: timestamp, task_id: conversation.id}   # canonical -> source; dotted paths nest
feedback_fields: {ts: created_at}  # optional overrides of `fields` for the feedback stream
window: 24h                        # current window, ending at the newest record or --until
reference: 7d                      # the reference window just before it
pricing: {input_per_mtok: 0.15, output_per_mtok: 0.60}   # for records without cost_usd
evalset: ../evalsets/support-bot.yaml   # intents for the classifier, cases for coverage
intents: {extra_examples: [intents.jsonl], min_confidence: 0.5}
max_malformed_share: 0.01          # above it the run stops with exit 2
seed: 0                            # sampling and drift tests are seeded
sample_size: 5000                  # texts kept per window for drift
thresholds:                        # every gate is on by default, with these values
  alpha: 0.001                     # optional: the pass's error budget, overriding the one
                                   #   alerting.false_alerts_per_month derives
  ops:      {max_p95_latency_increase: 0.5, min_p95_latency_increase_ms: 250,
             max_error_rate_increase: 0.02, max_rate_limited_increase: 0.05,
             max_fallback_increase: 0.05, max_cost_per_task_increase: 0.2,
             max_tokens_per_task_increase: 0.25, min_calls: 100}
  signals:  {max_thumbs_down_rate_increase: 0.05, max_escalation_rate_increase: 0.03,
             max_acceptance_rate_drop: 0.05, max_edit_rate_increase: 0.05, max_csat_drop: 0.3,
             min_tasks: 50}
  drift:    {min_auc: 0.55, max_psi: 0.2, max_length_ks: 0.1, max_uncovered_share: 0.1,
             coverage_floor: 0.25, overrepresented_ratio: 3.0, min_share: 0.02}
alerting:
  severity: {max_thumbs_down_rate_increase: page, drift: info}   # default: every gate warns
  false_alerts_per_month: 1        # expected false alerts in 30 days of passes, at most
  cadence: 1h                      # how often the monitor runs (720 passes a month)
alerts: {slack: {webhook_url_env: SLACK_WEBHOOK_URL}}   # as a suite's; a pass is one incident
```

`null` turns a gate off. Relative gates (`*_latency_*`, `*_per_task_*`) compare current /
reference - 1 (p95 latency also needs a rise of `min_p95_latency_increase_ms`); rate gates are
absolute changes of a share (CSAT: of the mean score). Every gate breaches only when a one-sided
test is significant after Holm correction over every test of the pass (see monitor/budget.py);
a layer's own `alpha` (or `drift.auc_alpha` for the domain classifier) decides it apart from
that budget. The pass's budget is `thresholds.alpha` when the config sets it, else
`alerting.false_alerts_per_month` divided by the passes a month at `alerting.cadence` (1 / 720 =
0.0014 by default): over unchanged traffic the expected number of passes with a false alert in
30 days is then at most `false_alerts_per_month`. `min_calls` / `min_tasks` keep tiny intents
out of gates. Drift: the domain classifier alerts when its AUC is at least `min_auc` and beats
the permutation null; `max_psi` gates the intent mix and `max_length_ks` input lengths
(chi-square / KS tests); `max_uncovered_share` the share of current inputs whose nearest canary
case is below cosine `coverage_floor`; `overrepresented_ratio` the intents carrying at least
`min_share` of traffic and more than that many times their share of the canary set (both exact
binomial tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from canary_eval.errors import ConfigError
from canary_eval.models import Severity
from canary_eval.notify.config import AlertsConfig, parse_alerts_config
from canary_eval.redaction import register_config
from canary_eval.suite.document import Document, load_document, parse_duration
from canary_eval.suite.schemas import validate

CALL_FIELDS = (
    "ts",
    "task_id",
    "input",
    "output",
    "intent",
    "latency_ms",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "status",
    "fallback",
    "model",
)
FEEDBACK_FIELDS = ("ts", "task_id", "event", "value")
STDIN = "-"
TABLE = "table:"  # `calls: table:db.llm_calls` names a table of the Spark catalog
# Expected passes with a false alert in 30 days at most; the pass's error budget derives from it.
FALSE_ALERTS_PER_MONTH = 1.0
CADENCE = timedelta(hours=1)  # how often the monitor is expected to run
MONTH = timedelta(days=30)


def pass_alpha(false_alerts_per_month: float, cadence: timedelta) -> float:
    """The family-wise error budget of one pass that keeps the expected number of passes with a
    false alert in 30 days at `false_alerts_per_month` or below (a union bound over the passes,
    which holds however much consecutive passes' windows overlap)."""
    passes = max(MONTH / cadence, 1.0)
    return min(false_alerts_per_month / passes, 1.0)


PASS_ALPHA = pass_alpha(FALSE_ALERTS_PER_MONTH, CADENCE)
# The metric an alert carries -> the layer and the thresholds key (the gate) that raised it.
GATES: Mapping[str, tuple[str, str]] = {
    "latency_p95_ms": ("ops", "max_p95_latency_increase"),
    "error_rate": ("ops", "max_error_rate_increase"),
    "rate_limited_rate": ("ops", "max_rate_limited_increase"),
    "fallback_rate": ("ops", "max_fallback_increase"),
    "cost_per_task_usd": ("ops", "max_cost_per_task_increase"),
    "tokens_per_task": ("ops", "max_tokens_per_task_increase"),
    "thumbs_down_rate": ("signals", "max_thumbs_down_rate_increase"),
    "escalation_rate": ("signals", "max_escalation_rate_increase"),
    "acceptance_rate": ("signals", "max_acceptance_rate_drop"),
    "edit_rate": ("signals", "max_edit_rate_increase"),
    "csat": ("signals", "max_csat_drop"),
    "domain_auc": ("drift", "min_auc"),
    "intent_mix_psi": ("drift", "max_psi"),
    "input_length_ks": ("drift", "max_length_ks"),
    "uncovered_share": ("drift", "max_uncovered_share"),
    "intent_overrepresented": ("drift", "overrepresented_ratio"),
}


@dataclass(frozen=True)
class Pricing:
    input_per_mtok: float
    output_per_mtok: float


@dataclass(frozen=True)
class OpsThresholds:
    max_p95_latency_increase: float | None = 0.5
    max_error_rate_increase: float | None = 0.02
    max_rate_limited_increase: float | None = 0.05
    max_fallback_increase: float | None = 0.05
    max_cost_per_task_increase: float | None = 0.2
    max_tokens_per_task_increase: float | None = 0.25
    min_p95_latency_increase_ms: float = 250.0
    min_calls: int = 100
    alpha: float | None = None  # None: the tests draw on the pass's shared budget


@dataclass(frozen=True)
class SignalThresholds:
    max_thumbs_down_rate_increase: float | None = 0.05
    max_escalation_rate_increase: float | None = 0.03
    max_acceptance_rate_drop: float | None = 0.05
    max_edit_rate_increase: float | None = 0.05
    max_csat_drop: float | None = 0.3
    min_tasks: int = 50
    alpha: float | None = None


@dataclass(frozen=True)
class DriftThresholds:
    auc_alpha: float | None = None
    min_auc: float | None = 0.55
    max_psi: float | None = 0.2
    max_length_ks: float | None = 0.1
    max_uncovered_share: float | None = 0.1
    coverage_floor: float = 0.25
    overrepresented_ratio: float | None = 3.0
    min_share: float = 0.02
    alpha: float | None = None


@dataclass(frozen=True)
class MonitorConfig:
    """A validated monitor config; every path is resolved against the config file's folder."""

    path: Path
    name: str
    calls: tuple[str, ...]
    feedback: tuple[str, ...] = ()
    call_fields: Mapping[str, str] = field(default_factory=dict)
    feedback_fields: Mapping[str, str] = field(default_factory=dict)
    window: timedelta = timedelta(hours=24)
    reference: timedelta = timedelta(days=7)
    pricing: Pricing | None = None
    evalset: Path | None = None
    extra_examples: tuple[Path, ...] = ()
    min_confidence: float = 0.5
    max_malformed_share: float = 0.01
    seed: int = 0
    sample_size: int = 5000
    alpha: float = PASS_ALPHA  # the pass's budget in effect (see `alpha_source`)
    alpha_source: str = "alerting.false_alerts_per_month"  # or "thresholds.alpha"
    false_alerts_per_month: float = FALSE_ALERTS_PER_MONTH
    cadence: timedelta = CADENCE
    severity: Mapping[str, Severity] = field(default_factory=dict)  # gate or layer -> severity
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    ops: OpsThresholds = OpsThresholds()
    signals: SignalThresholds = SignalThresholds()
    drift: DriftThresholds = DriftThresholds()
    format: str | None = None
    feedback_format: str | None = None
    status_values: Mapping[str, str] = field(default_factory=dict)
    latency_unit: str = "ms"
    task_key: str | None = None
    engine: str = "duckdb"
    spark_master: str | None = None
    spark_conf: Mapping[str, str] = field(default_factory=dict)
    on_model_change: Path | None = None
    on_model_change_timeout_s: float = 1800.0

    def severity_of(self, gate: str, layer: str) -> Severity:
        """The gate's own setting, else its layer's, else `warn`: a monitor alert goes to chat
        and the reports, and pages (exit 1) only where `alerting.severity` says so."""
        return self.severity.get(gate) or self.severity.get(layer) or "warn"


def load_monitor_config(path: Path) -> MonitorConfig:
    """Read, validate and resolve a MONITOR.yaml; raises ConfigError naming file, line and key."""
    doc = load_document(Path(path), ConfigError)
    if not isinstance(doc.data, dict):
        raise ConfigError("a monitor config must be a mapping", path=doc.path)
    validate(doc, "monitor", ConfigError)
    register_config(doc.data)  # alert channels' secrets stay out of reports and messages
    return _build(doc)


def _build(doc: Document) -> MonitorConfig:
    raw: dict[str, Any] = doc.data
    path = doc.path
    base = path.parent
    known_fields = set(CALL_FIELDS) | set(FEEDBACK_FIELDS)
    call_fields = _fields(doc, "fields", known_fields)
    overrides = _fields(doc, "feedback_fields", set(FEEDBACK_FIELDS))
    feedback_fields = {k: v for k, v in call_fields.items() if k in FEEDBACK_FIELDS}
    feedback_fields.update(overrides)
    alerting = raw.get("alerting") or {}
    durations = {}
    for keys, default in (
        (("window",), timedelta(hours=24)),
        (("reference",), timedelta(days=7)),
        (("alerting", "cadence"), CADENCE),
    ):
        value = (alerting if keys[0] == "alerting" else raw).get(keys[-1])
        durations[keys[-1]] = parse_duration(value) if value is not None else default
        if durations[keys[-1]].total_seconds() <= 0:
            raise ConfigError(
                "must be positive", path=path, line=doc.line_of(keys), key=".".join(keys)
            )
    calls = _globs(raw["calls"], base)
    feedback = _globs(raw["feedback"], base) if raw.get("feedback") is not None else ()
    if STDIN in calls and STDIN in feedback:
        raise ConfigError(
            "only one of calls and feedback can read stdin",
            path=path,
            line=doc.line_of(("feedback",)),
            key="feedback",
        )
    pricing = raw.get("pricing")
    intents = raw.get("intents", {})
    extra = intents.get("extra_examples", [])
    thresholds = raw.get("thresholds", {})
    spark = raw.get("spark", {})
    on_change = raw.get("on_model_change") or {}
    per_month = float(alerting.get("false_alerts_per_month", FALSE_ALERTS_PER_MONTH))
    # An explicit thresholds.alpha wins over the budget derived from the monthly figure.
    explicit = "alpha" in thresholds
    alpha = float(thresholds["alpha"]) if explicit else pass_alpha(per_month, durations["cadence"])
    return MonitorConfig(
        path=path,
        name=str(raw.get("name") or path.stem),
        calls=calls,
        feedback=feedback,
        call_fields=call_fields,
        feedback_fields=feedback_fields,
        window=durations["window"],
        reference=durations["reference"],
        pricing=Pricing(**pricing) if pricing else None,
        evalset=base / raw["evalset"] if raw.get("evalset") else None,
        extra_examples=tuple(base / p for p in ([extra] if isinstance(extra, str) else extra)),
        min_confidence=float(intents.get("min_confidence", 0.5)),
        max_malformed_share=float(raw.get("max_malformed_share", 0.01)),
        seed=int(raw.get("seed", 0)),
        sample_size=int(raw.get("sample_size", 5000)),
        alpha=alpha,
        alpha_source="thresholds.alpha" if explicit else "alerting.false_alerts_per_month",
        false_alerts_per_month=per_month,
        cadence=durations["cadence"],
        severity=dict(alerting.get("severity", {})),
        alerts=parse_alerts_config(raw.get("alerts"), path, doc.line_of),
        ops=OpsThresholds(**thresholds.get("ops", {})),
        signals=SignalThresholds(**thresholds.get("signals", {})),
        drift=DriftThresholds(**thresholds.get("drift", {})),
        format=raw.get("format"),
        feedback_format=raw.get("feedback_format"),
        status_values={str(k).lower(): v for k, v in (raw.get("status_values") or {}).items()},
        latency_unit=(raw.get("units") or {}).get("latency", "ms"),
        task_key=raw.get("task_key"),
        engine=raw.get("engine", "duckdb"),
        spark_master=spark.get("master"),
        spark_conf={str(k): str(v) for k, v in (spark.get("conf") or {}).items()},
        on_model_change=base / on_change["run"] if on_change.get("run") else None,
        on_model_change_timeout_s=float(on_change.get("timeout_s", 1800.0)),
    )


def _fields(doc: Document, key: str, known: set[str]) -> dict[str, str]:
    mapping: dict[str, str] = doc.data.get(key) or {}
    for name in mapping:
        if name not in known:
            raise ConfigError(
                f"unknown canonical field {name!r} (known: {', '.join(sorted(known))})",
                path=doc.path,
                line=doc.line_of((key, name)),
                key=f"{key}.{name}",
            )
    return dict(mapping)


def _globs(value: str | list[str], base: Path) -> tuple[str, ...]:
    patterns = [value] if isinstance(value, str) else list(value)
    return tuple(p if p == STDIN or p.startswith(TABLE) else str(base / p) for p in patterns)
