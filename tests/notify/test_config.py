"""The `alerts:` mapping: defaults, validation that names the key, and no secrets in config."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from canary_eval.errors import ConfigError
from canary_eval.notify.config import (
    DEFAULT_ON,
    PAGERDUTY_URL,
    AlertsConfig,
    PagerDutyConfig,
    RetryPolicy,
    SlackConfig,
    WebhookConfig,
    parse_alerts_config,
)

SUITE = Path("configs/bot.yaml")


def test_no_alerts_configured_means_no_channels() -> None:
    assert parse_alerts_config(None, SUITE) == AlertsConfig()
    assert parse_alerts_config({}, SUITE).channels == ()
    assert {"regression", "error"} == DEFAULT_ON


def test_a_full_config_parses() -> None:
    text = """
    on: [regression, error, suspect]
    report_url: https://ci.example/r.html
    slack: {webhook_url_env: SLACK_URL}
    pagerduty: {routing_key_env: PD_KEY}
    webhook: {url: "https://hooks.example/canary", headers: {X-Team: ml, X-Id: 7}}
    pushgateway: {url: "http://127.0.0.1:9091", job: nightly}
    retry: {attempts: 2, base_delay_s: 0.5}
    repeat_after: 6h
    """
    config = parse_alerts_config(yaml.safe_load(text), SUITE)
    # YAML 1.1 reads a bare `on:` as the boolean true; it still means `on`.
    assert config.on == {"regression", "error", "suspect"}
    assert config.slack == SlackConfig("SLACK_URL")
    assert config.pagerduty == PagerDutyConfig("PD_KEY", PAGERDUTY_URL)
    assert config.webhook == WebhookConfig(
        "https://hooks.example/canary", None, {"X-Team": "ml", "X-Id": "7"}
    )
    assert config.pushgateway is not None
    assert config.pushgateway.job == "nightly"
    assert config.retry == RetryPolicy(attempts=2, base_delay_s=0.5)
    assert config.channels == ("slack", "pagerduty", "webhook", "pushgateway")
    assert config.repeat_after == timedelta(hours=6)
    assert AlertsConfig().repeat_after == timedelta(hours=24)


@pytest.mark.parametrize(
    ("mapping", "key", "message"),
    [
        ({"on": ["regresion"]}, "alerts.on", "unknown verdict 'regresion'"),
        ({"slack": {}}, "alerts.slack.webhook_url_env", "required"),
        (
            {"slack": {"webhook_url": "https://hooks.slack.com/x"}},
            "alerts.slack.webhook_url",
            "environment variable",
        ),
        (
            {"pagerduty": {"routing_key": "abc"}},
            "alerts.pagerduty.routing_key",
            "environment variable",
        ),
        (
            {"pagerduty": {"routing_key_env": "https://x"}},
            "alerts.pagerduty.routing_key_env",
            "must name an environment variable",
        ),
        ({"pagerduty": {"routing_key_env": "K", "url": "ftp://x"}}, "alerts.pagerduty.url", "http"),
        ({"webhook": {}}, "alerts.webhook", "exactly one of url and url_env"),
        ({"webhook": {"url": "https://x", "headers": ["a"]}}, "alerts.webhook.headers", "mapping"),
        (
            {"slack": {"webhook_url_env": "X", "channel": "#a"}},
            "alerts.slack.channel",
            "unknown key",
        ),
        ({"email": {}}, "alerts.email", "unknown key"),
        ({"retry": {"attempts": 0}}, "alerts.retry.attempts", ">= 1"),
        ({"retry": {"base_delay_s": "fast"}}, "alerts.retry.base_delay_s", "number"),
        ({"pushgateway": "http://x"}, "alerts.pushgateway", "mapping"),
        ({"repeat_after": "daily"}, "alerts.repeat_after", "duration such as 30m"),
        ({"repeat_after": "0h"}, "alerts.repeat_after", "duration"),
        ({"repeat_after": 24}, "alerts.repeat_after", "duration"),
    ],
)
def test_a_bad_value_is_a_config_error_naming_the_key(
    mapping: dict[str, object], key: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_alerts_config(mapping, SUITE)
    assert caught.value.key == key
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{SUITE}: {key}: ")


def test_errors_point_at_the_line_when_it_is_known() -> None:
    def line_of(key: tuple[str | int, ...]) -> int | None:
        return 12 if key[:2] == ("alerts", "slack") else None

    with pytest.raises(ConfigError) as caught:
        parse_alerts_config({"slack": {}}, SUITE, line_of)
    assert str(caught.value) == f"{SUITE}:12: alerts.slack.webhook_url_env: required"
