"""OpenAI-compatible chat completions, including Azure OpenAI and passed-through fields."""

from __future__ import annotations

import pytest

from canary_eval.run.providers import CallFailure

from .conftest import complete, provider
from factories import RecordingServer, Reply

ANSWER = {
    "model": "gpt-4o-mini-2024-07-18",
    "system_fingerprint": "fp_abc",
    "choices": [{"message": {"content": "Settings > Export."}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 4},
}


def test_a_completion_records_text_usage_model_and_fingerprint(
    server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_TEST_KEY", "sk-123")
    server.script("/v1/chat/completions", Reply(200, ANSWER))
    config = provider(
        "openai",
        base_url=server.url + "/v1",
        model="gpt-4o-mini",
        api_key_env="OPENAI_TEST_KEY",
        extra_body={"seed": 7, "top_p": 0.5},
    )

    completion = complete(config)

    assert (completion.text, completion.model, completion.fingerprint) == (
        "Settings > Export.", "gpt-4o-mini-2024-07-18", "fp_abc")  # fmt: skip
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (12, 4)
    sent = server.requests[0]
    assert sent.headers["Authorization"] == "Bearer sk-123"
    body = sent.json()
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert (body["seed"], body["top_p"], body["temperature"]) == (7, 0.5, 0.0)


def test_azure_uses_the_api_key_header_and_the_api_version(
    server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_TEST_KEY", "azure-123")
    deployment = "/openai/deployments/support-bot"
    server.script(deployment + "/chat/completions", Reply(200, ANSWER))
    config = provider(
        "openai",
        base_url=server.url + deployment,
        model="support-bot",
        api_key_env="AZURE_TEST_KEY",
        api_version="2024-06-01",
    )

    complete(config)

    sent = server.requests[0]
    assert sent.headers["api-key"] == "azure-123"
    assert "Authorization" not in sent.headers
    assert sent.path == deployment + "/chat/completions"


def test_a_provider_refusal_is_an_output_flagged_as_refused(server: RecordingServer) -> None:
    refusal = {"choices": [{"message": {"content": None, "refusal": "I can't help with that."},
                            "finish_reason": "stop"}]}  # fmt: skip
    server.script("/v1/chat/completions", Reply(200, refusal))

    completion = complete(provider("openai", base_url=server.url + "/v1", model="m"))

    assert completion.text == "I can't help with that."
    assert completion.refusal == "I can't help with that."


def test_rate_limit_headroom_is_read_from_the_headers(server: RecordingServer) -> None:
    headers = (("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "1.5s"))
    server.script("/v1/chat/completions", Reply(200, ANSWER, headers))

    completion = complete(provider("openai", base_url=server.url + "/v1", model="m"))

    assert (completion.requests_remaining, completion.reset_s) == (0, 1.5)


def test_a_429_carries_how_long_to_wait(server: RecordingServer) -> None:
    server.script(
        "/v1/chat/completions", Reply(429, {"error": "slow down"}, (("retry-after", "2"),))
    )

    with pytest.raises(CallFailure) as failure:
        complete(provider("openai", base_url=server.url + "/v1", model="m"))

    assert (failure.value.kind, failure.value.retry_after_s) == ("rate_limited", 2.0)
