"""What each channel is sent about an incident, for whatever raised it.

A canary run (`RunMessages`) and a monitor pass (notify.monitoring) say different things, but the
lifecycle and the delivery are the same: `channels.deliver_incident` asks a `Messages` for the
Slack message, the PagerDuty trigger and the webhook payload of this run's step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from canary_eval.notify.lifecycle import Step
from canary_eval.notify.pagerduty import trigger_event
from canary_eval.notify.slack import slack_message, slack_recovery
from canary_eval.notify.webhook import webhook_payload
from canary_eval.verdict.compare import Comparison
from canary_eval.verdict.incidents import Incident


class Messages(Protocol):
    """The payloads of one run's incident; `source` names it in the PagerDuty dedup key."""

    @property
    def source(self) -> str: ...

    def slack(self, event: str, incident: Incident | None, step: Step) -> dict[str, Any]: ...

    def trigger(
        self, routing_key: str, host: str | None, incident: Incident | None
    ) -> dict[str, Any]: ...

    def webhook(self, event: str, incident: Incident | None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class RunMessages:
    """A canary run's: verdict, score and breached gates; `previous_verdict` from the history."""

    comparison: Comparison
    previous_verdict: str | None
    link: str | None

    @property
    def source(self) -> str:
        return self.comparison.suite

    def slack(self, event: str, incident: Incident | None, step: Step) -> dict[str, Any]:
        if event == "resolve":
            return slack_recovery(self.comparison, self.previous_verdict, self.link, step)
        return slack_message(self.comparison, self.link, incident, step)

    def trigger(
        self, routing_key: str, host: str | None, incident: Incident | None
    ) -> dict[str, Any]:
        return trigger_event(
            self.comparison, routing_key, source=host, report_link=self.link, incident=incident
        )

    def webhook(self, event: str, incident: Incident | None) -> dict[str, Any]:
        return webhook_payload(
            self.comparison,
            event,
            previous_verdict=self.previous_verdict,
            report_link=self.link,
            incident=incident,
        )
