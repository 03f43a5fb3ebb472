"""OpenAI-compatible chat completions, including Azure OpenAI and passed-through fields."""

from __future__ import annotations

import pytest

from canary_eval.models import Case
from canary_eval.run.providers import CallFailure, ChatRequest

from .conftest import complete, complete_request, provider
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


# The documented shapes of a chat completion beyond plain text: every one is an output.

TOOL_CALL_ANSWER = {
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "message": {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "tool_calls": [
                    {
                        "id": "call_abc",
                        "type": "function",
                        "function": {
                            "name": "lookup_invoice",
                            "arguments": '{"invoice_id": "INV-1042"}',
                        },
                    },
                    {
                        "id": "call_def",
                        "type": "function",
                        "function": {"name": "open_dispute", "arguments": '{"invoice_id": '},
                    },
                ],
            },
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {
        "prompt_tokens": 1200,
        "completion_tokens": 300,
        "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 256, "audio_tokens": 0},
    },
}


def test_null_content_with_tool_calls_is_an_output_of_tool_calls(server: RecordingServer) -> None:
    server.script("/v1/chat/completions", Reply(200, TOOL_CALL_ANSWER))

    completion = complete(provider("openai", base_url=server.url + "/v1", model="m"))

    assert completion.text == ""
    first, second = completion.tool_calls
    assert (first.name, first.arguments, first.id) == (
        "lookup_invoice", {"invoice_id": "INV-1042"}, "call_abc")  # fmt: skip
    # Arguments that are not JSON are kept as sent, for the scorers to fail the case.
    assert (second.name, second.arguments, second.raw_arguments) == (
        "open_dispute", None, '{"invoice_id": ')  # fmt: skip
    usage = completion.usage
    assert (usage.input_tokens, usage.cached_input_tokens) == (1200, 1024)
    assert (usage.output_tokens, usage.reasoning_tokens) == (300, 256)


def test_the_legacy_function_call_is_a_tool_call(server: RecordingServer) -> None:
    legacy = {"choices": [{"message": {"content": None, "function_call": {
        "name": "lookup_invoice", "arguments": '{"invoice_id": "INV-7"}'}},
        "finish_reason": "function_call"}]}  # fmt: skip
    server.script("/v1/chat/completions", Reply(200, legacy))

    completion = complete(provider("openai", base_url=server.url + "/v1", model="m"))

    assert [(c.name, c.arguments) for c in completion.tool_calls] == [
        ("lookup_invoice", {"invoice_id": "INV-7"})
    ]


def test_content_parts_are_joined_and_a_refusal_part_is_the_refusal(
    server: RecordingServer,
) -> None:
    parts = {"choices": [{"message": {"content": [
        {"type": "text", "text": "Go to Settings "}, {"type": "text", "text": "> Export."}]},
        "finish_reason": "stop"}]}  # fmt: skip
    refused = {
        "choices": [
            {
                "message": {"content": [{"type": "refusal", "refusal": "I can't share that."}]},
                "finish_reason": "stop",
            }
        ]
    }
    server.script("/v1/chat/completions", Reply(200, parts), Reply(200, refused))
    config = provider("openai", base_url=server.url + "/v1", model="m")

    assert complete(config).text == "Go to Settings > Export."
    refusal = complete(config)
    assert (refusal.text, refusal.refusal) == ("I can't share that.", "I can't share that.")


def test_null_content_without_tool_calls_is_an_empty_answer(server: RecordingServer) -> None:
    empty = {"choices": [{"message": {"content": None}, "finish_reason": "stop"}]}
    server.script("/v1/chat/completions", Reply(200, empty))

    completion = complete(provider("openai", base_url=server.url + "/v1", model="m"))

    assert (completion.text, completion.tool_calls) == ("", ())


@pytest.mark.parametrize(
    ("message", "usage", "problem"),
    [
        ({"content": 42}, {}, "content is neither text"),
        ({"content": None, "tool_calls": "lookup"}, {}, "tool_calls is not a list"),
        ({"content": None, "tool_calls": [{"function": {"arguments": "{}"}}]}, {}, "no name"),
        ({"content": "ok"}, {"prompt_tokens": "many"}, "usage.prompt_tokens"),
    ],
)
def test_a_value_of_the_wrong_type_is_a_malformed_response(
    server: RecordingServer, message: dict[str, object], usage: dict[str, object], problem: str
) -> None:
    body = {"choices": [{"message": message, "finish_reason": "stop"}], "usage": usage}
    server.script("/v1/chat/completions", Reply(200, body))

    with pytest.raises(CallFailure, match=problem) as failure:
        complete(provider("openai", base_url=server.url + "/v1", model="m"))

    assert failure.value.kind == "malformed_response"


def test_tools_tool_choice_and_response_format_are_sent_as_configured(
    server: RecordingServer,
) -> None:
    server.script("/v1/chat/completions", Reply(200, ANSWER))
    tool = {"type": "function", "function": {"name": "lookup_invoice", "parameters": {}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}}
    history = ({"role": "system", "content": "S"}, {"role": "user", "content": "Hi"})
    request = ChatRequest(Case("c1", "Hi"), None, "Hi", history, (tool,), "required", fmt)

    complete_request(provider("openai", base_url=server.url + "/v1", model="m"), request)

    body = server.requests[0].json()
    assert body["messages"] == list(history)
    assert (body["tools"], body["tool_choice"], body["response_format"]) == (
        [tool], "required", fmt)  # fmt: skip
