"""End to end: run_monitor over generated log files, as `canary monitor` does."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from canary_eval.monitor import MonitorResult, monitor_report_dict, run_monitor
from canary_eval.monitor.report import monitor_report_json
from canary_eval.monitor.run import monitor_passes
from validators import check_report

from .conftest import (
    END,
    generate,
    rounded,
    write_config,
    write_csv,
    write_evalset,
    write_jsonl,
)

PAGE_EVERY_LAYER = {"severity": {"ops": "page", "signals": "page", "drift": "page"}}


def _scenario(directory: Path, *, drift: bool) -> MonitorResult:
    write_evalset(directory)
    calls, feedback = generate(drift=drift, seed=1, calls_per_day=2000)
    (directory / "logs").mkdir()
    write_jsonl(directory / "logs" / "calls.jsonl", calls)
    write_jsonl(directory / "logs" / "feedback.jsonl", feedback)
    return run_monitor(write_config(directory, alerting=PAGE_EVERY_LAYER))


@pytest.fixture(scope="module")
def unchanged(tmp_path_factory: pytest.TempPathFactory) -> MonitorResult:
    return _scenario(tmp_path_factory.mktemp("unchanged"), drift=False)


@pytest.fixture(scope="module")
def drifted(tmp_path_factory: pytest.TempPathFactory) -> MonitorResult:
    return _scenario(tmp_path_factory.mktemp("drifted"), drift=True)


def test_unchanged_logs_pass_with_no_alert(unchanged: MonitorResult) -> None:
    assert unchanged.verdict == "pass"
    assert unchanged.exit_code == 0
    assert unchanged.alerts == ()


def test_unchanged_logs_still_report_every_figure_per_intent(unchanged: MonitorResult) -> None:
    assert [s.intent for s in unchanged.intents] == [
        "account",
        "billing",
        "disputes",
        "shipping",
        "technical",
    ]
    for segment in unchanged.intents:
        assert segment.ops_current.calls > 100
        assert segment.ops_current.latency_p95_ms is not None
        assert segment.signals_current.thumbs_down.n > 30
        assert segment.canary_share == pytest.approx(0.2)
    assert unchanged.classifier.cv_accuracy is not None
    assert unchanged.classifier.cv_accuracy > 0.8
    assert unchanged.drift.coverage is not None
    assert unchanged.drift.coverage.uncovered_share < 0.02


def test_drifted_logs_regress_with_alerts_in_signals_ops_and_drift(drifted: MonitorResult) -> None:
    assert drifted.verdict == "regression"
    assert drifted.exit_code == 1
    failing = [a for a in drifted.alerts if a.failing]
    assert {a.layer for a in failing} == {"signals", "ops", "drift"}


def test_the_signals_alert_names_the_intent_whose_thumbs_down_doubled(
    drifted: MonitorResult,
) -> None:
    thumbs = [a for a in drifted.alerts if a.failing and a.metric == "thumbs_down_rate"]
    assert "disputes" in {a.intent for a in thumbs}
    disputes = next(a for a in thumbs if a.intent == "disputes")
    assert "intent disputes" in disputes.message
    assert disputes.observed is not None
    assert disputes.observed > 0.08


def test_the_ops_alert_reports_p95_latency_doubling(drifted: MonitorResult) -> None:
    overall = next(a for a in drifted.alerts if a.metric == "latency_p95_ms" and a.intent is None)
    assert overall.observed == pytest.approx(1.0, abs=0.25)


def test_the_drift_alert_names_the_uncovered_share_and_the_new_topic(
    drifted: MonitorResult,
) -> None:
    uncovered = next(a for a in drifted.alerts if a.metric == "uncovered_share")
    assert uncovered.observed == pytest.approx(0.2, abs=0.05)
    assert f"{uncovered.observed:.1%}" in uncovered.message
    assert "no longer represents production" in uncovered.message
    assert "crypto" in uncovered.message
    assert drifted.drift.domain is not None
    assert any(a.metric == "domain_auc" for a in drifted.alerts)


def test_report_dict_has_the_documented_keys_and_is_json(drifted: MonitorResult) -> None:
    report = monitor_report_dict(drifted)
    for key in (
        "verdict",
        "exit_code",
        "alerts",
        "ops",
        "signals",
        "intents",
        "drift",
        "malformed",
        "classifier",
    ):
        assert key in report
    assert report["verdict"] == "regression"
    alert = report["alerts"][0]
    assert set(alert) >= {"layer", "metric", "intent", "severity", "observed", "allowed", "message"}
    disputes = next(i for i in report["intents"] if i["intent"] == "disputes")
    assert disputes["regressed"] is True
    assert disputes["signals"]["current"]["thumbs_down_rate"]["n"] > 0
    assert report["drift"]["coverage"]["uncovered_share"] > 0.1
    check_report(json.loads(monitor_report_json(drifted)), "monitor-report")


def _small_logs(directory: Path, *, days: int = 8) -> tuple[list[dict[str, object]], ...]:
    write_evalset(directory)
    return generate(days=days, calls_per_day=300, seed=3)


def test_csv_logs_with_a_fields_mapping_give_the_same_figures_as_jsonl(tmp_path: Path) -> None:
    calls, feedback = _small_logs(tmp_path)
    write_jsonl(tmp_path / "calls.jsonl", calls)
    write_jsonl(tmp_path / "feedback.jsonl", feedback)
    expected = run_monitor(write_config(tmp_path, calls="calls.jsonl", feedback="feedback.jsonl"))
    renamed = [
        {
            "when": c["ts"],
            "conversation": c["task_id"],
            "prompt": c["input"],
            **{k: v for k, v in c.items() if k not in ("ts", "task_id", "input")},
        }
        for c in calls
    ]
    write_csv(tmp_path / "calls.csv", renamed)
    write_csv(tmp_path / "feedback.csv", feedback)
    result = run_monitor(
        write_config(
            tmp_path,
            calls="calls.csv",
            feedback="feedback.csv",
            fields={"ts": "when", "task_id": "conversation", "input": "prompt"},
            feedback_fields={"ts": "ts", "task_id": "task_id"},
        )
    )
    assert rounded(result.overall) == rounded(expected.overall)
    assert rounded(result.intents) == rounded(expected.intents)


def test_figures_do_not_depend_on_the_order_of_the_records(tmp_path: Path) -> None:
    """Exactly equal, not rounded: the engine adds a group's rows in whatever order its threads
    finish, which is the order here shuffled; float sums in another order differ in their last
    digits (which is what made CSV and JSONL differ now and then under load)."""
    import random
    from dataclasses import asdict

    calls, feedback = _small_logs(tmp_path)
    config = write_config(tmp_path, calls="calls.jsonl", feedback="feedback.jsonl")
    write_jsonl(tmp_path / "calls.jsonl", calls)
    write_jsonl(tmp_path / "feedback.jsonl", feedback)
    in_order = run_monitor(config)
    random.Random(1).shuffle(calls)
    random.Random(2).shuffle(feedback)
    write_jsonl(tmp_path / "calls.jsonl", calls)
    write_jsonl(tmp_path / "feedback.jsonl", feedback)
    shuffled = run_monitor(config)
    assert in_order.overall.ops_current.cost_per_task_usd is not None
    assert in_order.overall.signals_current.csat_sd is not None
    assert asdict(shuffled.overall) == asdict(in_order.overall)
    assert [asdict(s) for s in shuffled.intents] == [asdict(s) for s in in_order.intents]


def test_dotted_field_paths_reach_into_nested_json(tmp_path: Path) -> None:
    calls, feedback = _small_logs(tmp_path)
    nested = [
        {"meta": {"at": c.pop("ts"), "conversation": {"id": c.pop("task_id")}}, **c} for c in calls
    ]
    write_jsonl(tmp_path / "calls.jsonl", nested)
    write_jsonl(tmp_path / "feedback.jsonl", feedback)
    result = run_monitor(
        write_config(
            tmp_path,
            calls="calls.jsonl",
            feedback="feedback.jsonl",
            fields={"ts": "meta.at", "task_id": "meta.conversation.id"},
            feedback_fields={"ts": "ts", "task_id": "task_id"},
        )
    )
    assert result.malformed.calls_malformed == 0
    assert result.overall.signals_current.tasks > 0


def test_calls_can_come_from_stdin(tmp_path: Path) -> None:
    calls, feedback = _small_logs(tmp_path)
    write_jsonl(tmp_path / "feedback.jsonl", feedback)
    stdin = io.StringIO("".join(json.dumps(c) + "\n" for c in calls))
    result = run_monitor(write_config(tmp_path, calls="-", feedback="feedback.jsonl"), stdin=stdin)
    assert result.malformed.calls_read == len(calls)
    assert result.overall.ops_current.calls > 0


def test_until_ends_the_current_window_there(tmp_path: Path) -> None:
    calls, feedback = _small_logs(tmp_path)
    write_jsonl(tmp_path / "calls.jsonl", calls)
    write_jsonl(tmp_path / "feedback.jsonl", feedback)
    config = write_config(tmp_path, calls="calls.jsonl", feedback="feedback.jsonl", reference="3d")
    until = END.replace(day=END.day - 2)
    result = run_monitor(config, until=until)
    assert result.windows.end == "2024-05-06T00:00:00Z"
    assert result.windows.current_start == "2024-05-05T00:00:00Z"
    assert result.windows.reference_start == "2024-05-02T00:00:00Z"
    whole = run_monitor(config)
    assert result.overall.ops_current != whole.overall.ops_current


def test_many_passes_over_logs_loaded_once_decide_as_one_run_each(tmp_path: Path) -> None:
    # What the bench replays a month with must be what `canary monitor` decides at each hour.
    write_evalset(tmp_path)
    calls, feedback = generate(drift=True, seed=2, calls_per_day=600)
    write_jsonl(tmp_path / "calls.jsonl", calls)
    write_jsonl(tmp_path / "feedback.jsonl", feedback)
    config = write_config(tmp_path, calls="calls.jsonl", feedback="feedback.jsonl")
    untils = [END - timedelta(hours=hours) for hours in (12, 0)]
    passes = list(monitor_passes(config, untils))
    for until, one_pass in zip(untils, passes, strict=True):
        alone = run_monitor(config, until=until)
        assert monitor_report_dict(one_pass) == monitor_report_dict(alone)
    assert passes[0].alerts != passes[1].alerts  # the drift grows through the day
