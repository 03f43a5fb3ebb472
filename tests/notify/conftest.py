"""A recording server standing in for Slack, PagerDuty and webhooks, and a config for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from canary_eval.notify.config import AlertsConfig, parse_alerts_config

from factories import RecordingServer

SLACK_SECRET = "T0001/B0002/sl4ck-s3cr3t-t0ken"
PD_SECRET = "pd-routing-key-0123456789abcdef"
HOOK_SECRET = "hook-s3cr3t-path-abcdef"


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as running:
        yield running


@pytest.fixture
def env(server: RecordingServer) -> dict[str, str]:
    return {
        "SLACK_WEBHOOK_URL": f"{server.url}/services/{SLACK_SECRET}",
        "PD_ROUTING_KEY": PD_SECRET,
        "CANARY_WEBHOOK_URL": f"{server.url}/hooks/{HOOK_SECRET}",
    }


@pytest.fixture
def alerts(server: RecordingServer) -> AlertsConfig:
    return parse_alerts_config(
        {
            "slack": {"webhook_url_env": "SLACK_WEBHOOK_URL"},
            "pagerduty": {
                "routing_key_env": "PD_ROUTING_KEY",
                "url": f"{server.url}/v2/enqueue",
                "source": "cron-host",
            },
            "webhook": {"url_env": "CANARY_WEBHOOK_URL", "headers": {"X-Team": "ml"}},
            "report_url": "https://ci.example/canary/report.html",
            "retry": {"attempts": 3, "base_delay_s": 0.001, "max_delay_s": 0.01},
        },
        Path("suite.yaml"),
    )
