"""The run history as a person reads it: sparklines and the table of recent runs."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from canary_eval.reports.history import render_history, sparkline
from canary_eval.store.history import recent, record

from factories import comparison


def test_sparkline_scales_between_the_lowest_and_highest_value() -> None:
    assert sparkline([0.0, 0.5, 1.0]) == "▁▅█"
    assert sparkline([0.3, None, 0.3]) == "▅ ▅"
    assert sparkline([]) == ""
    assert sparkline([None]) == " "


def test_render_history_shows_sparklines_and_marks_a_model_change(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    record(db, comparison("pass", created_at="2024-05-07T12:00:00+00:00"))
    record(db, comparison("pass", created_at="2024-05-07T13:00:00+00:00"))
    record(db, comparison("regression", created_at="2024-05-07T14:00:00+00:00"))
    console = Console(record=True, width=160)
    render_history(recent(db, "support-bot"), console)
    text = console.export_text()
    assert "support-bot: 3 run(s)  score ██▁  p95 ▁▁█" in text
    lines = [line for line in text.splitlines() if "2024-05-07" in line]
    assert len(lines) == 3
    assert "changed" not in lines[1]
    assert "▲ sim-drift (fp_b) (changed)" in lines[2]
    assert "regression" in lines[2]


def test_render_history_with_no_rows_says_so() -> None:
    console = Console(record=True)
    render_history([], console)
    assert "no runs recorded yet" in console.export_text()
