"""A tool-using model for tests, answering in OpenAI's or Anthropic's documented shapes: tool
calls with null content, content-part lists, thinking blocks, and cache and reasoning token
details. It looks an invoice up when asked about one, opens a dispute when asked to, answers
from a tool result when it gets one, and otherwise answers in text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# Every call: 1,000 prompt tokens of which 800 come from the prompt cache, 50 output tokens of
# which 20 are reasoning.
PROMPT, CACHED, OUTPUT, REASONING = 1000, 800, 50, 20
Call = tuple[str, dict[str, Any]]  # a tool's name and arguments


@dataclass
class ToolModel:
    dispute_tool: str = "open_dispute"  # a drifted model calls another tool here
    always_call: bool = False  # never answers from a tool result: for the loop bound

    def __call__(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        text, calls = self.decide(body["messages"])
        if path.endswith("/messages"):
            return anthropic_message(text, calls)
        return openai_completion(text, calls)

    def decide(self, messages: list[dict[str, Any]]) -> tuple[str, list[Call]]:
        result = tool_result(messages[-1])
        if result is not None and not self.always_call:
            found = json.loads(result)
            return f"Invoice {found['invoice_id']} is {found['status']}.", []
        user = next(
            _text(m.get("content")) for m in reversed(messages) if m["role"] == "user"
            and tool_result(m) is None
        )  # fmt: skip
        invoice = re.search(r"INV-\d+", user)
        if invoice and "dispute" in user:
            return "", [(self.dispute_tool, {"invoice_id": invoice[0], "reason": "duplicate"})]
        if invoice:
            return "", [("lookup_invoice", {"invoice_id": invoice[0]})]
        return "Go to Settings > Export and pick CSV.", []


def tool_result(message: dict[str, Any]) -> str | None:
    if message["role"] == "tool":
        return str(message["content"])
    content = message.get("content")
    if isinstance(content, list):
        for block in content:
            if block.get("type") == "tool_result":
                return str(block["content"])
    return None


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content)
    return str(content)


def openai_completion(text: str, calls: list[Call]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "refusal": None}
    if calls:
        message["content"] = None
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function",
             "function": {"name": name, "arguments": json.dumps(args)}}
            for i, (name, args) in enumerate(calls)
        ]  # fmt: skip
    else:
        message["content"] = [{"type": "text", "text": text, "annotations": []}]
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-test-2025",
        "system_fingerprint": "fp_tools",
        "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
        ],
        "usage": {
            "prompt_tokens": PROMPT,
            "completion_tokens": OUTPUT,
            "total_tokens": PROMPT + OUTPUT,
            "prompt_tokens_details": {"cached_tokens": CACHED, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": REASONING},
        },
    }


def anthropic_message(text: str, calls: list[Call]) -> dict[str, Any]:
    content: list[dict[str, Any]] = [
        {"type": "thinking", "thinking": "Which tool fits?", "signature": "sig"}
    ]
    if text:
        content.append({"type": "text", "text": text})
    content += [
        {"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": args}
        for i, (name, args) in enumerate(calls)
    ]
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-test-2025",
        "content": content,
        "stop_reason": "tool_use" if calls else "end_turn",
        "usage": {
            "input_tokens": PROMPT - CACHED,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": CACHED,
            "output_tokens": OUTPUT,
        },
    }
