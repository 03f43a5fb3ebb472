"""GitHub Actions: `::error::` annotations for breached gates and the step summary."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from canary_eval.models import Alert
from canary_eval.reports.github import annotation_lines, append_step_summary, in_github_actions
from canary_eval.verdict.compare import Comparison


def test_each_breached_gate_becomes_one_error_annotation(regression: Comparison) -> None:
    lines = annotation_lines(regression)
    errors = [line for line in lines if line.startswith("::error ")]
    assert len(errors) == sum(a.failing for a in regression.alerts) == 4
    assert errors[0] == (
        "::error title=canary support-bot%3A quality score::canary score fell 30.0%25 below "
        "its reference, above the 3.0%25 limit (z=4.1 on this run alone, no history yet)"
    )
    assert any("intent score (billing)" in line for line in errors)
    assert not any("served model" in line for line in lines)  # an info alert stays out


def test_a_suspect_drop_is_a_warning_and_a_blown_budget_an_error(
    suspect: Comparison, errored: Comparison
) -> None:
    assert [line.split(" ", 1)[0] for line in annotation_lines(suspect)] == ["::warning"]
    assert annotation_lines(errored)[0].startswith(
        "::error title=canary support-bot%3A ops error_budget::could not evaluate: "
    )


def test_newlines_cannot_start_a_new_workflow_command(regression: Comparison) -> None:
    sneaky = Alert("intent", "score", "fell\n::error::forged\r%", intent="a,b:c")
    (line,) = annotation_lines(replace(regression, alerts=(sneaky,)))
    assert "\n" not in line
    assert (
        line == "::error title=canary support-bot%3A intent score (a%2Cb%3Ac)::"
        "fell%0A::error::forged%0D%25"
    )


def test_the_step_summary_is_appended_when_the_variable_is_set(tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step")
    assert append_step_summary("## canary\n", {"GITHUB_STEP_SUMMARY": str(summary)}) == summary
    append_step_summary("## again", {"GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.read_text() == "earlier step\n## canary\n## again\n"


def test_no_step_summary_outside_github_actions(tmp_path: Path) -> None:
    assert append_step_summary("## canary", {}) is None
    assert not in_github_actions({})
    assert in_github_actions({"GITHUB_ACTIONS": "true"})
