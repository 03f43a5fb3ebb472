"""The OpenAI wire protocol as the simulator speaks it: what a chat request's user text is,
which requests are malformed, and the shapes of replies and errors."""

from __future__ import annotations

import json
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
    """Every user message's text, joined: where the case's input is to be found."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return ""
    return "\n".join(
        message_text(m.get("content"))
        for m in messages
        if isinstance(m, Mapping) and m.get("role") == "user"
    )


def message_text(content: Any) -> str:
    """A message's text: a string, or the text parts of a content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return ""
