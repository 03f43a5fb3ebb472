"""The bounded tool loop: for a case that supplies tool results, answer the model's tool calls
with them and call it again, up to `max_turns` calls, so the final answer and the whole call
sequence can be scored. Without tool results the turn under test is the first response.

`ToolLoop` wraps a provider and is a provider itself, so the engine's retries, pacing and
deadline apply to a conversation as to one call: a failure on any turn fails the conversation,
and a retry starts it again from the first turn (at temperature 0 it takes the same path).

The loop stops at an answer without tool calls, at a call no tool result matches (the model asked
for something the case did not foresee: scorers judge what it did so far), or at `max_turns`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from canary_eval.models import Completion, ToolCall, ToolResult, Usage
from canary_eval.run.providers import ChatRequest, Provider
from canary_eval.run.providers.chat import assistant_turn, call_id, conversation
from canary_eval.suite.config import ProviderConfig


@dataclass
class ToolLoop:
    """A provider that runs a case's tool loop on top of `inner`."""

    inner: Provider
    max_turns: int = 5
    config: ProviderConfig = field(init=False)

    def __post_init__(self) -> None:
        self.config = self.inner.config

    async def complete(self, request: ChatRequest) -> Completion:
        case = request.case
        first = await self.inner.complete(request)
        if not case.tool_results:
            return first
        limit = case.max_turns or self.max_turns
        messages = conversation(request.system, request.user, request.messages)
        calls: list[ToolCall] = []
        usage = Usage()
        answer, turn = first, 1
        while True:
            calls += answer.tool_calls
            usage += answer.usage
            results = [match(case.tool_results, call) for call in answer.tool_calls]
            if not answer.tool_calls or None in results or turn >= limit:
                break
            messages.append(assistant_turn(answer.text, answer.tool_calls, turn))
            messages += [
                {"role": "tool", "tool_call_id": call_id(call, turn, i), "content": result}
                for i, (call, result) in enumerate(zip(answer.tool_calls, results, strict=True))
            ]
            turn += 1
            answer = await self.inner.complete(replace(request, messages=tuple(messages)))
        return replace(answer, tool_calls=tuple(calls), usage=usage, turns=turn)

    async def aclose(self) -> None:
        await self.inner.aclose()


def looping(provider: Provider, max_turns: int) -> Provider:
    """`provider` with the tool loop; a replayed recording is already the whole conversation."""
    return provider if provider.config.type == "replay" else ToolLoop(provider, max_turns)


def match(results: tuple[ToolResult, ...], call: ToolCall) -> str | None:
    """The content of the first result for this call: same tool name and, where the result
    names arguments, the call's arguments include them."""
    for result in results:
        if result.name == call.name and _includes(call.arguments, result.arguments):
            return result.content
    return None


def _includes(arguments: Mapping[str, Any] | None, wanted: Mapping[str, Any] | None) -> bool:
    if not wanted:
        return True
    return arguments is not None and all(arguments.get(k) == v for k, v in wanted.items())
