"""The chat format every provider translates from and parses into: OpenAI's message list
(`{role, content}`, assistant `tool_calls`, `tool` results) on the way out, and on the way back
the pieces every vendor answers with: text, tool calls and token counts.

Server values are untrusted: a field of the wrong type is a `malformed_response` failure of that
call, never an exception that ends the run. Tool arguments that are not a JSON object are kept as
sent and scored as a failure of the case.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from canary_eval.models import ToolCall
from canary_eval.run.providers.base import CallFailure

Message = Mapping[str, Any]


def malformed(message: str) -> CallFailure:
    return CallFailure("malformed_response", message)


def tool_call(name: Any, arguments: Any, call_id: Any = None) -> ToolCall:
    """A tool call from a vendor's fields; `arguments` a JSON string (OpenAI) or object."""
    if not isinstance(name, str) or not name:
        raise malformed("a tool call has no name")
    ident = call_id if isinstance(call_id, str) else None
    if isinstance(arguments, Mapping):
        return ToolCall(name, dict(arguments), json.dumps(arguments, ensure_ascii=False), ident)
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    try:
        parsed = json.loads(raw) if raw.strip() else {}
    except ValueError:
        parsed = None
    return ToolCall(name, parsed if isinstance(parsed, dict) else None, raw, ident)


def tool_calls(raw: Any, where: str) -> tuple[ToolCall, ...]:
    """The tool calls in a vendor's list at `where`: each OpenAI's `{id, function: {name,
    arguments}}` (`custom: {name, input}` for a free-text tool) or a plain `{name, arguments}`;
    None is no call."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise malformed(f"{where} is not a list")
    calls = []
    for item in raw:
        if not isinstance(item, dict):
            raise malformed(f"{where} has an item that is not an object")
        body = item.get("function") or item.get("custom") or item
        if not isinstance(body, dict):
            raise malformed(f"a tool call in {where} has no function")
        arguments = body.get("arguments", body.get("input", ""))
        calls.append(tool_call(body.get("name"), arguments, item.get("id")))
    return tuple(calls)


def token_count(section: Any, *path: str) -> int:
    """A token count at `path` in a usage section; absent is 0, a wrong type is malformed."""
    value = section
    for key in path:
        if not isinstance(value, Mapping):
            return 0
        value = value.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise malformed(f"usage.{'.'.join(path)} is not a token count")
    return int(value)


def text_of(content: Any, where: str) -> str:
    """A message's text: a string, null, or a list of content parts (their text joined)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, Mapping):
                raise malformed(f"{where} has a content part that is not an object")
            text = part.get("text")
            if isinstance(text, str) and part.get("type", "text") in ("text", "output_text"):
                texts.append(text)
        return "".join(texts)
    raise malformed(f"{where} is neither text, null nor a list of parts")


def conversation(system: str | None, user: str, messages: Sequence[Message]) -> list[Message]:
    """The messages to send: the rendered list, or the short form's system and user turn."""
    if messages:
        return list(messages)
    short: list[Message] = [{"role": "user", "content": user}]
    if system:
        short.insert(0, {"role": "system", "content": system})
    return short


def assistant_turn(text: str, calls: Sequence[ToolCall], turn: int) -> dict[str, Any]:
    """The model's answer as the assistant message of the next request (OpenAI form)."""
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = [
            {
                "id": call_id(call, turn, i),
                "type": "function",
                "function": {"name": call.name, "arguments": call.raw_arguments or "{}"},
            }
            for i, call in enumerate(calls)
        ]
    return message


def call_id(call: ToolCall, turn: int, index: int) -> str:
    """The vendor's id, or a stable one for calls that had none (legacy `function_call`)."""
    return call.id or f"call_{turn}_{index}"
