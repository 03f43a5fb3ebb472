"""The generic JSON webhook: the JSON report's summary (no per-case outputs) plus the event."""

from __future__ import annotations

from typing import Any

from canary_eval.reports.json import report_dict
from canary_eval.verdict.compare import Comparison
from canary_eval.verdict.incidents import Incident, incident_dict

SUMMARY_KEYS = (
    "verdict",
    "exit_code",
    "suite",
    "created_at",
    "baseline_created_at",
    "quality",
    "intents",
    "alerts",
    "model_versions",
    "served_model",
    "baseline_model",
    "model_changed",
    "prompt_changed",
    "ops",
    "behaviour",
    "notes",
)


def webhook_payload(
    comparison: Comparison,
    event: str,
    *,
    previous_verdict: str | None = None,
    report_link: str | None = None,
    incident: Incident | None = None,
) -> dict[str, Any]:
    """`event` is "trigger" for a new or changed incident, "remind" for a reminder of an open
    one, "resolve" when it closed; `incident` is its title, severity and causes."""
    report = report_dict(comparison)
    summary = {key: report[key] for key in SUMMARY_KEYS if key in report}
    return {
        "event": event,
        "previous_verdict": previous_verdict,
        "report_url": report_link,
        "incident": incident_dict(incident),
        **summary,
    }
