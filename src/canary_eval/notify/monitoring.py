"""What each channel is sent about a monitor pass's incident: its likely cause, the alerts and
the windows compared. PagerDuty's dedup key is `canary-monitor-<name>`, apart from any suite's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from canary_eval.models import Alert
from canary_eval.notify import pagerduty
from canary_eval.notify.lifecycle import Step
from canary_eval.notify.slack import MAX_HEADER, MAX_NOTIFICATION, escape, section
from canary_eval.notify.summary import MAX_GATES, clip
from canary_eval.verdict.incidents import Incident, incident_dict


@dataclass(frozen=True)
class PassMessages:
    name: str
    verdict: str
    exit_code: int
    alerts: tuple[Alert, ...]
    window: str  # "<current window start> to <end>"
    link: str | None = None
    summary: Mapping[str, Any] = field(default_factory=dict)  # the JSON report's headline keys

    @property
    def source(self) -> str:
        return f"monitor-{self.name}"

    def headline(self) -> str:
        pages = sum(a.severity == "page" for a in self.alerts)
        warnings = sum(a.severity == "warn" for a in self.alerts)
        text = f"canary monitor {self.name}: {self.verdict.upper()} (exit {self.exit_code})"
        if pages or warnings:
            text += f": {pages} page(s), {warnings} warning(s)"
        return text

    def slack(self, event: str, incident: Incident | None, step: Step) -> dict[str, Any]:
        previous = step.previous
        if event == "resolve":
            title = f"canary monitor {self.name}: recovered"
            text = f":white_check_mark: {escape(title)}"
            if previous is not None:
                text += f"\nResolved: {escape(previous.title)} (open since {previous.opened_at})"
            return {"text": title, "blocks": [section(text), *_link(self.link)]}
        title = self.headline()
        if step.action == "remind" and previous is not None:
            title = f"Still failing since {previous.opened_at}: {title}"
        elif step.action == "change":
            title = f"Changed: {title}"
        lines = [
            f"*{a.severity}* {escape(a.message)}" for a in self.alerts if a.severity != "info"
        ][:MAX_GATES]
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": clip(title, MAX_HEADER)}}
        ]
        if incident is not None:
            blocks.append(section(f"*Likely cause*: {escape(incident.cause.summary)}"))
        blocks += [section("\n".join(f"• {line}" for line in lines)), *_link(self.link)]
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(self.window)}]}
        )
        return {"text": clip(title, MAX_NOTIFICATION), "blocks": blocks}

    def trigger(
        self, routing_key: str, host: str | None, incident: Incident | None
    ) -> dict[str, Any]:
        return pagerduty.trigger(
            routing_key,
            subject=self.source,
            component=self.name,
            summary=self.headline(),
            incident=incident,
            source=host,
            severity="critical",
            group="canary-monitor",
            verdict=self.verdict,
            details={
                "window": self.window,
                "alerts": [a.message for a in self.alerts][:MAX_GATES],
            },
            link=(self.link, "canary monitor report"),
        )

    def webhook(self, event: str, incident: Incident | None) -> dict[str, Any]:
        return {
            "event": event,
            "report_url": self.link,
            "incident": incident_dict(incident),
            **self.summary,
        }


def _link(link: str | None) -> list[dict[str, Any]]:
    return [section(f"<{escape(link)}|Open the monitor report>")] if link else []
