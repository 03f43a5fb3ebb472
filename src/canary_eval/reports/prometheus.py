"""Prometheus metrics of a run, through prometheus-client: a node_exporter textfile
(`--prometheus PATH`) or a push to a Pushgateway (`alerts.pushgateway`).

Names follow the Prometheus naming guide and pass `promtool check metrics`: base units
(`_seconds`), `_ratio` for values between 0 and 1, one gauge per latency quantile (a gauge with a
`quantile` label is not a summary), `_info` for the served model. These are gauges of one run
labelled with the suite, so none ends in `_total`:

    canary_score_ratio{suite,intent}           mean score; intent="all" for the whole suite
    canary_baseline_score_ratio{suite,intent}  the baseline's mean score on the same cases
    canary_relative_drop_ratio{suite}          (baseline - score) / baseline
    canary_p_value{suite}                      one-sided paired test of the drop
    canary_latency_p50_seconds{suite}, canary_latency_p95_seconds, canary_latency_p99_seconds
    canary_cost_per_case_usd{suite}, canary_error_ratio{suite}
    canary_rate_limited_responses{suite}       429 answers seen during the run
    canary_output_mean_characters{suite}, canary_refusal_ratio{suite}, canary_hedging_ratio{suite}
    canary_breached_gates{suite}               failing alerts
    canary_verdict{suite,verdict}              1 for this run's verdict, 0 for the others
    canary_exit_code{suite}, canary_model_changed{suite}, canary_prompt_changed{suite}
    canary_served_model_info{suite,model,fingerprint}   always 1; the majority served model
    canary_last_run_timestamp_seconds{suite}

Beside them, the OpenTelemetry GenAI semantic-convention histograms of this run's calls, with the
convention's bucket boundaries and attributes as labels:

    gen_ai_client_operation_duration_seconds{gen_ai_operation_name,gen_ai_provider_name,
        gen_ai_request_model,gen_ai_response_model,suite}
    gen_ai_client_token_usage{..., gen_ai_token_type="input"|"output"}
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from canary_eval.verdict.compare import Comparison

VERDICTS = ("pass", "suspect", "regression", "error")
QUANTILES = (("p50", "latency_p50_ms"), ("p95", "latency_p95_ms"), ("p99", "latency_p99_ms"))
# The bucket boundaries the GenAI semantic conventions advise for these two histograms.
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                    40.96, 81.92)  # fmt: skip
TOKEN_BUCKETS = tuple(float(4**i) for i in range(14))  # 1, 4, 16, ... 67108864
GEN_AI_LABELS = (
    "gen_ai_operation_name",
    "gen_ai_provider_name",
    "gen_ai_request_model",
    "gen_ai_response_model",
    "suite",
)


def build_registry(comparison: Comparison, registry: Any = None) -> Any:
    """The run's metrics in `registry` (a new CollectorRegistry when None), which is returned."""
    from prometheus_client import CollectorRegistry, Gauge

    c, q = comparison, comparison.quality
    registry = registry if registry is not None else CollectorRegistry()
    suite = c.suite

    def gauge(name: str, doc: str, value: float) -> None:
        Gauge(name, doc, ["suite"], registry=registry).labels(suite=suite).set(value)

    def by_intent(name: str, doc: str) -> Any:
        return Gauge(name, doc, ["suite", "intent"], registry=registry)

    score = by_intent("canary_score_ratio", "Mean canary score of the run (0-1).")
    base = by_intent("canary_baseline_score_ratio", "Mean baseline score on the paired cases.")
    score.labels(suite, "all").set(q.score)
    base.labels(suite, "all").set(q.baseline_score)
    for row in c.intents:
        score.labels(suite, row.intent).set(row.score)
        base.labels(suite, row.intent).set(row.baseline_score)
    gauge("canary_relative_drop_ratio", "Relative drop of the score.", q.relative_drop)
    gauge("canary_p_value", "p-value of the paired test for a drop.", q.p_value)
    for quantile, field in QUANTILES:
        gauge(
            f"canary_latency_{quantile}_seconds",
            f"{quantile} latency of successful calls.",
            getattr(c.ops, field) / 1000,
        )
    gauge(
        "canary_cost_per_case_usd", "Cost per answered case in US dollars.", c.ops.cost_per_case_usd
    )
    gauge("canary_error_ratio", "Share of cases whose call failed.", c.ops.error_rate)
    gauge(
        "canary_rate_limited_responses", "HTTP 429 answers seen during the run.", c.ops.rate_limited
    )
    gauge("canary_output_mean_characters", "Mean output length.", c.behaviour.mean_chars)
    gauge("canary_refusal_ratio", "Share of answers that refused.", c.behaviour.refusal_rate)
    gauge("canary_hedging_ratio", "Share of answers that hedged.", c.behaviour.hedging_rate)
    gauge("canary_breached_gates", "Gates the run breached.", sum(a.failing for a in c.alerts))
    verdict = Gauge(
        "canary_verdict", "1 for the run's verdict, 0 for the others.", ["suite", "verdict"],
        registry=registry,
    )  # fmt: skip
    for name in VERDICTS:
        verdict.labels(suite, name).set(1 if c.verdict == name else 0)
    gauge("canary_exit_code", "Exit code of the run.", c.exit_code)
    gauge("canary_model_changed", "1 when the served model differs from the baseline's.",
          int(c.model_changed))  # fmt: skip
    gauge("canary_prompt_changed", "1 when the prompt differs from the baseline's.",
          int(c.prompt_changed))  # fmt: skip
    _served_model(c, suite, registry)
    gauge(
        "canary_last_run_timestamp_seconds",
        "When the run started, in Unix time.",
        _timestamp(c.run.info.created_at) - c.run.info.duration_s,
    )
    _gen_ai(c, registry)
    return registry


