"""Anthropic's Messages API."""

from __future__ import annotations

import pytest

from .conftest import complete, provider
from factories import RecordingServer, Reply

MESSAGE = {
    "model": "claude-sonnet-4-5-20250929",
    "content": [{"type": "text", "text": "Refunds take 5-10 "}, {"type": "text", "text": "days."}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 20, "output_tokens": 6},
}


def test_a_message_sends_the_system_prompt_on_top_and_records_usage(
    server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_TEST_KEY", "sk-ant-1")
    headers = (("anthropic-ratelimit-requests-remaining", "0"),
               ("anthropic-ratelimit-requests-reset", "2.5"))  # fmt: skip
    server.script("/v1/messages", Reply(200, MESSAGE, headers))
    config = provider(
        "anthropic",
        base_url=server.url + "/v1",
        model="claude-sonnet-4-5",
        api_key_env="ANTHROPIC_TEST_KEY",
        max_tokens=300,
    )

    completion = complete(config)

    assert completion.text == "Refunds take 5-10 days."
    assert completion.model == "claude-sonnet-4-5-20250929"
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (20, 6)
    assert (completion.requests_remaining, completion.reset_s) == (0, 2.5)
    sent = server.requests[0]
    assert sent.headers["x-api-key"] == "sk-ant-1"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    body = sent.json()
    assert body["system"] == "Be brief."
    assert body["messages"] == [{"role": "user", "content": "Where are my invoices?"}]
    assert body["max_tokens"] == 300


def test_a_refusal_stop_reason_marks_the_output_refused(server: RecordingServer) -> None:
    server.script("/v1/messages", Reply(200, {**MESSAGE, "stop_reason": "refusal"}))
    completion = complete(provider("anthropic", base_url=server.url + "/v1", model="m"))
    assert completion.refusal == "stop_reason: refusal"
