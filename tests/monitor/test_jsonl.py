"""Canonical JSONL read in place by DuckDB: the same records, counts and line numbers as the
line reader, and files it would read differently left to the line reader."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from canary_eval.monitor.engine.base import CALL_SCHEMA, FEEDBACK_SCHEMA, load
from canary_eval.monitor.engine.duckdb import DuckDBEngine
from canary_eval.monitor.readers import Logs, ShapeOptions, Tally, jsonl, read_logs
from canary_eval.monitor.readers.rows import MAX_LINE

from .conftest import CALL

# Every way a line can be good or bad, each once; the line reader's verdict is the reference.
LINES = [
    json.dumps(CALL),
    "{not json",
    "",
    "   \t",
    json.dumps([1, 2]),
    json.dumps("a string"),
    json.dumps({**CALL, "ts": "yesterday"}),
    json.dumps({**CALL, "ts": 1714564800123}),
    json.dumps({**CALL, "ts": "1714564800"}),
    json.dumps({**CALL, "ts": True}),
    json.dumps({**CALL, "ts": {"at": 1}}),
    json.dumps({**CALL, "ts": -5}),
    json.dumps({k: v for k, v in CALL.items() if k != "latency_ms"}),
    json.dumps({**CALL, "latency_ms": "12.5"}),
    json.dumps({**CALL, "latency_ms": -1}),
    json.dumps({**CALL, "input": {"messages": []}}),
    json.dumps({**CALL, "input": None}),
    json.dumps({**CALL, "input": "naïve — ünïcode ✓"}),
    json.dumps({**CALL, "task_id": ["t"]}),
    json.dumps({**CALL, "task_id": 17}),
    json.dumps({**CALL, "task_id": ""}),
    json.dumps({**CALL, "input_tokens": 1.5}),
    json.dumps({**CALL, "input_tokens": 10**30}),
    json.dumps({**CALL, "status": "maybe"}),
    json.dumps({**CALL, "status": 429}),
    json.dumps({**CALL, "status": "SUCCESS"}),
    json.dumps({**CALL, "fallback": "yes"}),
    json.dumps({**CALL, "fallback": "perhaps"}),
    json.dumps({**CALL, "cost_usd": 0.002, "intent": "billing"}),
    json.dumps({**CALL, "cost_usd": -0.1}),
    json.dumps({**CALL, "intent": ""}),
    json.dumps({**CALL, "model": None}) + "\r",
    json.dumps(CALL),
]


def _read(
    paths: list[Path],
    staging: Path,
    *,
    in_place: bool,
    stream: str = "call",
    options: ShapeOptions | None = None,
) -> tuple[Logs, list[Any]]:
    """The logs as read, and every row the engine then holds for the stream."""
    files, how = tuple(map(str, paths)), options or ShapeOptions()
    logs = read_logs(
        files if stream == "call" else (),
        files if stream == "feedback" else (),
        formats=(None, None),
        options=(how, how),
        staging=staging,
        jsonl_in_place=in_place,
    )
    engine = DuckDBEngine()
    schema, view = (
        (CALL_SCHEMA, "calls_all") if stream == "call" else (FEEDBACK_SCHEMA, "feedback_all")
    )
    try:
        load(engine, logs, None, statuses=how.statuses, latency_unit=how.latency_unit)
        columns = ", ".join(name for name, _ in schema)
        rows = engine.rows(f"SELECT {columns} FROM {view} ORDER BY ALL")
    finally:
        engine.close()
    return logs, rows


def _both(paths: list[Path], tmp_path: Path, **how: Any) -> tuple[tuple[Logs, list[Any]], ...]:
    """Read in place, then by the line reader."""
    return tuple(
        _read(paths, tmp_path / f"staging-{in_place}", in_place=in_place, **how)
        for in_place in (True, False)
    )


def _same_tallies(got: Tally, want: Tally) -> None:
    assert (got.total, got.malformed, got.time_units) == (
        want.total,
        want.malformed,
        want.time_units,
    )
    assert [(m.path, m.line) for m in got.examples] == [(m.path, m.line) for m in want.examples]
    assert [m.reason.split(":")[0] for m in got.examples] == [
        m.reason.split(":")[0] for m in want.examples
    ]


def _lines(path: Path, lines: list[str]) -> Path:
    text = "".join(line + "\n" for line in lines).encode()
    path.write_bytes(gzip.compress(text) if path.suffix.lower() == ".gz" else text)
    return path


@pytest.mark.parametrize("name", ["calls.jsonl", "calls.ndjson.gz", "CALLS.JSONL.GZ"])
def test_a_file_read_in_place_gives_the_line_readers_records_counts_and_line_numbers(
    name: str, tmp_path: Path
) -> None:
    path = _lines(tmp_path / name, LINES)

    (in_place, rows), (line_reader, expected) = _both([path], tmp_path)

    assert in_place.calls.jsonl == (str(path),)
    assert line_reader.calls.jsonl == ()
    assert rows == expected
    assert len(rows) == 13
    _same_tallies(in_place.calls_tally, line_reader.calls_tally)


def test_renamed_and_nested_fields_units_and_status_words_are_read_as_by_the_line_reader(
    tmp_path: Path,
) -> None:
    record = {
        "when": 1714564800,
        "meta": {"trace": "t1", "user": {"intent": "billing"}},
        "prompt": "Where is my parcel?",
        "secs": 0.8125,
        "usage": {"in": 200, "out": 100},
        "outcome": "SUCCESS",
    }
    lines = [
        json.dumps(record),
        json.dumps({**record, "outcome": "declined"}),
        json.dumps({**record, "meta": {"trace": 5}, "secs": "1.5", "outcome": "failure"}),
        json.dumps({**record, "meta": "flat"}),
        json.dumps({**record, "usage": {"in": "x"}}),
    ]
    path = _lines(tmp_path / "calls.jsonl", lines)
    options = ShapeOptions(
        fields={
            "ts": "when",
            "task_id": "meta.trace",
            "intent": "meta.user.intent",
            "input": "prompt",
            "latency_ms": "secs",
            "input_tokens": "usage.in",
            "output_tokens": "usage.out",
            "status": "outcome",
        },
        statuses={"declined": "error"},
        latency_unit="s",
    )

    (in_place, rows), (line_reader, expected) = _both([path], tmp_path, options=options)

    assert in_place.calls.jsonl == (str(path),)
    assert rows == expected
    assert [(r[1], r[3], r[4], r[8]) for r in rows] == [
        ("5", None, 1500.0, "error"),
        ("t1", "billing", 812.5, "error"),
        ("t1", "billing", 812.5, "ok"),
    ]
    _same_tallies(in_place.calls_tally, line_reader.calls_tally)


def test_feedback_events_are_read_in_place_as_by_the_line_reader(tmp_path: Path) -> None:
    event = {"ts": "2024-05-01T12:00:00+02:00", "task_id": "t1", "event": "thumbs_down"}
    lines = [
        json.dumps(event),
        json.dumps({**event, "event": " CSAT ", "value": 4}),
        json.dumps({**event, "event": "csat", "value": "5"}),
        json.dumps({**event, "event": "csat", "value": 9}),
        json.dumps({**event, "event": "csat"}),
        json.dumps({**event, "event": "shrug"}),
        json.dumps({**event, "task_id": None}),
        json.dumps({**event, "ts": 1714564800000000}),
        "[]",
    ]
    path = _lines(tmp_path / "feedback.jsonl", lines)

    (in_place, rows), (line_reader, expected) = _both([path], tmp_path, stream="feedback")

    assert in_place.feedback.jsonl == (str(path),)
    assert rows == expected
    assert len(rows) == 4
    _same_tallies(in_place.feedback_tally, line_reader.feedback_tally)


def test_lines_are_numbered_per_file_in_file_order(tmp_path: Path) -> None:
    # Large enough that DuckDB reads each file on several threads.
    good = json.dumps(CALL)
    bad_at = {3, 77_777, 149_999}
    first = _lines(
        tmp_path / "a.jsonl", ["garbage" if n in bad_at else good for n in range(1, 150_001)]
    )
    second = _lines(tmp_path / "b.jsonl", [good, good, "[]", good])

    logs, rows = _read([first, second], tmp_path / "staging", in_place=True)

    assert logs.calls.jsonl == (str(first), str(second))
    assert len(rows) == 150_000 - 3 + 3
    assert [(Path(m.path).name, m.line, m.reason) for m in logs.calls_tally.examples] == [
        ("a.jsonl", 3, "invalid JSON"),
        ("a.jsonl", 77_777, "invalid JSON"),
        ("a.jsonl", 149_999, "invalid JSON"),
        ("b.jsonl", 3, "not a JSON object"),
    ]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("not-utf8.jsonl", json.dumps(CALL).encode() + b"\n\xff" + json.dumps(CALL).encode()),
        ("separator.jsonl", json.dumps(CALL).encode() + b"\n{\x1f}\n"),
        ("long-line.jsonl", json.dumps(CALL).encode() + b"\n" + b"x" * (MAX_LINE + 1)),
    ],
)
def test_a_file_duckdb_would_read_otherwise_is_left_to_the_line_reader(
    name: str, content: bytes, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_bytes(content + b"\n")

    (logs, rows), (_, expected) = _both([path], tmp_path)

    assert logs.calls.jsonl == ()
    assert rows == expected


@pytest.mark.parametrize(
    ("lengths", "readable"),
    [([5, 10, 3], True), ([10, 11], False), ([3, 10, 10, 2], True), ([30], False), ([], True)],
)
def test_a_line_longer_than_the_limit_is_found_across_chunks(
    lengths: list[int], readable: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonl, "_CHUNK", 4)
    monkeypatch.setattr(jsonl, "MAX_LINE", 10)
    path = tmp_path / "calls.jsonl"
    path.write_bytes(b"\n".join(b"x" * n for n in lengths))

    assert jsonl.readable_in_place(str(path)) is readable


@pytest.mark.parametrize(
    ("content", "readable"),
    [
        ("añb€c✓d".encode(), True),  # characters split across chunks
        (b"abc\xe2\x82", False),  # a character cut off at the end
        (b"abcdefgh\xff", False),  # a bad byte after ASCII chunks
        (b"ab\xe2\x82abcd\xacxyz", False),  # a character broken by an ASCII chunk
    ],
)
def test_text_that_is_not_utf8_is_found_across_chunks(
    content: bytes, readable: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonl, "_CHUNK", 4)
    path = tmp_path / "calls.jsonl"
    path.write_bytes(content)

    assert jsonl.readable_in_place(str(path)) is readable


def test_only_canonical_records_are_read_in_place(tmp_path: Path) -> None:
    litellm = Path(__file__).parent / "fixtures" / "litellm.jsonl"
    canonical = _lines(tmp_path / "calls.jsonl", ["not json", json.dumps(CALL)])

    (logs, _), _ = _both([litellm, canonical], tmp_path)

    assert logs.calls.jsonl == (str(canonical),)
