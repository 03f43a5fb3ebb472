"""One delivery: retries on 429 and 5xx with backoff, never on another 4xx, never raises,
and never lets a secret out."""

from __future__ import annotations

import httpx
import pytest

from canary_eval.notify.config import RetryPolicy
from canary_eval.notify.delivery import send
from canary_eval.redaction import Redactor

from factories import RecordingServer, Reply

FAST = RetryPolicy(attempts=4, base_delay_s=0.01, max_delay_s=0.05, timeout_s=5)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def client() -> httpx.Client:
    return httpx.Client()


def test_429_and_500_are_retried_with_exponential_backoff_until_success(
    server: RecordingServer, client: httpx.Client
) -> None:
    server.script("/hook", 429, 500, 503, 202)
    sleeps = Sleeps()
    result = send(client, "webhook", f"{server.url}/hook", json={"a": 1}, policy=FAST, sleep=sleeps)
    assert (result.ok, result.status, result.attempts, result.error) == (True, 202, 4, None)
    assert len(server.to("/hook")) == 4
    assert sleeps == [0.01, 0.02, 0.04]


def test_retry_after_is_honoured_up_to_the_policys_cap(
    server: RecordingServer, client: httpx.Client
) -> None:
    server.script(
        "/hook",
        Reply(429, headers=(("Retry-After", "0.03"),)),
        Reply(429, headers=(("Retry-After", "3600"),)),
        200,
    )
    sleeps = Sleeps()
    assert send(client, "slack", f"{server.url}/hook", json={}, policy=FAST, sleep=sleeps).ok
    assert sleeps == [0.03, 0.05]


def test_another_4xx_is_not_retried(server: RecordingServer, client: httpx.Client) -> None:
    server.script("/hook", Reply(400, "invalid_payload"))
    sleeps = Sleeps()
    result = send(client, "slack", f"{server.url}/hook", json={}, policy=FAST, sleep=sleeps)
    assert (result.ok, result.status, result.attempts) == (False, 400, 1)
    assert result.error == "HTTP 400: invalid_payload"
    assert len(server.requests) == 1
    assert sleeps == []


def test_giving_up_after_the_last_attempt_is_reported_not_raised(
    server: RecordingServer, client: httpx.Client
) -> None:
    server.script("/hook", 500, 500, 500, 500, 500)
    result = send(client, "webhook", f"{server.url}/hook", json={}, policy=FAST, sleep=Sleeps())
    assert (result.ok, result.status, result.attempts) == (False, 500, 4)
    assert len(server.requests) == 4


def test_an_unreachable_endpoint_is_retried_then_reported(client: httpx.Client) -> None:
    with RecordingServer() as gone:
        url = f"{gone.url}/hook"
    result = send(client, "webhook", url, json={}, policy=FAST, sleep=Sleeps())
    assert (result.ok, result.status, result.attempts) == (False, None, 4)
    assert result.error is not None
    assert result.error.startswith("ConnectError")


def test_secrets_echoed_by_the_server_are_redacted(
    server: RecordingServer, client: httpx.Client
) -> None:
    secret_url = f"{server.url}/services/T0/B0/very-secret-token"
    server.script(
        "/services/T0/B0/very-secret-token",
        Reply(404, "no_service for /services/T0/B0/very-secret-token key=pd-key-123"),
    )
    result = send(
        client,
        "slack",
        secret_url,
        json={},
        redact=Redactor([secret_url, "pd-key-123"]),
        policy=FAST,
        sleep=Sleeps(),
    )
    assert result.error == "HTTP 404: no_service for *** key=***"


def test_a_malformed_url_is_reported_without_the_secret(client: httpx.Client) -> None:
    secret = "http://[::1:bad/very-secret-token"
    result = send(
        client, "slack", secret, json={}, redact=Redactor([secret]), policy=FAST, sleep=Sleeps()
    )
    assert not result.ok
    assert result.attempts == 1
    assert "very-secret-token" not in repr(result)


def test_the_redactor_replaces_the_secret_and_its_encoded_forms() -> None:
    redact = Redactor(["https://hooks.example/services/a b/c", None, ""])
    assert redact("to https://hooks.example/services/a b/c") == "to ***"
    assert redact("path /services/a%20b/c") == "path ***"
    assert redact("url https%3A%2F%2Fhooks.example%2Fservices%2Fa%20b%2Fc") == "url ***"
    assert redact("just /services/a b/c") == "just ***"
