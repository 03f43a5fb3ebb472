"""Any in-house JSON endpoint, through a body template and response paths."""

from __future__ import annotations

import pytest

from canary_eval.models import Case
from canary_eval.run.providers import CallFailure

from .conftest import complete, provider
from factories import RecordingServer, Reply


def test_the_body_template_is_filled_and_the_response_paths_are_followed(
    server: RecordingServer,
) -> None:
    reply = {"data": {"answer": "Use Settings > Export.", "engine": "bot-v7"},
             "usage": {"in": 30, "out": 5}}  # fmt: skip
    server.script("/api/answer", Reply(200, reply))
    config = provider(
        "http",
        url=server.url + "/api/answer",
        headers={"X-Team": "support"},
        body={"question": "{{input}}", "locale": "{{metadata.locale}}", "top_k": "{{top_k}}"},
        response={"text": "data.answer", "model": "data.engine", "input_tokens": "usage.in",
                  "output_tokens": "usage.out"},
    )  # fmt: skip
    case = Case(
        id="c1",
        input="How do I export?",
        fields={"input": "How do I export?", "metadata": {"locale": "de"}, "top_k": 3},
    )

    completion = complete(config, case, user="How do I export?")

    assert completion.text == "Use Settings > Export."
    assert completion.model == "bot-v7"
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (30, 5)
    sent = server.requests[0]
    assert sent.headers["X-Team"] == "support"
    assert sent.json() == {"question": "How do I export?", "locale": "de", "top_k": 3}


def test_tool_calls_are_read_at_their_response_path_in_either_shape(
    server: RecordingServer,
) -> None:
    calls = [
        {"name": "lookup_invoice", "arguments": {"number": "INV-7"}},
        {"id": "call_2", "function": {"name": "open_dispute", "arguments": '{"charge": "ch_1"}'}},
    ]
    server.script("/api/answer", Reply(200, {"data": {"answer": None, "calls": calls}}))
    config = provider(
        "http",
        url=server.url + "/api/answer",
        response={"text": "data.answer", "tool_calls": "data.calls"},
    )

    completion = complete(config)

    assert completion.text == ""  # a turn that only calls tools has no text
    assert [(c.name, c.arguments, c.id) for c in completion.tool_calls] == [
        ("lookup_invoice", {"number": "INV-7"}, None),
        ("open_dispute", {"charge": "ch_1"}, "call_2"),
    ]


@pytest.mark.parametrize("calls", [{"name": "x"}, ["lookup_invoice"], [{"arguments": {}}]])
def test_tool_calls_of_the_wrong_shape_are_a_malformed_response(
    server: RecordingServer, calls: object
) -> None:
    server.script("/api/answer", Reply(200, {"answer": "ok", "calls": calls}))
    config = provider(
        "http", url=server.url + "/api/answer", response={"text": "answer", "tool_calls": "calls"}
    )
    with pytest.raises(CallFailure) as failure:
        complete(config)
    assert failure.value.kind == "malformed_response"
