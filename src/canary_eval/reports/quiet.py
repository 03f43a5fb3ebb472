"""`--quiet`'s report: the verdict in one line and, when the run could not be evaluated, a line
per kind of failed call. Plain text: a quiet run (the hourly cron or CI job) does not import
rich for two lines."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from canary_eval.reports.control import plain
from canary_eval.reports.failures import failed_calls, failure_lines

if TYPE_CHECKING:
    from canary_eval.verdict.compare import Comparison

VERDICT_COLOURS = {"pass": "green", "suspect": "yellow", "regression": "red", "error": "magenta"}


def verdict_details(c: Comparison) -> str:
    """The verdict line after its first word: the suite, the score against the baseline, the
    exit code and the gates breached."""
    q = c.quality
    text = f"{plain(c.suite)}: score {number(q.score)} vs baseline {number(q.baseline_score)}"
    text += f" ({-q.relative_drop:+.1%}), exit {c.exit_code}"
    failing = sum(a.failing for a in c.alerts)
    return text + (f", {failing} gate(s) breached" if failing else "")


def failure_notes(c: Comparison) -> list[str]:
    """The lines after the verdict line: the failed calls, when the run could not be evaluated."""
    if c.verdict != "error":
        return []
    return [plain(line) for line in failure_lines(failed_calls(c.run.cases))]


def number(value: float | None, fmt: str = ".3f") -> str:
    return "-" if value is None or math.isnan(value) else format(value, fmt)
