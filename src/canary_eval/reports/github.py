"""GitHub Actions: breached gates as `::error::` workflow commands, and the Markdown report
appended to the job's step summary (`$GITHUB_STEP_SUMMARY`).

The core never prints: `annotation_lines` returns the command lines and the CLI writes them to
standard output, where the runner picks them up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from canary_eval.reports.control import plain
from canary_eval.store.baseline import write_atomic
from canary_eval.verdict.compare import Comparison


def in_github_actions(env: Mapping[str, str] | None = None) -> bool:
    return (os.environ if env is None else env).get("GITHUB_ACTIONS") == "true"


def annotation_lines(comparison: Comparison) -> list[str]:
    """One `::error::` line per breached gate (a blown error budget is one), one `::warning::`
    per warning that does not fail the run (a suspect drop). Informational alerts stay out."""
    c = comparison
    lines = []
    for alert in c.alerts:
        if alert.failing:
            level = "error"
        elif alert.severity == "warn":
            level = "warning"
        else:
            continue
        where = f" ({alert.intent})" if alert.intent else ""
        title = f"canary {c.suite}: {alert.layer} {alert.metric}{where}"
        lines.append(_command(level, title, alert.message))
    return lines


def append_step_summary(markdown: str, env: Mapping[str, str] | None = None) -> Path | None:
    """Append to the step summary when `GITHUB_STEP_SUMMARY` is set; the file it wrote, or None.

    The step's summary file belongs to this step alone, so reading it and writing the whole
    back atomically is an append that no reader ever sees half done.
    """
    target = (os.environ if env is None else env).get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if existing and not existing.endswith("\n"):
        existing += "\n"
    write_atomic(path, existing + markdown.rstrip("\n") + "\n")
    return path


def _command(level: str, title: str, message: str) -> str:
    return f"::{level} title={_escape_property(title)}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    # The workflow-command escapes the runner itself decodes; control and escape sequences from
    # data (an ANSI colour, an OSC title in a model's output) are dropped, not passed to the log.
    return plain(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
