"""Terminal, Markdown and HTML reports of a monitor run."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from canary_eval.models import Alert
from canary_eval.monitor import MonitorResult, run_monitor
from canary_eval.monitor.report import render_html, render_markdown, render_terminal

from .conftest import generate, write_config, write_evalset, write_jsonl


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> MonitorResult:
    directory: Path = tmp_path_factory.mktemp("report")
    write_evalset(directory)
    calls, feedback = generate(calls_per_day=400, drift=True, seed=5)
    write_jsonl(directory / "calls.jsonl", calls)
    write_jsonl(directory / "feedback.jsonl", feedback)
    config = write_config(
        directory,
        calls="calls.jsonl",
        feedback="feedback.jsonl",
        alerting={"severity": {"drift": "page"}},
    )
    return run_monitor(config)


def test_the_terminal_shows_the_verdict_first_then_alerts_and_the_intent_table(
    result: MonitorResult,
) -> None:
    out = io.StringIO()
    render_terminal(result, Console(file=out, width=220, color_system=None))
    text = out.getvalue()
    assert text.splitlines()[0].startswith("support-bot: REGRESSION (exit 1)")
    assert "[drift]" in text
    assert "per intent" in text
    for intent in ("billing", "disputes", "other"):
        assert intent in text
    assert "cross-validated accuracy" in text


def test_markdown_has_alerts_and_one_table_row_per_intent(result: MonitorResult) -> None:
    text = render_markdown(result)
    assert "**support-bot: REGRESSION" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 1 + len(result.intents)  # header, overall, intents
    assert "no longer represents production" in text


def test_html_is_self_contained_and_escapes_what_the_logs_say(result: MonitorResult) -> None:
    hostile = Alert(layer="drift", metric="uncovered_share", message="<script>x</script> & co")
    page = render_html(replace(result, alerts=(hostile,)))
    assert page.startswith("<!DOCTYPE html>")
    assert "<script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt; &amp; co" in page
    assert "<style>" in page
    assert "http" not in page.split("<body>")[0]
