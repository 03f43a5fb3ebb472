"""Prometheus metrics: the textfile format, conventional names, and a push to a Pushgateway."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from canary_eval.reports.prometheus import build_registry, push_metrics, write_prometheus
from canary_eval.verdict.compare import Comparison

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
    assert value(found, "canary_score", intent="all") == 0.7
    assert value(found, "canary_score", intent="billing") == 0.4
    assert value(found, "canary_baseline_score", intent="all") == 1.0
    assert round(value(found, "canary_relative_drop"), 6) == 0.3
    assert value(found, "canary_p_value") < 0.05
    assert value(found, "canary_latency_seconds", quantile="0.95") == 0.3
    assert {
        q
        for (name, labels) in found
        if name == "canary_latency_seconds"
        for k, q in labels
        if k == "quantile"
    } == {"0.5", "0.95", "0.99"}
    assert value(found, "canary_cost_per_case_usd") > 0
    assert value(found, "canary_error_rate") == 0.0
    assert value(found, "canary_rate_limited_responses") == 0
    assert value(found, "canary_model_changed") == 1
    assert value(found, "canary_breached_gates") == 4
    assert value(found, "canary_verdict", verdict="regression") == 1
    assert value(found, "canary_verdict", verdict="pass") == 0
    created = datetime.fromisoformat("2024-05-07T14:00:00+00:00").timestamp()
    assert value(found, "canary_last_run_timestamp_seconds") == created


def test_every_metric_name_follows_the_conventions(regression: Comparison) -> None:
    from prometheus_client import generate_latest

    text = generate_latest(build_registry(regression)).decode()
    names = {family.name for family in text_string_to_metric_families(text)}
    assert all(name.startswith("canary_") for name in names)
    assert not any(name.endswith("_total") for name in names)  # gauges, not counters
    assert not any("_ms" in name for name in names)  # base units: seconds


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
        registry.get_sample_value("canary_score", {"suite": "support-bot", "intent": "all"}) == 0.7
    )


def test_push_replaces_the_suites_group_on_the_pushgateway(regression: Comparison) -> None:
    with RecordingServer() as gateway:
        push_metrics(regression, gateway.url, "canary")
    (request,) = gateway.requests
    assert request.method == "PUT"
    assert request.path == "/metrics/job/canary/suite/support-bot"
    assert value(samples(request.body.decode()), "canary_score", intent="all") == 0.7
