"""Alerts of a run: Slack, PagerDuty, a generic webhook and a Prometheus Pushgateway.

    config = parse_alerts_config(suite_config.alerts, suite_config.path)
    results = deliver_all(comparison, config, previous_verdict=last, report_link=url)

Delivery never raises and never changes the verdict or the exit code.
"""

from canary_eval.notify.channels import deliver_all
from canary_eval.notify.config import AlertsConfig, parse_alerts_config
from canary_eval.notify.delivery import DeliveryResult

__all__ = ["AlertsConfig", "DeliveryResult", "deliver_all", "parse_alerts_config"]
