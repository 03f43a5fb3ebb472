"""Prometheus metrics of a run, through prometheus-client: a node_exporter textfile written
atomically (`--prometheus PATH`) or a push to a Pushgateway (`alerts.pushgateway`).

Every metric is a gauge of this run labelled with the suite, named after Prometheus conventions
(base units, `_seconds`, `_usd`, `_timestamp_seconds`; no `_total`, since these are not counters):

    canary_score{suite,intent}            mean score; intent="all" for the whole suite
    canary_baseline_score{suite,intent}   the baseline's mean score on the same cases
    canary_relative_drop{suite}           (baseline - score) / baseline
    canary_p_value{suite}                 one-sided paired test of the drop
    canary_latency_seconds{suite,quantile}   0.5, 0.95 and 0.99
    canary_cost_per_case_usd{suite}, canary_error_rate{suite},
    canary_rate_limited_responses{suite}  429 answers seen during the run
    canary_output_chars_mean{suite}, canary_refusal_rate{suite}, canary_hedging_rate{suite}
    canary_breached_gates{suite}          failing alerts
    canary_verdict{suite,verdict}         1 for this run's verdict, 0 for the others
    canary_exit_code{suite}, canary_model_changed{suite}
    canary_last_run_timestamp_seconds{suite}
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from canary_eval.verdict.compare import Comparison

VERDICTS = ("pass", "suspect", "regression", "error")
QUANTILES = (("0.5", "latency_p50_ms"), ("0.95", "latency_p95_ms"), ("0.99", "latency_p99_ms"))


def build_registry(comparison: Comparison, registry: Any = None) -> Any:
    """The run's gauges in `registry` (a new CollectorRegistry when None), which is returned."""
    from prometheus_client import CollectorRegistry, Gauge

    c, q = comparison, comparison.quality
    registry = registry if registry is not None else CollectorRegistry()
    suite = c.suite

    def gauge(name: str, doc: str, value: float, **labels: str) -> None:
        metric = Gauge(name, doc, ["suite", *labels], registry=registry)
        metric.labels(suite=suite, **labels).set(value)

    score = Gauge(
        "canary_score",
        "Mean canary score of the run (0-1).",
        ["suite", "intent"],
        registry=registry,
    )
    base = Gauge(
        "canary_baseline_score",
        "Mean baseline score on the same paired cases (0-1).",
        ["suite", "intent"],
        registry=registry,
    )
    score.labels(suite, "all").set(q.score)
    base.labels(suite, "all").set(q.baseline_score)
    for row in c.intents:
        score.labels(suite, row.intent).set(row.score)
        base.labels(suite, row.intent).set(row.baseline_score)
    gauge(
        "canary_relative_drop", "Relative drop of the score against the baseline.", q.relative_drop
    )
    gauge("canary_p_value", "p-value of the paired test for a drop.", q.p_value)
    latency = Gauge(
        "canary_latency_seconds",
        "Latency of successful calls.",
        ["suite", "quantile"],
        registry=registry,
    )
    for quantile, field in QUANTILES:
        latency.labels(suite, quantile).set(getattr(c.ops, field) / 1000)
    gauge(
        "canary_cost_per_case_usd", "Cost per answered case in US dollars.", c.ops.cost_per_case_usd
    )
    gauge("canary_error_rate", "Share of cases whose call failed.", c.ops.error_rate)
    gauge(
        "canary_rate_limited_responses", "HTTP 429 answers seen during the run.", c.ops.rate_limited
    )
    gauge("canary_output_chars_mean", "Mean output length in characters.", c.behaviour.mean_chars)
    gauge("canary_refusal_rate", "Share of answers that refused.", c.behaviour.refusal_rate)
    gauge("canary_hedging_rate", "Share of answers that hedged.", c.behaviour.hedging_rate)
    gauge("canary_breached_gates", "Gates the run breached.", sum(a.failing for a in c.alerts))
    verdict = Gauge(
        "canary_verdict",
        "1 for the run's verdict, 0 for the others.",
        ["suite", "verdict"],
        registry=registry,
    )
    for name in VERDICTS:
        verdict.labels(suite, name).set(1 if c.verdict == name else 0)
    gauge("canary_exit_code", "Exit code of the run.", c.exit_code)
    gauge(
        "canary_model_changed",
        "1 when the served model differs from the baseline's.",
        int(c.model_changed),
    )
    gauge(
        "canary_last_run_timestamp_seconds",
        "When the run started, in Unix time.",
        _timestamp(c.run.info.created_at),
    )
    return registry


def write_prometheus(comparison: Comparison, path: Path, *, registry: Any = None) -> None:
    """Write the node_exporter textfile atomically (prometheus-client renames a complete file
    into place, so the collector never reads half of one)."""
    from prometheus_client import write_to_textfile

    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), build_registry(comparison, registry))


def push_metrics(
    comparison: Comparison,
    gateway_url: str,
    job: str,
    *,
    timeout: float = 10.0,
    handler: Any = None,
) -> None:
    """Replace this suite's group on the Pushgateway (grouping key `suite`). Raises what
    prometheus-client raises (OSError and friends); alert delivery passes its own `handler`
    (prometheus-client's handler interface) to retry, and catches and reports failures."""
    from prometheus_client import push_to_gateway
    from prometheus_client.exposition import default_handler

    push_to_gateway(
        gateway_url,
        job=job,
        registry=build_registry(comparison),
        grouping_key={"suite": comparison.suite},
        timeout=timeout,
        handler=handler or default_handler,
    )


def _timestamp(created_at: str) -> float:
    try:
        value = datetime.fromisoformat(created_at).timestamp()
    except ValueError:
        return time.time()
    return value if math.isfinite(value) else time.time()
