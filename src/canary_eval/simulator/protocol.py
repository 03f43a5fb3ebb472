"""The OpenAI wire protocol as the simulator speaks it: what a chat request's user text is,
which requests are malformed, and the shapes of replies and errors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Reply:
    """What to send back: a status, headers and a body, after `delay_s`; or a connection reset."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    action: Literal["send", "reset"] = "send"


def json_reply(status: int, data: Any, headers: Mapping[str, str], delay_s: float = 0.0) -> Reply:
    return Reply(status, json.dumps(data).encode(), headers, delay_s)


def error_reply(
    status: int, message: str, headers: Mapping[str, str], kind: str, code: str | None = None
) -> Reply:
    """An error in OpenAI's shape: `{"error": {"message", "type", "code"}}`."""
    return json_reply(status, {"error": {"message": message, "type": kind, "code": code}}, headers)


def request_problem(body: Mapping[str, Any]) -> str | None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty list."
    if body.get("stream"):
        return "The simulator does not stream; send stream: false."
    return None


def user_text(body: Mapping[str, Any]) -> str:
    """The last user message's text: the turn under test, where the case's input is found
    (few-shot examples and conversation history come before it)."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return ""
    users = [m for m in messages if isinstance(m, Mapping) and m.get("role") == "user"]
    return message_text(users[-1].get("content")) if users else ""


def may_call_tools(body: Mapping[str, Any]) -> bool:
    """Tools are offered and allowed, and no tool result waits for an answer."""
    messages = body.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else None
    answering = isinstance(last, Mapping) and last.get("role") == "tool"
    return bool(body.get("tools")) and body.get("tool_choice") != "none" and not answering


def tool_call_item(call: Mapping[str, Any]) -> dict[str, Any]:
    """One `tool_calls` item of an assistant message: `{name, arguments}` in OpenAI's shape."""
    arguments = json.dumps(call.get("arguments", {}))
    function = {"name": call["name"], "arguments": arguments}
    return {"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function", "function": function}


def message_text(content: Any) -> str:
    """A message's text: a string, or the text parts of a content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return ""
