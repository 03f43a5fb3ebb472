"""Sending one alert over HTTP: retries with backoff, secrets redacted, failures reported.

A delivery retries on 429, 5xx and transport errors (honouring `Retry-After`, capped by the
policy), never on another 4xx: a rejected payload will be rejected again. It never raises; it
returns a `DeliveryResult`, and nothing in one (nor in any message) holds a secret: every secret
the delivery knows is replaced with `***` in whatever text leaves this module.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from canary_eval.notify.config import RetryPolicy
from canary_eval.redaction import Redactor

if TYPE_CHECKING:
    import httpx

DEFAULT_POLICY = RetryPolicy()
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class DeliveryResult:
    """How one channel's delivery went. `error` is already redacted."""

    channel: str  # slack | pagerduty | webhook | pushgateway
    ok: bool
    status: int | None = None  # the last HTTP status, None when no answer came
    attempts: int = 0
    error: str | None = None
    action: str = "trigger"  # trigger | resolve | push


def send(
    client: httpx.Client,
    channel: str,
    url: str,
    *,
    json: Any = None,
    content: bytes | None = None,
    method: str = "POST",
    headers: Mapping[str, str] | None = None,
    redact: Redactor | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    action: str = "trigger",
    sleep: Sleep = time.sleep,
) -> DeliveryResult:
    """Send one request with retries; the outcome, never an exception."""
    import httpx  # here: checking an alerts config (`canary validate`) needs no HTTP client

    redact = redact or Redactor()
    status: int | None = None
    error = "not sent"
    attempt = 0
    for attempt in range(1, policy.attempts + 1):
        wait: float | None = None
        try:
            response = client.request(
                method,
                url,
                json=json,
                content=content,
                headers=dict(headers or {}),
                timeout=policy.timeout_s,
            )
        except httpx.TransportError as exc:  # connect, timeout, protocol: worth another try
            status, error = None, f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a bad URL or anything else: trying again will not help
            return DeliveryResult(
                channel, False, None, attempt, redact(f"{type(exc).__name__}: {exc}"), action
            )
        else:
            status = response.status_code
            if 200 <= status < 300:
                return DeliveryResult(channel, True, status, attempt, None, action)
            error = f"HTTP {status}: {' '.join(response.text[:200].split())}".rstrip(": ")
            if status != 429 and status < 500:
                break
            wait = _retry_after(response.headers.get("retry-after"))
        if attempt < policy.attempts:
            backoff = policy.base_delay_s * 2 ** (attempt - 1)
            sleep(min(policy.max_delay_s, wait if wait is not None else backoff))
    return DeliveryResult(channel, False, status, attempt, redact(error), action)


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff
    return max(0.0, seconds) if seconds is not None else None
