"""The suite config's `alerts:` mapping -> `AlertsConfig`.

    alerts:
      on: [regression, error]            # verdicts that page (the default); suspect may join
      report_url: https://ci.example/canary/report.html   # optional link in every message
      repeat_after: 24h                  # a "still failing" reminder at most this often
      slack: {webhook_url_env: SLACK_WEBHOOK_URL}
      pagerduty: {routing_key_env: PD_ROUTING_KEY}   # url: overridable, for tests
      webhook: {url_env: CANARY_WEBHOOK_URL, headers: {X-Team: ml}}   # or url: https://...
      pushgateway: {url: http://pushgateway:9091, job: canary}      # or url_env
      retry: {attempts: 4, base_delay_s: 1.0, max_delay_s: 30, timeout_s: 10}

Secrets never sit in the config: Slack URLs and PagerDuty routing keys are read from the
environment variables named here, at delivery time, and a literal `webhook_url` or
`routing_key` is refused. A bad value is a ConfigError naming the key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from canary_eval.errors import ConfigError
from canary_eval.suite.document import parse_duration

PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
VERDICTS = ("pass", "suspect", "regression", "error")
DEFAULT_ON = frozenset({"regression", "error"})
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

LineOf = Callable[[tuple[str | int, ...]], int | None]


@dataclass(frozen=True)
class RetryPolicy:
    """Delivery retries on 429, 5xx and transport errors, with exponential backoff."""

    attempts: int = 4
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    timeout_s: float = 10.0


@dataclass(frozen=True)
class SlackConfig:
    webhook_url_env: str


@dataclass(frozen=True)
class PagerDutyConfig:
    routing_key_env: str
    url: str = PAGERDUTY_URL
    source: str | None = None  # defaults to this host's name


@dataclass(frozen=True)
class WebhookConfig:
    url: str | None = None
    url_env: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PushgatewayConfig:
    url: str | None = None
    url_env: str | None = None
    job: str = "canary"


@dataclass(frozen=True)
class AlertsConfig:
    on: frozenset[str] = DEFAULT_ON
    slack: SlackConfig | None = None
    pagerduty: PagerDutyConfig | None = None
    webhook: WebhookConfig | None = None
    pushgateway: PushgatewayConfig | None = None
    report_url: str | None = None
    retry: RetryPolicy = RetryPolicy()
    repeat_after: timedelta = timedelta(hours=24)

    @property
    def channels(self) -> tuple[str, ...]:
        names = ("slack", "pagerduty", "webhook", "pushgateway")
        return tuple(n for n in names if getattr(self, n) is not None)


class _Reader:
    """Reads one mapping, raising ConfigError that names `alerts.<key>` and its line."""

    def __init__(self, path: Path, line_of: LineOf | None) -> None:
        self.path, self.line_of = path, line_of

    def fail(self, key: tuple[str, ...], message: str) -> ConfigError:
        line = self.line_of(("alerts", *key)) if self.line_of else None
        return ConfigError(message, path=self.path, line=line, key=".".join(("alerts", *key)))

    def mapping(self, value: Any, key: tuple[str, ...], known: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, "must be a mapping")
        for name in value:
            if str(name) not in known:
                raise self.fail(
                    (*key, str(name)), f"unknown key (known: {', '.join(sorted(known))})"
                )
        return {str(k): v for k, v in value.items()}

    def text(self, data: dict[str, Any], key: tuple[str, ...], name: str) -> str | None:
        value = data.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail((*key, name), "must be a non-empty string")
        return value

    def env(self, data: dict[str, Any], key: tuple[str, ...], name: str) -> str | None:
        value = self.text(data, key, name)
        if value is not None and not _ENV_NAME.match(value):
            raise self.fail((*key, name), "must name an environment variable, not hold a value")
        return value

    def number(
        self, data: dict[str, Any], key: tuple[str, ...], name: str, default: float, minimum: float
    ) -> float:
        value = data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise self.fail((*key, name), f"must be a number >= {minimum:g}")
        return float(value)


def parse_alerts_config(
    mapping: Mapping[Any, Any] | None, config_path: Path, line_of: LineOf | None = None
) -> AlertsConfig:
    """Validate the `alerts:` mapping of a suite config; `line_of` points errors at lines."""
    r = _Reader(Path(config_path), line_of)
    if not mapping:
        return AlertsConfig()
    raw = dict(mapping)
    if True in raw:  # YAML 1.1 reads a bare `on:` key as the boolean true
        raw["on"] = raw.pop(True)
    data = r.mapping(
        raw,
        (),
        {
            "on",
            "slack",
            "pagerduty",
            "webhook",
            "pushgateway",
            "report_url",
            "retry",
            "repeat_after",
        },
    )
    return AlertsConfig(
        on=_verdicts(r, data.get("on")),
        slack=_slack(r, data["slack"]) if "slack" in data else None,
        pagerduty=_pagerduty(r, data["pagerduty"]) if "pagerduty" in data else None,
        webhook=_webhook(r, data["webhook"]) if "webhook" in data else None,
        pushgateway=_pushgateway(r, data["pushgateway"]) if "pushgateway" in data else None,
        report_url=r.text(data, (), "report_url"),
        retry=_retry(r, data["retry"]) if "retry" in data else RetryPolicy(),
        repeat_after=_repeat_after(r, data.get("repeat_after")),
    )


def _repeat_after(r: _Reader, value: Any) -> timedelta:
    if value is None:
        return AlertsConfig.repeat_after
    try:
        every = parse_duration(value) if isinstance(value, str) else None
    except ValueError:
        every = None
    if every is None or every.total_seconds() <= 0:
        raise r.fail(("repeat_after",), "must be a duration such as 30m, 24h or 7d")
    return every


def _verdicts(r: _Reader, value: Any) -> frozenset[str]:
    if value is None:
        return DEFAULT_ON
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise r.fail(("on",), f"must be a list of verdicts ({', '.join(VERDICTS)})")
    unknown = [v for v in items if v not in VERDICTS]
    if unknown:
        raise r.fail(("on",), f"unknown verdict '{unknown[0]}' (known: {', '.join(VERDICTS)})")
    return frozenset(items)


def _slack(r: _Reader, value: Any) -> SlackConfig:
    key = ("slack",)
    if isinstance(value, dict) and "webhook_url" in value:
        raise r.fail(
            (*key, "webhook_url"),
            "put the URL in an environment variable and name it in webhook_url_env",
        )
    data = r.mapping(value, key, {"webhook_url_env"})
    name = r.env(data, key, "webhook_url_env")
    if name is None:
        raise r.fail((*key, "webhook_url_env"), "required")
    return SlackConfig(name)


def _pagerduty(r: _Reader, value: Any) -> PagerDutyConfig:
    key = ("pagerduty",)
    if isinstance(value, dict) and "routing_key" in value:
        raise r.fail(
            (*key, "routing_key"),
            "put the key in an environment variable and name it in routing_key_env",
        )
    data = r.mapping(value, key, {"routing_key_env", "url", "source"})
    name = r.env(data, key, "routing_key_env")
    if name is None:
        raise r.fail((*key, "routing_key_env"), "required")
    url = _url(r, data, key, "url") or PAGERDUTY_URL
    return PagerDutyConfig(name, url, r.text(data, key, "source"))


def _webhook(r: _Reader, value: Any) -> WebhookConfig:
    key = ("webhook",)
    data = r.mapping(value, key, {"url", "url_env", "headers"})
    url, url_env = _url(r, data, key, "url"), r.env(data, key, "url_env")
    if (url is None) == (url_env is None):
        raise r.fail(key, "needs exactly one of url and url_env")
    headers = data.get("headers", {})
    if not isinstance(headers, dict) or not all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in headers.values()
    ):
        raise r.fail((*key, "headers"), "must be a mapping of header names to strings")
    return WebhookConfig(url, url_env, {str(k): str(v) for k, v in headers.items()})


def _pushgateway(r: _Reader, value: Any) -> PushgatewayConfig:
    key = ("pushgateway",)
    data = r.mapping(value, key, {"url", "url_env", "job"})
    url, url_env = _url(r, data, key, "url"), r.env(data, key, "url_env")
    if (url is None) == (url_env is None):
        raise r.fail(key, "needs exactly one of url and url_env")
    return PushgatewayConfig(url, url_env, r.text(data, key, "job") or "canary")


def _retry(r: _Reader, value: Any) -> RetryPolicy:
    key = ("retry",)
    data = r.mapping(value, key, {"attempts", "base_delay_s", "max_delay_s", "timeout_s"})
    attempts = data.get("attempts", RetryPolicy.attempts)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise r.fail((*key, "attempts"), "must be an integer >= 1")
    return RetryPolicy(
        attempts=attempts,
        base_delay_s=r.number(data, key, "base_delay_s", RetryPolicy.base_delay_s, 0),
        max_delay_s=r.number(data, key, "max_delay_s", RetryPolicy.max_delay_s, 0),
        timeout_s=r.number(data, key, "timeout_s", RetryPolicy.timeout_s, 0.001),
    )


def _url(r: _Reader, data: dict[str, Any], key: tuple[str, ...], name: str) -> str | None:
    url = r.text(data, key, name)
    if url is not None and not url.startswith(("http://", "https://")):
        raise r.fail((*key, name), "must be an http:// or https:// URL")
    return url
