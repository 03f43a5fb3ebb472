"""Delivering a run's incident to every configured channel.

The run's alerts are one incident (canary_eval.verdict.incidents). It pages when the verdict is
in `alerts.on` (regression and error by default): PagerDuty, Slack and the webhook; an incident
of warnings goes to Slack and the webhook only. The lifecycle (notify.lifecycle) keeps it to one
message per incident and a reminder per `repeat_after`, resolves PagerDuty (same dedup key) on
every run that does not page, and posts a recovery when an incident closes. The Pushgateway
gets every run's metrics whatever the verdict. Each channel's secret is read from its
environment variable here and redacted from every result; nothing here raises or changes the
verdict.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canary_eval.notify.config import AlertsConfig
from canary_eval.notify.delivery import DeliveryResult, Sleep, send
from canary_eval.notify.lifecycle import Step, load_state, next_step, save_state
from canary_eval.notify.messages import Messages, RunMessages
from canary_eval.notify.pagerduty import resolve_event
from canary_eval.notify.slack import with_warnings
from canary_eval.redaction import Redactor
from canary_eval.verdict.compare import Comparison
from canary_eval.verdict.incidents import Incident, run_incident

if TYPE_CHECKING:
    import httpx


def deliver_all(
    comparison: Comparison,
    config: AlertsConfig,
    *,
    previous_verdict: str | None,
    report_link: str | None = None,
    env: Mapping[str, str] | None = None,
    client: httpx.Client | None = None,
    sleep: Sleep = time.sleep,
    state_file: Path | None = None,
    now: datetime | None = None,
    warnings: Sequence[str] = (),
) -> list[DeliveryResult]:
    """Deliver a canary run's incident to every channel it concerns; one result per delivery.

    `previous_verdict` is the suite's last recorded verdict (history.last_verdict), read before
    this run is recorded. `report_link` overrides `alerts.report_url`. `state_file` holds the
    open incident between runs (notify.lifecycle); without one every incident is new.
    `warnings` (a history or report that could not be written) travel with the alert, so
    on-call knows what is missing.
    """
    messages = RunMessages(comparison, previous_verdict, report_link or config.report_url)
    return deliver_incident(
        run_incident(comparison, config.on),
        messages,
        config,
        was_failing=previous_verdict in config.on,
        env=env,
        client=client,
        sleep=sleep,
        state_file=state_file,
        now=now,
        metrics=comparison,
        warnings=warnings,
    )


def deliver_incident(
    incident: Incident | None,
    messages: Messages,
    config: AlertsConfig,
    *,
    was_failing: bool = False,
    env: Mapping[str, str] | None = None,
    client: httpx.Client | None = None,
    sleep: Sleep = time.sleep,
    state_file: Path | None = None,
    now: datetime | None = None,
    metrics: Comparison | None = None,
    warnings: Sequence[str] = (),
) -> list[DeliveryResult]:
    """Send what this run's step of the incident lifecycle calls for; `metrics` also goes to
    the Pushgateway. `was_failing`: the last run notified (for a recovery without state)."""
    env = os.environ if env is None else env
    step = next_step(
        incident,
        load_state(state_file) if state_file is not None else None,
        now=now or datetime.now(UTC),
        repeat_after=config.repeat_after,
        was_failing=was_failing,
    )
    run = _Delivery(
        messages=messages,
        incident=incident,
        step=step,
        config=config,
        env=env,
        http=client or _client(),
        sleep=sleep,
        secrets=_secrets(config, env),
        warnings=list(warnings),
    )
    event = {"open": "trigger", "change": "trigger", "remind": "remind"}.get(step.action, "resolve")
    channels: list[tuple[str, Callable[[str], DeliveryResult], str]] = []
    if step.message and config.slack:
        channels.append(("slack", run.slack, event))
    if config.pagerduty and (step.page or step.resolve_pagerduty):
        channels.append(("pagerduty", run.pagerduty, "trigger" if step.page else "resolve"))
    if step.message and config.webhook:
        channels.append(("webhook", run.webhook, event))
    try:
        results = [run.guarded(name, deliver, action) for name, deliver, action in channels]
        if config.pushgateway and metrics is not None:
            results.append(run.guarded("pushgateway", lambda e: run.push(e, metrics), "push"))
    finally:
        if client is None:
            run.http.close()
    # A message that did not get through is sent again by the next run, not marked as sent.
    if state_file is not None and all(r.ok for r in results if r.channel != "pushgateway"):
        save_state(state_file, step.state)
    return results


@dataclass
class _Delivery:
    messages: Messages
    incident: Incident | None
    step: Step
    config: AlertsConfig
    env: Mapping[str, str]
    http: httpx.Client
    sleep: Sleep
    secrets: list[str | None] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def guarded(
        self, channel: str, deliver: Callable[[str], DeliveryResult], event: str
    ) -> DeliveryResult:
        """A bug in building a payload is a failed delivery too, never a failed run."""
        try:
            return deliver(event)
        except Exception as exc:
            message = Redactor(self.secrets)(f"{type(exc).__name__}: {exc}")
            return DeliveryResult(channel, False, None, 0, message, event)

    def secret(self, variable: str | None) -> str | None:
        value = self.env.get(variable) if variable else None
        return value or None

    def post(
        self,
        channel: str,
        url: str,
        payload: Any,
        event: str,
        headers: Mapping[str, str] | None = None,
    ) -> DeliveryResult:
        return send(
            self.http,
            channel,
            url,
            json=payload,
            headers=headers,
            redact=Redactor(self.secrets),
            policy=self.config.retry,
            action=event,
            sleep=self.sleep,
        )

    def slack(self, event: str) -> DeliveryResult:
        assert self.config.slack is not None
        variable = self.config.slack.webhook_url_env
        url = self.secret(variable)
        if url is None:
            return _missing("slack", variable, event)
        message = self.messages.slack(event, self.incident, self.step)
        return self.post("slack", url, with_warnings(message, self.warnings), event)

    def pagerduty(self, event: str) -> DeliveryResult:
        pd = self.config.pagerduty
        assert pd is not None
        key = self.secret(pd.routing_key_env)
        if key is None:
            return _missing("pagerduty", pd.routing_key_env, event)
        if event == "trigger":
            body = self.messages.trigger(key, pd.source, self.incident)
            if self.warnings:
                body["payload"]["custom_details"]["warnings"] = self.warnings
        else:
            body = resolve_event(self.messages.source, key)
        return self.post("pagerduty", pd.url, body, event)

    def webhook(self, event: str) -> DeliveryResult:
        hook = self.config.webhook
        assert hook is not None
        url = hook.url or self.secret(hook.url_env)
        if url is None:
            return _missing("webhook", hook.url_env or "url", event)
        payload = self.messages.webhook(event, self.incident)
        payload["warnings"] = self.warnings
        return self.post("webhook", url, payload, event, hook.headers)

    def push(self, event: str, comparison: Comparison) -> DeliveryResult:
        from canary_eval.reports.prometheus import push_metrics

        gateway = self.config.pushgateway
        assert gateway is not None
        url = gateway.url or self.secret(gateway.url_env)
        if url is None:
            return _missing("pushgateway", gateway.url_env or "url", event)
        outcome: list[DeliveryResult] = []

        def handler(
            url: str,
            method: str,
            timeout: float | None,
            headers: list[tuple[str, str]],
            data: bytes,
        ) -> Callable[[], None]:
            def put() -> None:
                result = send(
                    self.http,
                    "pushgateway",
                    url,
                    content=data,
                    method=method,
                    headers=dict(headers),
                    redact=Redactor(self.secrets),
                    policy=self.config.retry,
                    action=event,
                    sleep=self.sleep,
                )
                outcome.append(result)
                if not result.ok:
                    raise OSError(result.error)

            return put

        try:
            push_metrics(comparison, url, gateway.job, handler=handler)
        except OSError:
            if not outcome:
                raise
        return outcome[-1]


def _secrets(config: AlertsConfig, env: Mapping[str, str]) -> list[str | None]:
    """Every secret of every channel, so that no channel's answer can leak another's."""
    names = [
        config.slack.webhook_url_env if config.slack else None,
        config.pagerduty.routing_key_env if config.pagerduty else None,
        config.webhook.url_env if config.webhook else None,
        config.pushgateway.url_env if config.pushgateway else None,
    ]
    secrets = [env.get(name) for name in names if name]
    if config.webhook:  # an Authorization header is a secret too
        secrets += config.webhook.headers.values()
    return secrets


def _missing(channel: str, variable: str, action: str) -> DeliveryResult:
    return DeliveryResult(
        channel, False, None, 0, f"environment variable {variable} is not set", action
    )


def _client() -> httpx.Client:
    import httpx  # here: checking an alerts config (`canary validate`) needs no HTTP client

    return httpx.Client(follow_redirects=False)
