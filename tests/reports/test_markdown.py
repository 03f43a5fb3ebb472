"""The Markdown report: GitHub tables whose cells cannot be broken by model output."""

from __future__ import annotations

import re
from pathlib import Path

from canary_eval.reports.markdown import cell, render_markdown, write_markdown
from canary_eval.verdict.compare import Comparison

from factories import SCRIPT_OUTPUT, comparison, history_row


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def tables(text: str) -> list[list[str]]:
    found: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    return [*found, current] if current else found


def test_renders_gfm_tables_with_a_header_separator_row(regression: Comparison) -> None:
    text = render_markdown(regression)
    found = tables(text)
    assert len(found) >= 5
    for table in found:
        assert re.fullmatch(r"\| (---:?|:?---)( \| ---:?)* \|", table[1]), table[1]
        # Every row has as many cells as the header: no output broke out of its cell.
        assert {unescaped_pipes(row) for row in table} == {unescaped_pipes(table[0])}


def test_starts_with_the_verdict(regression: Comparison) -> None:
    assert render_markdown(regression).startswith("## ❌ canary support-bot: REGRESSION (exit 1)")


def test_model_output_is_escaped_in_its_cell(regression: Comparison) -> None:
    text = render_markdown(regression)
    row = next(line for line in text.splitlines() if line.startswith("| billing-00 "))
    assert "&lt;script&gt;alert\\(1\\)" not in row  # parentheses need no escape
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row
    assert "\\| pipes \\|" in row
    assert "and<br>a new line &amp; more" in row
    assert "<script" not in text


def test_cell_escapes_markdown_punctuation_and_clips_long_text() -> None:
    assert cell("*bold* _it_ [link](x) `code`") == r"\*bold\* \_it\_ \[link\](x) \`code\`"
    assert cell("a\r\nb") == "a<br>b"
    assert cell("x" * 500).endswith("…")


def test_cell_breaks_mentions_and_drops_terminal_escapes() -> None:
    assert cell("ping @octocat and @team/x, mail a@b") == (
        "ping @\u200boctocat and @\u200bteam/x, mail a@\u200bb"
    )
    assert cell("\x1b[31mred\x1b[0m \x1b]0;title\x07") == "red"
    assert len(cell("x" * 500)) == 200
    assert SCRIPT_OUTPUT not in cell(SCRIPT_OUTPUT)


def test_lists_alerts_intents_figures_and_changed_cases(regression: Comparison) -> None:
    text = render_markdown(regression)
    for heading in (
        "### Alerts",
        "### Per intent",
        "### Behaviour and operations",
        "### Cases that changed (top 10 of 12)",
    ):
        assert heading in text
    assert "| billing | 20 | 0.400 | 1.000 | -60.0% |" in text
    billing = next(r for r in regression.intents if r.intent == "billing")
    assert "| p (Holm) | pages from |" in text
    assert f"| {billing.min_detectable_drop:.1%} | ❌ regressed |" in text
    assert (
        f"pages on drops of {regression.quality.min_paged_drop:.1%} or more within 6 runs" in text
    )
    assert "**changed**: sim-stable \\(fp\\_a\\)" not in text  # only md-significant escapes
    assert "**changed**: sim-stable (fp\\_a) → sim-drift (fp\\_b)" in text


def test_a_passing_run_has_no_alert_or_changed_case_tables(passing: Comparison) -> None:
    text = render_markdown(passing)
    assert "## ✅ canary support-bot: PASS (exit 0)" in text
    assert "### Alerts" not in text
    assert "Cases that changed" not in text


def test_history_adds_a_sparkline_trend_ending_with_this_run(regression: Comparison) -> None:
    rows = [history_row(score) for score in (0.8, 0.9, 1.0)]
    text = render_markdown(regression, rows)  # this run (0.7) is not recorded yet
    assert "**Trend** (4 runs, oldest first): score `▃▆█▁`" in text


def test_write_markdown_writes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "canary.md"
    write_markdown(comparison("suspect"), path)
    assert path.read_text(encoding="utf-8").startswith("## ⚠️ canary support-bot: SUSPECT")
