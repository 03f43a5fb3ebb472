"""Canonical Parquet read in place by the engine: any time encoding, bad rows counted by row."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from canary_eval.monitor import run_monitor
from canary_eval.monitor.readers.parquet import literal

from .conftest import generate, write_config, write_evalset, write_jsonl


def test_epoch_millisecond_parquet_with_a_bad_row_and_mapped_statuses(tmp_path: Path) -> None:
    write_evalset(tmp_path)
    calls, feedback = generate(calls_per_day=150, seed=2, with_intent=True)
    for call in calls:
        call["ts"] = int(datetime.fromisoformat(call["ts"]).timestamp() * 1000)
        call["status"] = {"ok": "SUCCESS", "error": "FAILURE"}.get(call["status"], "rate_limited")
    calls[5]["latency_ms"] = -1.0
    staging = write_jsonl(tmp_path / "calls.jsonl", calls)
    duckdb.sql(
        f"COPY (SELECT * FROM read_json_auto({literal(str(staging))})) "
        f"TO {literal(str(tmp_path / 'calls.parquet'))} (FORMAT parquet)"
    )
    staging.unlink()
    write_jsonl(tmp_path / "feedback.jsonl", feedback)
    config = write_config(
        tmp_path,
        calls="calls.parquet",
        feedback="feedback.jsonl",
        status_values={"success": "ok", "failure": "error"},
    )

    result = run_monitor(config)

    assert result.malformed.calls_read == len(calls)
    assert result.malformed.calls_malformed == 1
    (bad,) = result.malformed.examples
    assert (Path(bad.path).name, bad.line) == ("calls.parquet", 6)
    assert bad.reason.startswith("latency_ms")
    assert result.time_units == {
        "calls": {"epoch_ms": len(calls) - 1},
        "feedback": {"iso": len(feedback)},
    }
    ref, cur = result.overall.ops_reference, result.overall.ops_current
    assert ref.errors + cur.errors == sum(c["status"] == "FAILURE" for c in calls)
    assert ref.rate_limited + cur.rate_limited == sum(c["status"] == "rate_limited" for c in calls)
    assert result.models == {"gpt-4o-mini-2024-07-18": cur.calls}