def _served_model(c: Comparison, suite: str, registry: Any) -> None:
    from collections import Counter

    from prometheus_client import Gauge

    answered = Counter((x.model, x.fingerprint) for x in c.run.cases if x.error is None)
    if not answered:
        return
    (model, fingerprint), _ = answered.most_common(1)[0]
    info = Gauge(
        "canary_served_model_info",
        "The model that answered most calls of the run, with its system fingerprint.",
        ["suite", "model", "fingerprint"],
        registry=registry,
    )
    info.labels(suite, model or "unknown", fingerprint or "").set(1)


def _gen_ai(c: Comparison, registry: Any) -> None:
    """The GenAI semantic conventions' client histograms, one observation per answered call.
    Built as metric families (not prometheus-client's live Histogram), so the textfile has no
    `_created` series, which mean nothing for a run that is over."""
    from prometheus_client.core import HistogramMetricFamily

    info = c.run.info
    durations: dict[tuple[str, ...], list[float]] = {}
    tokens: dict[tuple[str, ...], list[float]] = {}
    for case in c.run.cases:
        if case.error is not None:
            continue
        labels = ("chat", info.provider, info.model, case.model or info.model, c.suite)
        durations.setdefault(labels, []).append(case.latency_ms / 1000)
        tokens.setdefault((*labels, "input"), []).append(case.usage.input_tokens)
        tokens.setdefault((*labels, "output"), []).append(case.usage.output_tokens)
    duration = HistogramMetricFamily(
        "gen_ai_client_operation_duration_seconds",
        "GenAI operation duration.",
        labels=GEN_AI_LABELS,
    )
    usage = HistogramMetricFamily(
        "gen_ai_client_token_usage",
        "Number of input and output tokens used.",
        labels=(*GEN_AI_LABELS, "gen_ai_token_type"),
    )
    for family, observed, bounds in (
        (duration, durations, DURATION_BUCKETS),
        (usage, tokens, TOKEN_BUCKETS),
    ):
        for key, values in observed.items():
            buckets = [(_bound(b), sum(v <= b for v in values)) for b in bounds]
            family.add_metric(list(key), [*buckets, ("+Inf", len(values))], sum(values))
    registry.register(_Families(duration, usage))


class _Families:
    """A collector that hands prometheus-client finished metric families."""

    def __init__(self, *families: Any) -> None:
        self.families = families

    def collect(self) -> Any:
        return iter(self.families)


def _bound(value: float) -> str:
    return f"{value:g}" if value < 1e6 else str(int(value))


def prometheus_text(comparison: Comparison, *, registry: Any = None) -> str:
    """The textfile collector's format."""
    from prometheus_client import generate_latest

    text: str = generate_latest(build_registry(comparison, registry)).decode()
    return text


def write_prometheus(comparison: Comparison, path: Path, *, registry: Any = None) -> None:
    """Write the node_exporter textfile; a regular file is replaced atomically, so the collector
    never reads half of one."""
    from canary_eval.reports.destination import write_text

    write_text(path, prometheus_text(comparison, registry=registry))


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
