"""Any in-house JSON endpoint, through a body template and response paths."""

from __future__ import annotations

from canary_eval.models import Case

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
