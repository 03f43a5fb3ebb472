"""Anthropic's Messages API."""

from __future__ import annotations

import pytest

from canary_eval.models import Case
from canary_eval.run.providers import CallFailure, ChatRequest

from .conftest import complete, complete_request, provider
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


TOOL_USE = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [
        {"type": "thinking", "thinking": "The customer wants invoice 1042.", "signature": "EqQB"},
        {"type": "redacted_thinking", "data": "EmwKAhgB"},
        {"type": "text", "text": "Let me look that up."},
        {
            "type": "tool_use",
            "id": "toolu_01",
            "name": "lookup_invoice",
            "input": {"invoice_id": "INV-1042"},
        },
    ],
    "stop_reason": "tool_use",
    "usage": {
        "input_tokens": 25,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 1000,
        "output_tokens": 90,
    },
}


def test_text_tool_use_and_thinking_blocks_become_one_output(server: RecordingServer) -> None:
    server.script("/v1/messages", Reply(200, TOOL_USE))

    completion = complete(provider("anthropic", base_url=server.url + "/v1", model="m"))

    assert completion.text == "Let me look that up."  # thinking is not part of the answer
    (call,) = completion.tool_calls
    assert (call.name, call.arguments, call.id) == (
        "lookup_invoice", {"invoice_id": "INV-1042"}, "toolu_01")  # fmt: skip
    assert completion.finish_reason == "tool_use"


def test_cache_reads_and_writes_count_as_input_and_are_kept_apart(
    server: RecordingServer,
) -> None:
    usage = {"input_tokens": 25, "cache_creation_input_tokens": 500,
             "cache_read_input_tokens": 1000, "output_tokens": 90}  # fmt: skip
    server.script("/v1/messages", Reply(200, {**TOOL_USE, "usage": usage}))

    completion = complete(provider("anthropic", base_url=server.url + "/v1", model="m"))

    u = completion.usage
    assert (u.input_tokens, u.cached_input_tokens, u.cache_write_tokens) == (1525, 1000, 500)
    assert u.output_tokens == 90


def test_a_chat_format_conversation_is_translated_to_the_messages_api(
    server: RecordingServer,
) -> None:
    server.script("/v1/messages", Reply(200, MESSAGE))
    history = (
        {"role": "system", "content": "You are the Ledgerly assistant."},
        {"role": "user", "content": "Is INV-1042 paid?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function",
         "function": {"name": "lookup_invoice", "arguments": '{"invoice_id": "INV-1042"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "paid"}'},
    )  # fmt: skip
    parameters = {"type": "object", "properties": {"invoice_id": {"type": "string"}}}
    tool = {
        "type": "function",
        "function": {"name": "lookup_invoice", "description": "Find one", "parameters": parameters},
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}}
    request = ChatRequest(Case("c1", "q"), None, "q", history, (tool,), "required", fmt)

    complete_request(provider("anthropic", base_url=server.url + "/v1", model="m"), request)

    body = server.requests[0].json()
    assert body["system"] == "You are the Ledgerly assistant."
    assert body["messages"] == [
        {"role": "user", "content": "Is INV-1042 paid?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "call_1",
         "name": "lookup_invoice", "input": {"invoice_id": "INV-1042"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1",
         "content": '{"status": "paid"}'}]},
    ]  # fmt: skip
    assert body["tools"] == [{"name": "lookup_invoice", "description": "Find one",
                              "input_schema": parameters}]  # fmt: skip
    assert body["tool_choice"] == {"type": "any"}
    assert body["output_format"] == {"type": "json_schema", "schema": {"type": "object"}}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"content": "text"}, "no content blocks"),
        ({"content": [{"type": "text", "text": None}]}, "no text"),
        ({"content": [{"type": "tool_use", "input": {}}]}, "no name"),
        ({"content": [], "usage": {"input_tokens": -3}}, "usage.input_tokens"),
    ],
)
def test_a_value_of_the_wrong_type_is_a_malformed_response(
    server: RecordingServer, body: dict[str, object], problem: str
) -> None:
    server.script("/v1/messages", Reply(200, body))

    with pytest.raises(CallFailure, match=problem) as failure:
        complete(provider("anthropic", base_url=server.url + "/v1", model="m"))

    assert failure.value.kind == "malformed_response"
