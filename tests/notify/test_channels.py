"""Delivering a run's alerts to Slack, PagerDuty, a webhook and a Pushgateway, over real HTTP
on 127.0.0.1."""

from __future__ import annotations

from dataclasses import replace

import pytest

from canary_eval.notify import AlertsConfig, deliver_all
from canary_eval.notify.config import PushgatewayConfig
from canary_eval.notify.delivery import DeliveryResult
from canary_eval.verdict.compare import Comparison

from .conftest import HOOK_SECRET, PD_SECRET, SLACK_SECRET
from factories import Kind, RecordingServer, Reply, comparison

SLACK = f"/services/{SLACK_SECRET}"
PD = "/v2/enqueue"
HOOK = f"/hooks/{HOOK_SECRET}"


def deliver(
    c: Comparison,
    alerts: AlertsConfig,
    env: dict[str, str],
    previous: str | None = None,
    link: str | None = None,
) -> list[DeliveryResult]:
    return deliver_all(
        c, alerts, previous_verdict=previous, report_link=link, env=env, sleep=lambda _: None
    )


def test_a_regression_reaches_every_channel_once(
    regression: Comparison, alerts: AlertsConfig, env: dict[str, str], server: RecordingServer
) -> None:
    results = deliver(regression, alerts, env)
    assert [(r.channel, r.ok, r.status, r.attempts, r.action) for r in results] == [
        ("slack", True, 202, 1, "trigger"),
        ("pagerduty", True, 202, 1, "trigger"),
        ("webhook", True, 202, 1, "trigger"),
    ]
    assert [r.path for r in server.requests] == [SLACK, PD, HOOK]


def test_slack_gets_text_and_blocks_with_verdict_gates_and_link(
    regression: Comparison, alerts: AlertsConfig, env: dict[str, str], server: RecordingServer
) -> None:
    deliver(regression, alerts, env)
    (request,) = server.to(SLACK)
    message = request.json()
    assert message["text"] == "canary support-bot: REGRESSION (exit 1): 4 gate(s) breached"
    blocks = message["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": message["text"]}}
    text = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "*REGRESSION*" in text
    assert "*Breached gates*\n• canary score fell 30.0%" in text
    assert "• p95 latency rose 200%" in text
    assert "100 -&gt; 200 chars" in text  # mrkdwn escapes < > &
    assert "<https://ci.example/canary/report.html|Open the canary report>" in text
    assert all(b["type"] in ("header", "section", "context") for b in blocks)


def test_pagerduty_gets_an_events_v2_trigger_with_the_required_fields(
    regression: Comparison, alerts: AlertsConfig, env: dict[str, str], server: RecordingServer
) -> None:
    deliver(regression, alerts, env, link="https://ci.example/run/42.html")
    event = server.to(PD)[0].json()
    assert event["routing_key"] == PD_SECRET
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == "canary-support-bot"
    payload = event["payload"]
    assert payload["summary"] == (
        "canary support-bot: REGRESSION (exit 1): 4 gate(s) breached; likely cause: the served "
        "model changed: sim-stable (fp_a) -> sim-drift (fp_b)"
    )
    assert payload["custom_details"]["causes"][0].startswith("the served model changed")
    assert payload["source"] == "cron-host"
    assert payload["severity"] == "critical"
    assert payload["component"] == "support-bot"
    assert len(payload["custom_details"]["breached_gates"]) == 4
    assert event["links"] == [{"href": "https://ci.example/run/42.html", "text": "canary report"}]


@pytest.mark.parametrize(("kind", "severity"), [("error", "error"), ("suspect", "warning")])
def test_pagerduty_severity_follows_the_verdict(
    kind: Kind,
    severity: str,
    alerts: AlertsConfig,
    env: dict[str, str],
    server: RecordingServer,
) -> None:
    every = replace(alerts, on=frozenset({"regression", "error", "suspect"}))
    deliver(comparison(kind), every, env)
    assert server.to(PD)[0].json()["payload"]["severity"] == severity


