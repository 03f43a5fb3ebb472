"""Alerts of a run: Slack, PagerDuty, a generic webhook and a Prometheus Pushgateway.

    config = parse_alerts_config(suite_config.alerts, suite_config.path)
    results = deliver_all(comparison, config, previous_verdict=last, report_link=url)

Delivery never raises and never changes the verdict or the exit code.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from canary_eval.notify.channels import deliver_all
    from canary_eval.notify.config import AlertsConfig, parse_alerts_config
    from canary_eval.notify.delivery import DeliveryResult

__all__ = ["AlertsConfig", "DeliveryResult", "deliver_all", "parse_alerts_config"]
_HOME = {
    "AlertsConfig": "config",
    "parse_alerts_config": "config",
    "DeliveryResult": "delivery",
    "deliver_all": "channels",
}


def __getattr__(name: str) -> Any:
    # Loaded on first use: checking an alerts config (`canary validate`, the start of every
    # run) must not import the channels, their HTTP client and the report summaries.
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
