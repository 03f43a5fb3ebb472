"""Run history in SQLite: every run's summary, safe when two cron runs overlap."""

from __future__ import annotations

import multiprocessing
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

from canary_eval.store.history import (
    HistoryRow,
    last_checked_model,
    last_served_model,
    last_verdict,
    recent,
    record,
    record_model_check,
    summary_row,
    with_current,
)
from canary_eval.verdict.compare import Comparison

from factories import comparison


def test_a_recorded_run_reads_back_with_every_figure(tmp_path: Path) -> None:
    db = tmp_path / "state" / "history.sqlite"
    run = comparison("regression")
    record(db, run)
    (row,) = recent(db, "support-bot")
    assert row == summary_row(run)
    assert row.verdict == "regression"
    assert row.exit_code == 1
    assert (row.score, row.baseline_score) == (0.7, 1.0)
    assert row.intents == {"billing": 0.4, "shipping": 1.0}
    assert (row.latency_p50_ms, row.latency_p95_ms) == (300.0, 300.0)
    assert (row.mean_chars, row.refusal_rate, row.hedging_rate) == (200.0, 0.0, 0.0)
    assert row.served_model == "sim-drift (fp_b)"
    assert row.breached == 4
    assert row.time == "2024-05-07T14:00:00+00:00"
    assert row.prompt_hash == "p1"


def test_a_database_from_before_prompt_hashes_reads_and_then_gains_the_column(
    tmp_path: Path,
) -> None:
    db = tmp_path / "history.sqlite"
    record(db, comparison("pass"))
    with sqlite3.connect(db) as old:  # as the first release wrote it
        old.execute("ALTER TABLE runs DROP COLUMN prompt_hash")
    (before,) = recent(db, "support-bot")
    assert before.prompt_hash is None
    record(db, comparison("regression"))
    rows = recent(db, "support-bot")
    assert [r.prompt_hash for r in rows] == [None, "p1"]


def test_recent_is_oldest_first_per_suite_and_limited(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    for hour in range(5):
        record(db, comparison("pass", created_at=f"2024-05-07T1{hour}:00:00+00:00"))
    other = comparison("pass")
    record(db, replace_suite(other, "other-bot"))
    times = [r.time[11:13] for r in recent(db, "support-bot", limit=3)]
    assert times == ["12", "13", "14"]
    assert len(recent(db, "other-bot")) == 1


def test_last_verdict_and_served_model_follow_the_latest_run(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    assert last_verdict(db, "support-bot") is None
    assert last_served_model(db, "support-bot") is None
    record(db, comparison("regression"))
    assert (last_verdict(db, "support-bot"), last_served_model(db, "support-bot")) == (
        "regression",
        "sim-drift (fp_b)",
    )
    record(db, comparison("pass"))
    assert (last_verdict(db, "support-bot"), last_served_model(db, "support-bot")) == (
        "pass",
        "sim-stable (fp_a)",
    )


def test_model_checks_remember_what_the_probe_said(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    assert last_checked_model(db, "support-bot") is None
    record_model_check(db, "support-bot", "sim-stable (fp_a)")
    record_model_check(db, "support-bot", "sim-drift (fp_b)")
    record_model_check(db, "other", None)
    assert last_checked_model(db, "support-bot") == "sim-drift (fp_b)"
    assert last_checked_model(db, "other") is None


def test_reading_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "nope" / "history.sqlite"
    assert recent(db, "support-bot") == []
    assert last_verdict(db, "support-bot") is None
    assert not db.parent.exists()


def test_the_database_is_in_wal_mode(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    record(db, comparison("pass"))
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def writer(db: str, name: str, rows: int, start: Any) -> None:
    run = comparison("pass")
    start.wait(timeout=60)  # both processes write at once
    for i in range(rows):
        record(Path(db), replace_time(run, f"{name}-{i:03d}"))


def test_two_overlapping_writers_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    # Fork where there is fork: the writers start at once instead of re-importing everything.
    methods = multiprocessing.get_all_start_methods()
    context: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    start = context.Barrier(2)
    workers = [
        context.Process(target=writer, args=(str(db), name, 50, start)) for name in ("a", "b")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    rows = recent(db, "support-bot", limit=1000)
    assert len(rows) == 100
    assert {r.time for r in rows} == {f"{n}-{i:03d}" for n in "ab" for i in range(50)}
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_with_current_appends_this_run_unless_already_recorded(tmp_path: Path) -> None:
    run = comparison("pass")
    recorded = summary_row(run)
    assert with_current([], run) == [recorded]
    assert with_current([recorded], run) == [recorded]
    older = replace_row_time(recorded, "2024-05-06T14:00:00+00:00")
    assert with_current([older], run) == [older, recorded]


def replace_suite(c: Comparison, suite: str) -> Comparison:
    return replace(c, suite=suite)


def replace_time(c: Comparison, created_at: str) -> Comparison:
    return replace(c, run=replace(c.run, info=replace(c.run.info, created_at=created_at)))


def replace_row_time(row: HistoryRow, time: str) -> HistoryRow:
    return replace(row, time=time)