def test_the_dedup_key_is_stable_across_runs(
    regression: Comparison, alerts: AlertsConfig, env: dict[str, str], server: RecordingServer
) -> None:
    later = comparison("regression", created_at="2024-05-07T15:00:00+00:00")
    deliver(regression, alerts, env)
    deliver(later, alerts, env, previous="regression")
    keys = [r.json()["dedup_key"] for r in server.to(PD)]
    assert keys == ["canary-support-bot", "canary-support-bot"]


def test_the_webhook_gets_the_json_reports_summary(
    regression: Comparison, alerts: AlertsConfig, env: dict[str, str], server: RecordingServer
) -> None:
    deliver(regression, alerts, env)
    (request,) = server.to(HOOK)
    body = request.json()
    assert request.headers["X-Team"] == "ml"
    assert body["event"] == "trigger"
    assert body["verdict"] == "regression"
    assert body["exit_code"] == 1
    assert body["quality"]["score"] == 0.7
    assert {"intents", "alerts", "ops", "model_changed"} <= body.keys()
    assert "cases" not in body  # no model output leaves through the webhook
    assert body["report_url"] == "https://ci.example/canary/report.html"


def test_a_pass_after_a_regression_resolves_the_incident(
    passing: Comparison, alerts: AlertsConfig, env: dict[str, str], server: RecordingServer
) -> None:
    results = deliver(passing, alerts, env, previous="regression")
    assert [(r.channel, r.ok, r.action) for r in results] == [
        ("slack", True, "resolve"),
        ("pagerduty", True, "resolve"),
        ("webhook", True, "resolve"),
    ]
    assert server.to(PD)[0].json() == {
        "routing_key": PD_SECRET,
        "event_action": "resolve",
        "dedup_key": "canary-support-bot",
    }
    assert server.to(SLACK)[0].json()["text"] == (
        "canary support-bot: recovered, PASS (was regression)"
    )
    assert server.to(HOOK)[0].json()["event"] == "resolve"


@pytest.mark.parametrize("previous", [None, "pass", "suspect"])
def test_a_pass_after_a_quiet_run_only_resolves_at_pagerduty(
    previous: str | None,
    passing: Comparison,
    alerts: AlertsConfig,
    env: dict[str, str],
    server: RecordingServer,
) -> None:
    # Resolve is idempotent at PagerDuty: sent on every passing run, nothing to remember.
    results = deliver(passing, alerts, env, previous=previous)
    assert [(r.channel, r.action) for r in results] == [("pagerduty", "resolve")]
    assert [r.path for r in server.requests] == [PD]


def test_a_suspect_run_warns_in_chat_and_pages_only_when_configured_to(
    alerts: AlertsConfig, env: dict[str, str], server: RecordingServer
) -> None:
    suspect = comparison("suspect")
    warned = deliver(suspect, alerts, env)
    assert [(r.channel, r.action) for r in warned] == [
        ("slack", "trigger"),
        ("pagerduty", "resolve"),
        ("webhook", "trigger"),
    ]
    assert server.to(SLACK)[0].json()["blocks"][1]["text"]["text"].startswith(":warning:")
    paged = deliver(suspect, replace(alerts, on=frozenset({"suspect"})), env)
    assert [(r.channel, r.action) for r in paged][1] == ("pagerduty", "trigger")


def test_429_and_500_are_retried_then_delivered(
    regression: Comparison, alerts: AlertsConfig, env: dict[str, str], server: RecordingServer
) -> None:
    server.script(PD, 429, 500, 202)
    server.script(SLACK, 500, Reply(200, "ok"))
    results = {r.channel: r for r in deliver(regression, alerts, env)}
    assert (results["pagerduty"].ok, results["pagerduty"].attempts) == (True, 3)
    assert (results["slack"].ok, results["slack"].attempts) == (True, 2)
    assert len(server.to(PD)) == 3
    dedup = {r.json()["dedup_key"] for r in server.to(PD)}
    assert dedup == {"canary-support-bot"}


