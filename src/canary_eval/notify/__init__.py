"""Alerts of a run: Slack, PagerDuty, a generic webhook and a Prometheus Pushgateway.

    config = notify.config.parse_alerts_config(suite_config.alerts, suite_config.path)
    results = notify.channels.deliver_all(comparison, config, previous_verdict=last)

Delivery never raises and never changes the verdict or the exit code. The package imports
nothing itself: checking an alerts config (`canary validate`) must not load the HTTP client and
the statistics that only sending needs.
"""
