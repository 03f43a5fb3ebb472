"""Slack incoming-webhook messages: `text` for notifications and `blocks` for the message
itself (verdict, the incident's likely cause, score, breached gates, a link to the report). A
reminder says how long the incident has been open, a changed incident what it was before."""

from __future__ import annotations

from typing import Any

from canary_eval.notify.lifecycle import Step
from canary_eval.notify.summary import (
    breached_gates,
    clip,
    headline,
    model_line,
    recovery,
    score_line,
)
from canary_eval.verdict.compare import Comparison
from canary_eval.verdict.incidents import Incident

MARK = {
    "pass": ":white_check_mark:",
    "suspect": ":warning:",
    "regression": ":x:",
    "error": ":octagonal_sign:",
}


def escape(text: str) -> str:
    """Slack's mrkdwn needs only &, < and > escaped; the rest of model or config text is text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Block Kit's limits: a header's text 150 characters, a section's or context's 3000; Slack cuts
# the notification `text` past 40,000. Longer fields make Slack reject the whole message.
MAX_HEADER = 150
MAX_TEXT = 3000
MAX_NOTIFICATION = 40_000


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_TEXT)}}


def _link(link: str | None) -> list[dict[str, Any]]:
    if not link:
        return []
    return [section(f"<{escape(link)}|Open the canary report>")]


def slack_message(
    comparison: Comparison,
    report_link: str | None = None,
    incident: Incident | None = None,
    step: Step | None = None,
) -> dict[str, Any]:
    c = comparison
    title = headline(c)
    previous = step.previous if step is not None else None
    if step is not None and step.action == "remind" and previous is not None:
        title = f"Still failing since {previous.opened_at}: {title}"
    elif step is not None and step.action == "change":
        title = f"Changed: {title}"
    gates = breached_gates(c)
    mark = MARK[c.verdict] if incident is None or incident.severity == "page" else MARK["suspect"]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(title, MAX_HEADER)}},
        section(f"{mark} *{c.verdict.upper()}*  {escape(score_line(c))}\n{escape(model_line(c))}"),
    ]
    if incident is not None:
        others = [cause.summary for cause in incident.causes[1:]]
        text = f"*Likely cause*: {escape(incident.cause.summary)}"
        if others:
            text += "\n*Also possible*: " + escape("; ".join(others))
        if step is not None and step.action == "change" and previous is not None:
            text += f"\n*Was*: {escape(previous.title)}"
        blocks.append(section(text))
    if gates:
        blocks.append(section("*Breached gates*\n" + "\n".join(f"• {escape(g)}" for g in gates)))
    blocks += _link(report_link)
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": clip(
                        escape(
                            f"run {c.run.info.created_at} · baseline {c.baseline.info.created_at}"
                        ),
                        MAX_TEXT,
                    ),
                }
            ],
        }
    )
    return {"text": clip(title, MAX_NOTIFICATION), "blocks": blocks}


def slack_recovery(
    comparison: Comparison,
    previous_verdict: str | None,
    report_link: str | None = None,
    step: Step | None = None,
) -> dict[str, Any]:
    title = recovery(comparison, previous_verdict)
    text = f"{MARK['pass']} {escape(title)}\n{escape(score_line(comparison))}"
    if step is not None and step.previous is not None:
        text += f"\nResolved: {escape(step.previous.title)} (open since {step.previous.opened_at})"
    blocks: list[dict[str, Any]] = [section(text), *_link(report_link)]
    return {"text": clip(title, MAX_NOTIFICATION), "blocks": blocks}


def with_warnings(message: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """The message plus what the run could not save (a history or report on a full disk)."""
    if not warnings:
        return message
    lines = "\n".join(f"• {escape(w)}" for w in warnings)
    return {**message, "blocks": [*message["blocks"], section(f"*Not saved*\n{lines}")]}
