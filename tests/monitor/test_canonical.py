"""Reading production logs: malformed lines are counted with file and line, never fatal alone."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest

from canary_eval.errors import LogError
from canary_eval.monitor import run_monitor
from canary_eval.monitor.readers import ShapeOptions, Tally, read_logs
from canary_eval.monitor.readers.rows import resolve_paths

from .conftest import CALL, generate, write_config, write_evalset, write_jsonl

Records = list[dict[str, Any]]


def read(
    tmp_path: Path, stream: str, lines: list[str], paths: tuple[str, ...] = ("-",)
) -> tuple[Records, Tally]:
    """Read `lines` from stdin (or `paths`) as one stream; the staged records and its tally."""
    stdin = io.StringIO("".join(line + "\n" for line in lines))
    calls, feedback = (paths, ()) if stream == "call" else ((), paths)
    logs = read_logs(
        calls,
        feedback,
        formats=(None, None),
        options=(ShapeOptions(), ShapeOptions()),
        staging=tmp_path / "staging",
        stdin=stdin,
    )
    staged = logs.calls.staged if stream == "call" else logs.feedback.staged
    records = [json.loads(line) for line in Path(staged).read_text().splitlines()]
    return records, logs.calls_tally if stream == "call" else logs.feedback_tally


def _read(lines: list[str], tmp_path: Path) -> tuple[Records, Tally]:
    return read(tmp_path, "call", lines)


def test_a_canonical_record_is_parsed(tmp_path: Path) -> None:
    (record,), tally = _read([json.dumps(CALL)], tmp_path)
    assert tally.malformed == 0
    assert record["ts"] == 1714564800.0
    assert record["intent"] is None
    assert record["status"] == "ok"
    assert tally.time_units == {"iso": 1}


def test_a_logged_cost_is_kept_and_a_missing_one_left_for_pricing(tmp_path: Path) -> None:
    (logged,), _ = _read([json.dumps({**CALL, "cost_usd": 0.5})], tmp_path)
    (unknown,), _ = _read([json.dumps(CALL)], tmp_path)
    assert logged["cost_usd"] == 0.5
    assert unknown["cost_usd"] is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("OK", "ok"),
        ("rate-limited", "rate_limited"),
        (429, "rate_limited"),
        (503, "error"),
        ("200", "ok"),
    ],
)
def test_status_accepts_names_and_http_codes(status: object, expected: str, tmp_path: Path) -> None:
    (record,), _ = _read([json.dumps({**CALL, "status": status})], tmp_path)
    assert record["status"] == expected


def test_naive_timestamps_are_utc_and_offsets_are_honoured(tmp_path: Path) -> None:
    (naive,), _ = _read([json.dumps({**CALL, "ts": "2024-05-01T12:00:00"})], tmp_path)
    (offset,), _ = _read([json.dumps({**CALL, "ts": "2024-05-01T14:00:00+02:00"})], tmp_path)
    assert naive["ts"] == offset["ts"] == 1714564800.0


@pytest.mark.parametrize(
    ("ts", "unit"),
    [
        (1714564800, "epoch_s"),
        (1714564800.0, "epoch_s"),
        ("1714564800", "epoch_s"),
        (1714564800000, "epoch_ms"),
        (1714564800000000, "epoch_us"),
        (1714564800000000000, "epoch_ns"),
        ("2024-05-01T12:00:00Z", "iso"),
    ],
)
def test_epoch_times_are_told_apart_by_magnitude_and_the_unit_is_counted(
    ts: object, unit: str, tmp_path: Path
) -> None:
    (record,), tally = _read([json.dumps({**CALL, "ts": ts})], tmp_path)
    assert record["ts"] == 1714564800.0
    assert tally.time_units == {unit: 1}


@pytest.mark.parametrize("ts", [-5, 1e30, "57464-01-01", float("nan"), True, {"at": 1}])
def test_an_impossible_time_is_a_counted_bad_record_not_a_crash(ts: object, tmp_path: Path) -> None:
    records, tally = _read([json.dumps(CALL), json.dumps({**CALL, "ts": ts})], tmp_path)
    assert len(records) == 1
    assert [(m.line, m.reason.split(":")[0]) for m in tally.examples] == [(2, "ts")]


def test_malformed_lines_are_counted_with_their_line_numbers_and_reasons(tmp_path: Path) -> None:
    lines = [
        json.dumps(CALL),
        "{not json",
        json.dumps({**CALL, "ts": "yesterday"}),
        "",
        json.dumps({k: v for k, v in CALL.items() if k != "latency_ms"}),
        json.dumps([1, 2]),
        json.dumps({**CALL, "status": "maybe"}),
        json.dumps({**CALL, "input_tokens": -3}),
        json.dumps(CALL),
    ]
    records, tally = _read(lines, tmp_path)
    assert len(records) == 2
    assert tally.total == 8  # the blank line is not a record
    assert tally.malformed == 6
    assert [(m.line, m.reason.split(":")[0]) for m in tally.examples] == [
        (2, "invalid JSON"),
        (3, "ts"),
        (5, "latency_ms"),
        (6, "not a JSON object"),
        (7, "status"),
        (8, "input_tokens"),
    ]
    assert all(m.path == "<stdin>" for m in tally.examples)


def test_feedback_events_are_validated(tmp_path: Path) -> None:
    lines = [
        {"ts": "2024-05-01T12:00:00Z", "task_id": "t1", "event": "thumbs_down"},
        {"ts": "2024-05-01T12:00:00Z", "task_id": "t1", "event": "csat", "value": 4},
        {"ts": "2024-05-01T12:00:00Z", "task_id": "t1", "event": "csat", "value": 9},
        {"ts": "2024-05-01T12:00:00Z", "task_id": "t1", "event": "shrug"},
        {"ts": "2024-05-01T12:00:00Z", "event": "accepted"},
    ]
    events, tally = read(tmp_path, "feedback", [json.dumps(line) for line in lines])
    assert [e["value"] for e in events][1] == 4.0
    assert len(events) == 2
    assert [(m.line, m.reason.split(":")[0]) for m in tally.examples] == [
        (3, "value"),
        (4, "event"),
        (5, "task_id"),
    ]


def test_gzipped_logs_are_read(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(CALL) + "\n")
    records, _ = read(tmp_path, "call", [], (str(path),))
    assert len(records) == 1


def test_a_glob_matching_nothing_is_a_log_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(LogError, match="no file matches") as caught:
        resolve_paths([str(tmp_path / "logs" / "*.jsonl")])
    assert caught.value.exit_code == 2
    assert str(tmp_path / "logs") in str(caught.value)


def test_a_missing_log_file_stops_the_run_with_exit_2(tmp_path: Path) -> None:
    write_evalset(tmp_path)
    config = write_config(tmp_path, calls="logs/calls.jsonl", feedback="logs/feedback.jsonl")
    with pytest.raises(LogError, match=r"no such file .*calls\.jsonl") as caught:
        run_monitor(config)
    assert caught.value.exit_code == 2


def _logs_with_bad_lines(directory: Path, bad: int) -> tuple[Path, int]:
    write_evalset(directory)
    calls, feedback = generate(calls_per_day=200, seed=4)
    write_jsonl(directory / "calls.jsonl", calls)
    with (directory / "calls.jsonl").open("a", encoding="utf-8") as handle:
        handle.write("garbage\n" * bad)
    write_jsonl(directory / "feedback.jsonl", feedback)
    return write_config(directory, calls="calls.jsonl", feedback="feedback.jsonl"), len(calls)


def test_a_few_malformed_lines_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    config, good = _logs_with_bad_lines(tmp_path, bad=3)
    result = run_monitor(config)
    assert result.malformed.calls_malformed == 3
    assert result.malformed.calls_read == good + 3
    lines = [(Path(m.path).name, m.line) for m in result.malformed.examples]
    assert lines == [
        ("calls.jsonl", good + 1),
        ("calls.jsonl", good + 2),
        ("calls.jsonl", good + 3),
    ]


def test_malformed_lines_above_the_configured_share_are_a_log_error(tmp_path: Path) -> None:
    config, good = _logs_with_bad_lines(tmp_path, bad=40)
    with pytest.raises(LogError, match=r"malformed .*above max_malformed_share") as caught:
        run_monitor(config)
    assert caught.value.exit_code == 2
    assert caught.value.line == good + 1
    assert caught.value.path is not None
    assert caught.value.path.endswith("calls.jsonl")


def test_csv_rows_are_numbered_by_their_line_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(
        "ts,task_id,input,latency_ms,input_tokens,output_tokens,status,fallback\n"
        "2024-05-01T12:00:00Z,t1,hello,100,10,5,ok,false\n"
        "2024-05-01T12:00:00Z,t1,hello,slow,10,5,ok,false\n"
        "2024-05-01T12:00:00Z,t2,hello,100,10,5,ok,maybe\n",
        encoding="utf-8",
    )
    records, tally = read(tmp_path, "call", [], (str(path),))
    assert [r["task_id"] for r in records] == ["t1"]
    assert [(m.line, m.reason.split(":")[0]) for m in tally.examples] == [
        (3, "latency_ms"),
        (4, "fallback"),
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("input_tokens", 10**30),
        ("output_tokens", 1.5),
        ("latency_ms", "Infinity"),
        ("cost_usd", -0.1),
        ("input", {"messages": []}),
        ("task_id", ["t"]),
        ("fallback", "perhaps"),
    ],
)
def test_a_value_of_the_wrong_kind_is_a_counted_bad_record(
    field: str, value: object, tmp_path: Path
) -> None:
    records, tally = _read([json.dumps({**CALL, field: value}), json.dumps(CALL)], tmp_path)
    assert len(records) == 1
    assert [(m.line, m.reason.split(":")[0]) for m in tally.examples] == [(1, field)]


def test_json_nested_past_the_parser_and_csv_fields_past_its_limit_are_bad_records(
    tmp_path: Path,
) -> None:
    jsonl = tmp_path / "calls.jsonl"
    jsonl.write_text("[" * 100_000 + "\n" + json.dumps(CALL) + "\n", encoding="utf-8")
    records, tally = read(tmp_path / "jsonl", "call", [], (str(jsonl),))
    assert len(records) == 1
    assert [(m.line, m.reason) for m in tally.examples] == [(1, "invalid JSON: nested too deeply")]
    path = tmp_path / "calls.csv"
    header = "ts,task_id,input,latency_ms,input_tokens,output_tokens,status\n"
    row = "2024-05-01T12:00:00Z,t1,{},100,10,5,ok\n"
    path.write_text(header + row.format("x" * 200_000) + row.format("hello"), encoding="utf-8")
    records, tally = read(tmp_path / "csv", "call", [], (str(path),))
    assert [r["input"] for r in records] == ["hello"]
    assert [(m.line, m.reason.split(":")[0]) for m in tally.examples] == [(2, "unreadable CSV")]
