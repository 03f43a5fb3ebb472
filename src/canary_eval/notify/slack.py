"""Slack incoming-webhook messages: `text` for notifications and `blocks` for the message
itself (verdict, score, breached gates, a link to the report)."""

from __future__ import annotations

from typing import Any

from canary_eval.notify.summary import breached_gates, headline, model_line, recovery, score_line
from canary_eval.verdict.compare import Comparison

MARK = {
    "pass": ":white_check_mark:",
    "suspect": ":warning:",
    "regression": ":x:",
    "error": ":octagonal_sign:",
}


def escape(text: str) -> str:
    """Slack's mrkdwn needs only &, < and > escaped; the rest of model or config text is text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _link(link: str | None) -> list[dict[str, Any]]:
    if not link:
        return []
    return [_section(f"<{escape(link)}|Open the canary report>")]


def slack_message(comparison: Comparison, report_link: str | None = None) -> dict[str, Any]:
    c = comparison
    title = headline(c)
    gates = breached_gates(c)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        _section(
            f"{MARK[c.verdict]} *{c.verdict.upper()}*  {escape(score_line(c))}\n"
            f"{escape(model_line(c))}"
        ),
    ]
    if gates:
        blocks.append(_section("*Breached gates*\n" + "\n".join(f"• {escape(g)}" for g in gates)))
    blocks += _link(report_link)
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": escape(
                        f"run {c.run.info.created_at} · baseline {c.baseline.info.created_at}"
                    ),
                }
            ],
        }
    )
    return {"text": title, "blocks": blocks}


def slack_recovery(
    comparison: Comparison, previous_verdict: str | None, report_link: str | None = None
) -> dict[str, Any]:
    title = recovery(comparison, previous_verdict)
    blocks: list[dict[str, Any]] = [
        _section(f"{MARK['pass']} {escape(title)}\n{escape(score_line(comparison))}"),
        *_link(report_link),
    ]
    return {"text": title, "blocks": blocks}
