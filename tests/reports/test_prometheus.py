"""Prometheus metrics: the textfile format that promtool accepts, conventional names, the
OpenTelemetry GenAI histograms, and a push to a Pushgateway."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from canary_eval.reports.prometheus import prometheus_text, push_metrics, write_prometheus
from canary_eval.verdict.compare import Comparison
from validators import check_metrics

from factories import RecordingServer


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return found[(name, tuple(sorted({"suite": "support-bot", **labels}.items())))]


def test_writes_the_textfile_with_conventional_names_and_values(
    regression: Comparison, tmp_path: Path
) -> None:
    path = tmp_path / "textfile" / "canary.prom"
    write_prometheus(regression, path)
    found = samples(path.read_text())
    assert value(found, "canary_score_ratio", intent="all") == 0.7
    assert value(found, "canary_score_ratio", intent="billing") == 0.4
    assert value(found, "canary_baseline_score_ratio", intent="all") == 1.0
    assert round(value(found, "canary_relative_drop_ratio"), 6) == 0.3
    assert value(found, "canary_p_value") < 0.05
    assert value(found, "canary_latency_p95_seconds") == 0.3
    assert value(found, "canary_cost_per_case_usd") > 0
    assert value(found, "canary_error_ratio") == 0.0
    assert value(found, "canary_rate_limited_responses") == 0
    assert value(found, "canary_model_changed") == 1
    assert value(found, "canary_prompt_changed") == 0
    assert value(found, "canary_breached_gates") == 4
    assert value(found, "canary_verdict", verdict="regression") == 1
    assert value(found, "canary_verdict", verdict="pass") == 0
    created = datetime.fromisoformat("2024-05-07T14:00:00+00:00").timestamp()
    assert value(found, "canary_last_run_timestamp_seconds") == created


def test_promtool_accepts_the_textfile_of_every_verdict(
    regression: Comparison, passing: Comparison, suspect: Comparison, errored: Comparison
) -> None:
    for comparison in (regression, passing, suspect, errored):
        check_metrics(prometheus_text(comparison))


def test_the_served_model_is_an_info_metric_with_model_and_fingerprint(
    regression: Comparison,
) -> None:
    found = samples(prometheus_text(regression))
    info = value(found, "canary_served_model_info", model="sim-drift", fingerprint="fp_b")
    assert info == 1


def test_calls_are_gen_ai_semantic_convention_histograms(regression: Comparison) -> None:
    found = samples(prometheus_text(regression))
    labels = {
        "gen_ai_operation_name": "chat",
        "gen_ai_provider_name": "openai",
        "gen_ai_request_model": "sim",
        "gen_ai_response_model": "sim-drift",
    }
    duration = "gen_ai_client_operation_duration_seconds"
    assert value(found, f"{duration}_count", **labels) == 40  # one per answered call
    assert round(value(found, f"{duration}_sum", **labels), 6) == 12.0  # 40 calls of 0.3 s
    assert value(found, f"{duration}_bucket", le="0.32", **labels) == 40
    assert value(found, f"{duration}_bucket", le="0.16", **labels) == 0
    tokens = "gen_ai_client_token_usage"
    assert value(found, f"{tokens}_sum", gen_ai_token_type="input", **labels) == 40 * 40
    assert value(found, f"{tokens}_sum", gen_ai_token_type="output", **labels) == 40 * 20


def test_every_metric_name_follows_the_conventions(regression: Comparison) -> None:
    names = {family.name for family in text_string_to_metric_families(prometheus_text(regression))}
    ours = {name for name in names if name.startswith("canary_")}
    assert names - ours == {
        "gen_ai_client_operation_duration_seconds",
        "gen_ai_client_token_usage",
    }
    assert not any(name.endswith("_total") for name in names)  # gauges, not counters
    assert not any("_ms" in name for name in names)  # base units: seconds
    assert not any(name.endswith("_rate") for name in names)  # 0-1 values are _ratio


def test_the_write_is_atomic_and_leaves_no_temporary_file(
    regression: Comparison, passing: Comparison, tmp_path: Path
) -> None:
    path = tmp_path / "canary.prom"
    write_prometheus(regression, path)
    write_prometheus(passing, path)
    assert [p.name for p in tmp_path.iterdir()] == ["canary.prom"]
    assert value(samples(path.read_text()), "canary_verdict", verdict="pass") == 1


def test_metrics_go_into_a_given_registry(regression: Comparison, tmp_path: Path) -> None:
    registry = CollectorRegistry()
    write_prometheus(regression, tmp_path / "a.prom", registry=registry)
    assert (
        registry.get_sample_value("canary_score_ratio", {"suite": "support-bot", "intent": "all"})
        == 0.7
    )


def test_push_replaces_the_suites_group_on_the_pushgateway(regression: Comparison) -> None:
    with RecordingServer() as gateway:
        push_metrics(regression, gateway.url, "canary")
    (request,) = gateway.requests
    assert request.method == "PUT"
    assert request.path == "/metrics/job/canary/suite/support-bot"
    assert value(samples(request.body.decode()), "canary_score_ratio", intent="all") == 0.7