def test_a_400_is_not_retried_and_the_failure_is_reported_not_raised(
    regression: Comparison, alerts: AlertsConfig, env: dict[str, str], server: RecordingServer
) -> None:
    server.script(PD, Reply(400, {"status": "invalid event", "message": "Event object is invalid"}))
    results = {r.channel: r for r in deliver(regression, alerts, env)}
    assert (results["pagerduty"].ok, results["pagerduty"].status) == (False, 400)
    assert results["pagerduty"].attempts == 1
    assert "Event object is invalid" in (results["pagerduty"].error or "")
    assert results["slack"].ok  # one channel failing stops no other
    assert results["webhook"].ok
    assert (regression.verdict, regression.exit_code) == ("regression", 1)


def test_secrets_never_appear_in_any_result(
    regression: Comparison, alerts: AlertsConfig, env: dict[str, str], server: RecordingServer
) -> None:
    echo = f"bad request for {env['SLACK_WEBHOOK_URL']} {PD_SECRET} {env['CANARY_WEBHOOK_URL']}"
    for path in (SLACK, PD, HOOK):
        server.script(path, Reply(500, echo), Reply(500, echo), Reply(500, echo))
    results = deliver(regression, alerts, env)
    assert [r.ok for r in results] == [False, False, False]
    text = repr(results)
    for secret in (SLACK_SECRET, PD_SECRET, HOOK_SECRET, env["SLACK_WEBHOOK_URL"]):
        assert secret not in text
    assert "***" in text


def test_a_missing_environment_variable_is_a_failed_delivery(
    regression: Comparison, alerts: AlertsConfig, env: dict[str, str], server: RecordingServer
) -> None:
    del env["PD_ROUTING_KEY"]
    results = {r.channel: r for r in deliver(regression, alerts, env)}
    assert not results["pagerduty"].ok
    assert results["pagerduty"].attempts == 0
    assert results["pagerduty"].error == "environment variable PD_ROUTING_KEY is not set"
    assert server.to(PD) == []


def test_an_unreachable_channel_is_reported(
    regression: Comparison, alerts: AlertsConfig, env: dict[str, str]
) -> None:
    with RecordingServer() as gone:
        env["SLACK_WEBHOOK_URL"] = f"{gone.url}{SLACK}"
    results = {r.channel: r for r in deliver(regression, alerts, env)}
    assert not results["slack"].ok
    assert results["slack"].attempts == alerts.retry.attempts
    assert SLACK_SECRET not in repr(results["slack"])


def test_the_pushgateway_gets_every_run_even_a_quiet_pass(
    passing: Comparison, alerts: AlertsConfig, env: dict[str, str], server: RecordingServer
) -> None:
    server.script("/metrics/job/canary/suite/support-bot", 500)
    config = replace(alerts, pushgateway=PushgatewayConfig(url=server.url))
    *_, result = deliver(passing, config, env, previous="pass")
    assert (result.channel, result.ok, result.attempts, result.action) == (
        "pushgateway",
        True,
        2,
        "push",
    )
    request = server.to("/metrics/job/canary/suite/support-bot")[-1]
    assert request.method == "PUT"
    assert b'canary_verdict{suite="support-bot",verdict="pass"} 1.0' in request.body


def test_a_failing_pushgateway_is_reported(
    passing: Comparison, alerts: AlertsConfig, env: dict[str, str], server: RecordingServer
) -> None:
    server.script("/metrics/job/canary/suite/support-bot", 400)
    config = replace(alerts, pushgateway=PushgatewayConfig(url=server.url))
    *_, result = deliver(passing, config, env)
    assert (result.channel, result.ok, result.status, result.attempts) == (
        "pushgateway",
        False,
        400,
        1,
    )
