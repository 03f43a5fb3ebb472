"""MONITOR.yaml: defaults, path resolution and one-line errors naming file, line and key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from canary_eval.errors import ConfigError
from canary_eval.monitor import run_monitor
from canary_eval.monitor.config import load_monitor_config
from canary_eval.suite.document import parse_duration


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_config_gets_the_documented_defaults(tmp_path: Path) -> None:
    config = load_monitor_config(_write(tmp_path, "calls: logs/*.jsonl\n"))
    assert config.name == "monitor"
    assert config.calls == (str(tmp_path / "logs" / "*.jsonl"),)
    assert config.feedback == ()
    assert config.window == timedelta(hours=24)
    assert config.reference == timedelta(days=7)
    assert config.max_malformed_share == 0.01
    assert config.min_confidence == 0.5
    # Every gate is on, and every tested gate draws on one budget per pass: one false alert
    # in 30 days of hourly passes at most.
    assert config.false_alerts_per_month == 1
    assert config.cadence == timedelta(hours=1)
    assert config.alpha == pytest.approx(1 / 720)
    assert config.alpha_source == "alerting.false_alerts_per_month"
    assert config.ops.max_p95_latency_increase == 0.5
    assert config.ops.min_p95_latency_increase_ms == 250
    assert config.signals.max_thumbs_down_rate_increase == 0.05
    assert config.signals.alpha is None
    assert config.drift.min_auc == 0.55
    assert config.drift.max_uncovered_share == 0.1
    assert config.drift.coverage_floor == 0.25


def test_null_turns_a_gate_off_and_a_layer_alpha_takes_it_out_of_the_budget(
    tmp_path: Path,
) -> None:
    config = load_monitor_config(
        _write(
            tmp_path,
            "calls: c.jsonl\nthresholds:\n  alpha: 0.002\n"
            "  ops: {max_p95_latency_increase: null}\n  signals: {alpha: 0.05}\n",
        )
    )
    assert config.alpha == 0.002
    assert config.alpha_source == "thresholds.alpha"
    assert config.ops.max_p95_latency_increase is None
    assert config.ops.max_error_rate_increase == 0.02
    assert config.signals.alpha == 0.05


def test_the_pass_budget_derives_from_false_alerts_a_month_at_the_cadence(
    tmp_path: Path,
) -> None:
    config = load_monitor_config(
        _write(tmp_path, "calls: c.jsonl\nalerting: {false_alerts_per_month: 2, cadence: 15m}\n")
    )
    assert config.alpha == pytest.approx(2 / (30 * 24 * 4))
    # thresholds.alpha, when set, overrides the derived budget.
    config = load_monitor_config(
        _write(
            tmp_path,
            "calls: c.jsonl\nalerting: {false_alerts_per_month: 2}\nthresholds: {alpha: 0.01}\n",
        )
    )
    assert config.alpha == 0.01
    assert config.false_alerts_per_month == 2


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("alerting: {false_alerts_per_month: 0}\n", "false_alerts_per_month"),
        ("alerting: {cadence: 0h}\n", "alerting.cadence"),
    ],
)
def test_a_budget_that_is_not_positive_is_refused_naming_its_key(
    tmp_path: Path, text: str, key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_monitor_config(_write(tmp_path, "calls: c.jsonl\n" + text))
    assert key in str(caught.value)
    assert "monitor.yaml" in str(caught.value)


def test_paths_resolve_against_the_config_folder_and_stdin_stays_stdin(tmp_path: Path) -> None:
    config = load_monitor_config(
        _write(
            tmp_path,
            "calls: '-'\nfeedback: [a/*.jsonl, b.csv]\nevalset: ../set.yaml\n"
            "intents: {extra_examples: more.jsonl}\n",
        )
    )
    assert config.calls == ("-",)
    assert config.feedback == (str(tmp_path / "a" / "*.jsonl"), str(tmp_path / "b.csv"))
    assert config.evalset == tmp_path / ".." / "set.yaml"
    assert config.extra_examples == (tmp_path / "more.jsonl",)


def test_feedback_fields_inherit_ts_and_task_id_from_fields(tmp_path: Path) -> None:
    config = load_monitor_config(
        _write(
            tmp_path,
            "calls: c.jsonl\nfields: {ts: time, task_id: conv.id, input: prompt}\n"
            "feedback_fields: {event: kind}\n",
        )
    )
    assert config.call_fields == {"ts": "time", "task_id": "conv.id", "input": "prompt"}
    assert config.feedback_fields == {"ts": "time", "task_id": "conv.id", "event": "kind"}


def test_an_unknown_field_mapping_is_a_config_error_naming_the_key_and_line(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, "calls: c.jsonl\nfields:\n  ts: time\n  latency: ms\n")
    with pytest.raises(ConfigError) as caught:
        load_monitor_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:4: fields.latency: unknown canonical field 'latency'")
    assert "latency_ms" in message
    assert caught.value.exit_code == 2


def test_an_unknown_field_mapping_stops_run_monitor_before_reading_logs(tmp_path: Path) -> None:
    path = _write(tmp_path, "calls: missing/*.jsonl\nfeedback_fields: {input: text}\n")
    with pytest.raises(ConfigError, match=r"feedback_fields\.input: unknown canonical field"):
        run_monitor(path)


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        ("calls: c.jsonl\nwindow: 24 hours\n", "window", 2),
        (
            "calls: c.jsonl\nthresholds:\n  ops:\n    max_p95_latency: 0.5\n",
            "thresholds.ops.max_p95_latency",
            4,
        ),
        ("feedback: f.jsonl\n", "calls", None),
        ("calls: c.jsonl\nmax_malformed_share: 2\n", "max_malformed_share", 2),
        ("calls: c.jsonl\nwindow: 0h\n", "window", 2),
        ("calls: c.jsonl\nalerting:\n  severity: {drift: loud}\n", "alerting.severity.drift", 3),
        ("calls: c.jsonl\nalerting:\n  severity: {p95: page}\n", "alerting.severity.p95", 3),
    ],
)
def test_invalid_configs_name_the_key(
    tmp_path: Path, text: str, key: str, line: int | None
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_monitor_config(_write(tmp_path, text))
    assert caught.value.key == key
    if line is not None:
        assert caught.value.line == line


def test_a_bad_duration_is_described_not_quoted_as_a_regular_expression(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_monitor_config(_write(tmp_path, "calls: c.jsonl\nwindow: 24 hours\n"))
    assert caught.value.message == (
        "must be a duration such as 30m, 24h or 7d (units s, m, h, d, w), not '24 hours'"
    )


def test_calls_and_feedback_cannot_both_read_stdin(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="only one of calls and feedback"):
        load_monitor_config(_write(tmp_path, "calls: '-'\nfeedback: '-'\n"))


def test_a_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_monitor_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("24h", 86400), ("7d", 604800), ("1.5h", 5400), ("2w", 1209600)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds
