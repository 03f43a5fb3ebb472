"""What happens after a verdict: the run joins the history, the report files are written, CI is
told (annotations, step summary) and the alert channels are notified. Nothing here changes the
verdict or the exit code; a failed delivery is reported, not raised.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

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


def publish(
    comparison: Comparison,
    config: SuiteConfig,
    paths: ReportPaths,
    *,
    record: bool = True,
    notify: bool = True,
    env: Mapping[str, str] | None = None,
) -> Published:
    env = os.environ if env is None else env
    alerts = parse_alerts_config(config.alerts, config.path, config.line_of)
    previous = history.last_verdict(config.history_path, config.suite)
    rows = history.with_current(history.recent(config.history_path, config.suite), comparison)
    if record:
        history.record(config.history_path, comparison)
    written = write_reports(comparison, paths, config, rows)
    annotations = github.annotation_lines(comparison) if github.in_github_actions(env) else []
    if env.get("GITHUB_STEP_SUMMARY"):
        github.append_step_summary(render_markdown(comparison, rows), env)
    deliveries: list[DeliveryResult] = []
    if notify and alerts.channels:
        from canary_eval.notify.channels import deliver_all
        from canary_eval.notify.lifecycle import state_path

        link = (
            str(paths.html) if paths.html not in (None, STDOUT) and not alerts.report_url else None
        )
        deliveries = deliver_all(
            comparison,
            alerts,
            previous_verdict=previous,
            report_link=link,
            env=env,
            state_file=state_path(config.history_path, config.suite),
        )
    return Published(written, annotations, deliveries)
