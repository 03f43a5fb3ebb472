"""PagerDuty Events API v2: a `trigger` per paging incident (its most likely cause in the
summary) and a `resolve` on every run that does not page, both under one `dedup_key` per suite,
so one PagerDuty incident follows the suite's state."""

from __future__ import annotations

import socket
from typing import Any

from canary_eval.notify.summary import breached_gates, headline, model_line, score_line
from canary_eval.verdict.compare import Comparison
from canary_eval.verdict.incidents import Incident

SEVERITY = {"regression": "critical", "error": "error", "suspect": "warning", "pass": "info"}


def dedup_key(suite: str) -> str:
    """Stable per suite: every run of the suite updates the same incident."""
    return f"canary-{suite}"


def trigger_event(
    comparison: Comparison,
    routing_key: str,
    *,
    source: str | None = None,
    report_link: str | None = None,
    incident: Incident | None = None,
) -> dict[str, Any]:
    c, q = comparison, comparison.quality
    summary = headline(c)
    if incident is not None:
        summary += f"; likely cause: {incident.cause.summary}"
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key(c.suite),
        "payload": {
            "summary": summary[:1024],
            "source": source or socket.gethostname() or "canary",
            "severity": SEVERITY[c.verdict],
            "component": c.suite,
            "group": "canary",
            "class": c.verdict,
            "custom_details": {
                "verdict": c.verdict,
                "exit_code": c.exit_code,
                "score": score_line(c),
                "relative_drop": q.relative_drop,
                "p_value": q.p_value,
                "served_model": model_line(c),
                "breached_gates": breached_gates(c),
                "run_created_at": c.run.info.created_at,
                "causes": [cause.summary for cause in incident.causes] if incident else [],
            },
        },
        "client": "canary-eval",
    }
    if report_link:
        event["client_url"] = report_link
        event["links"] = [{"href": report_link, "text": "canary report"}]
    return event


def resolve_event(suite: str, routing_key: str) -> dict[str, Any]:
    return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key(suite)}
