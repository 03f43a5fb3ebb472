"""PagerDuty Events API v2: a `trigger` per paging incident (its most likely cause in the
summary) and a `resolve` on every run that does not page, both under one `dedup_key` per suite,
so one PagerDuty incident follows the suite's state."""

from __future__ import annotations

import hashlib
import socket
from typing import Any

from canary_eval.notify.summary import breached_gates, clip, headline, model_line, score_line
from canary_eval.verdict.compare import Comparison
from canary_eval.verdict.incidents import Incident

SEVERITY = {"regression": "critical", "error": "error", "suspect": "warning", "pass": "info"}
# The Events API v2's limits: longer fields are rejected (dedup_key) or cut (summary).
MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024
MAX_FIELD = 255  # source, component, group, class: kept short so the incident list reads


def dedup_key(suite: str) -> str:
    """Stable per suite: every run of the suite updates the same incident. A key past 255
    characters keeps its head and replaces the tail with a hash of the whole, still unique."""
    key = f"canary-{suite}"
    if len(key) <= MAX_DEDUP_KEY:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"{key[: MAX_DEDUP_KEY - len(digest) - 1]}~{digest}"


def trigger_event(
    comparison: Comparison,
    routing_key: str,
    *,
    source: str | None = None,
    report_link: str | None = None,
    incident: Incident | None = None,
) -> dict[str, Any]:
    c, q = comparison, comparison.quality
    return trigger(
        routing_key,
        subject=c.suite,
        component=c.suite,
        summary=headline(c),
        incident=incident,
        source=source,
        severity=SEVERITY[c.verdict],
        group="canary",
        verdict=c.verdict,
        details={
            "verdict": c.verdict,
            "exit_code": c.exit_code,
            "score": score_line(c),
            "relative_drop": q.relative_drop,
            "p_value": q.p_value,
            "served_model": model_line(c),
            "breached_gates": breached_gates(c),
            "run_created_at": c.run.info.created_at,
        },
        link=(report_link, "canary report"),
    )


def trigger(
    routing_key: str,
    *,
    subject: str,
    component: str,
    summary: str,
    incident: Incident | None,
    source: str | None,
    severity: str,
    group: str,
    verdict: str,
    details: dict[str, Any],
    link: tuple[str | None, str],
) -> dict[str, Any]:
    """One Events API v2 trigger for `subject` (a suite, or `monitor-<name>`), every field
    within the API's limits, the incident's likely cause in the summary."""
    if incident is not None:
        summary += f"; likely cause: {incident.cause.summary}"
    causes = [cause.summary for cause in incident.causes] if incident else []
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key(subject),
        "payload": {
            "summary": clip(summary, MAX_SUMMARY),
            "source": clip(source or socket.gethostname() or "canary", MAX_FIELD),
            "severity": severity,
            "component": clip(component, MAX_FIELD),
            "group": group,
            "class": verdict,
            "custom_details": {**details, "causes": causes},
        },
        "client": "canary-eval",
    }
    href, text = link
    if href:
        event["client_url"] = href
        event["links"] = [{"href": href, "text": text}]
    return event


def resolve_event(suite: str, routing_key: str) -> dict[str, Any]:
    return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key(suite)}
