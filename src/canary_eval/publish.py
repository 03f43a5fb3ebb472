"""What happens after a verdict: the run joins the history, the report files are written, CI is
told (annotations, step summary) and the alert channels are notified.

The verdict and its exit code are decided before any of this, and nothing here changes them or
stops the steps after it: a history or a report that cannot be written (a full or read-only disk)
is a warning, printed on stderr and carried in the alert, and a failed delivery is reported, not
raised. The alert goes out last, so it can say what could not be saved.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from canary_eval.errors import CanaryError
from canary_eval.notify.config import parse_alerts_config
from canary_eval.notify.delivery import DeliveryResult
from canary_eval.reports import github
from canary_eval.reports.destination import STDOUT
from canary_eval.reports.markdown import render_markdown
from canary_eval.reports.writers import ReportPaths, write_reports
from canary_eval.store import history
from canary_eval.suite.config import SuiteConfig
from canary_eval.verdict.compare import Comparison


@dataclass(frozen=True)
class Published:
    reports: list[Path] = field(default_factory=list)
    annotations: list[str] = field(default_factory=list)  # GitHub Actions workflow commands
    deliveries: list[DeliveryResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what could not be saved, one line each


def publish(
    comparison: Comparison,
    config: SuiteConfig,
    paths: ReportPaths,
    *,
    record: bool = True,
    notify: bool = True,
    env: Mapping[str, str] | None = None,
    warnings: Sequence[str] = (),
) -> Published:
    """`warnings` are the caller's own (a `--save-run` that failed); they join the alert."""
    env = os.environ if env is None else env
    alerts = parse_alerts_config(config.alerts, config.path, config.line_of)
    problems = list(warnings)
    previous: str | None = None
    rows = history.with_current([], comparison)
    try:
        previous = history.last_verdict(config.history_path, config.suite)
        rows = history.with_current(history.recent(config.history_path, config.suite), comparison)
    except CanaryError as error:
        # A history that cannot be read is not written to either: one problem, one line.
        problems.append(f"{error}; this run is not recorded" if record else str(error))
        record = False
    if record:
        try:
            history.record(config.history_path, comparison)
        except CanaryError as error:
            problems.append(str(error))
    written = write_reports(comparison, paths, config, rows)
    problems += written.failures
    annotations = github.annotation_lines(comparison) if github.in_github_actions(env) else []
    if env.get("GITHUB_STEP_SUMMARY"):
        try:
            github.append_step_summary(render_markdown(comparison, rows), env)
        except (CanaryError, OSError) as error:
            problems.append(f"step summary: {error}")
    deliveries: list[DeliveryResult] = []
    if notify and alerts.channels:
        from canary_eval.notify.channels import deliver_all
        from canary_eval.notify.lifecycle import state_path

        link = (
            str(paths.html)
            if paths.html in written.paths and paths.html != STDOUT and not alerts.report_url
            else None
        )
        deliveries = deliver_all(
            comparison,
            alerts,
            previous_verdict=previous,
            report_link=link,
            env=env,
            state_file=state_path(config.history_path.parent, config.suite),
            warnings=problems,
        )
    return Published(written.paths, annotations, deliveries, problems)
