"""The tool loop: tool results go back to the model until it answers, within max_turns."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from canary_eval.models import Case, CaseResult, Completion, ToolCall, ToolResult
from canary_eval.run.agent import ToolLoop, looping
from canary_eval.run.providers import ChatRequest, create_provider
from canary_eval.store.baseline import save_run
from canary_eval.suite.config import ProviderConfig

from factories import run
from model_server import ModelServer, serving
from tool_model import ToolModel

RESULT = ToolResult("lookup_invoice", '{"invoice_id": "INV-1", "status": "paid"}')


@pytest.fixture
def model() -> Iterator[tuple[ModelServer, ToolModel]]:
    tool_model = ToolModel()
    with serving(ModelServer(respond=tool_model)) as server:
        yield server, tool_model


def ask(server: ModelServer, case: Case, max_turns: int = 5) -> Completion:
    config = ProviderConfig(type="openai", base_url=server.base_url, model="m")

    async def call() -> Completion:
        loop = ToolLoop(create_provider(config), max_turns)
        try:
            return await loop.complete(ChatRequest(case, None, case.input))
        finally:
            await loop.aclose()

    return asyncio.run(call())


def test_the_final_answer_is_scored_with_the_whole_call_sequence_and_usage(
    model: tuple[ModelServer, ToolModel],
) -> None:
    server, _ = model
    answer = ask(server, Case("c", "Is INV-1 paid?", tool_results=(RESULT,)))

    assert answer.text == "Invoice INV-1 is paid."
    assert [c.name for c in answer.tool_calls] == ["lookup_invoice"]
    assert (answer.turns, answer.usage.input_tokens) == (2, 2000)


def test_without_tool_results_the_first_response_is_the_answer(
    model: tuple[ModelServer, ToolModel],
) -> None:
    server, _ = model
    answer = ask(server, Case("c", "Is INV-1 paid?"))
    assert (answer.text, answer.turns, len(server.requests)) == ("", 1, 1)


def test_a_call_no_result_matches_ends_the_loop(model: tuple[ModelServer, ToolModel]) -> None:
    server, _ = model
    other = ToolResult("lookup_invoice", "{}", arguments={"invoice_id": "INV-2"})
    answer = ask(server, Case("c", "Is INV-1 paid?", tool_results=(other,)))
    assert (answer.turns, len(server.requests)) == (1, 1)


def test_the_loop_stops_at_max_turns(model: tuple[ModelServer, ToolModel]) -> None:
    server, tool_model = model
    tool_model.always_call = True

    answer = ask(server, Case("c", "Is INV-1 paid?", tool_results=(RESULT,)), max_turns=3)

    assert (answer.turns, len(answer.tool_calls), len(server.requests)) == (3, 3, 3)
    case_bound = ask(server, Case("c", "Is INV-1 paid?", tool_results=(RESULT,), max_turns=2))
    assert case_bound.turns == 2


def test_a_replayed_answer_is_the_whole_recorded_conversation(tmp_path: Path) -> None:
    calls = (ToolCall("lookup_invoice", {"invoice_id": "INV-1"}),)
    recorded = CaseResult("c", None, "h", "Invoice INV-1 is paid.", 1.0, tool_calls=calls, turns=2)
    save_run(tmp_path / "run.json", run([recorded]))
    replay = ProviderConfig(type="replay", options={"path": str(tmp_path / "run.json")})
    case = Case("c", "Is INV-1 paid?", tool_results=(RESULT,))

    async def call() -> Completion:
        return await looping(create_provider(replay), 5).complete(ChatRequest(case, None, "q"))

    answer = asyncio.run(call())

    assert (answer.text, answer.turns, answer.tool_calls) == ("Invoice INV-1 is paid.", 2, calls)
