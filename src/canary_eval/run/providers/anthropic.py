"""Anthropic's Messages API: `x-api-key`, `anthropic-version`, a top-level system prompt, and
`stop_reason` instead of `finish_reason`.

The prompt arrives in chat format (OpenAI's) and is translated: system messages go on top,
assistant tool calls become `tool_use` blocks, `tool` results `tool_result` blocks in a user turn,
function tools `{name, description, input_schema}`, and a `json_schema` response format the
structured-output `output_format`. Answers come back as `text`, `tool_use` and `thinking` blocks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from canary_eval.models import Completion, Usage
from canary_eval.run.providers.base import (
    CallFailure,
    ChatRequest,
    HttpProvider,
    api_key,
    configured_headers,
    parsed,
    with_headroom,
)
from canary_eval.run.providers.chat import (
    Message,
    conversation,
    malformed,
    text_of,
    token_count,
    tool_call,
)
from canary_eval.suite.config import ProviderConfig

DEFAULT_BASE_URL = "https://api.anthropic.com/v1"
DEFAULT_VERSION = "2023-06-01"


class AnthropicProvider(HttpProvider):
    async def complete(self, request: ChatRequest) -> Completion:
        config = self.config
        system, messages = translate_messages(
            conversation(request.system, request.user, request.messages)
        )
        body: dict[str, Any] = {
            "model": config.model,
            "max_tokens": config.max_tokens,
            "temperature": config.temperature,
            "messages": messages,
        }
        if system:
            body["system"] = system
        if request.tools:
            body["tools"] = [translate_tool(t) for t in request.tools]
        if request.tool_choice is not None:
            body["tool_choice"] = translate_tool_choice(request.tool_choice)
        schema = (request.response_format or {}).get("json_schema")
        if isinstance(schema, Mapping):
            body["output_format"] = {"type": "json_schema", "schema": schema.get("schema", {})}
        body.update(config.options.get("extra_body", {}))
        url = base_url(config) + "/messages"
        data, reply_headers = await self.post_json(url, body, headers(config))
        return with_headroom(parsed(parse_message, data), reply_headers)


def base_url(config: ProviderConfig) -> str:
    """The API root ending in /v1: `ANTHROPIC_BASE_URL` is conventionally given without it
    (`https://api.anthropic.com`, as Anthropic's SDKs take it), configs often with it."""
    url = (config.base_url or DEFAULT_BASE_URL).rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


def headers(config: ProviderConfig) -> dict[str, str]:
    out = configured_headers(config)
    out["anthropic-version"] = str(config.options.get("anthropic_version", DEFAULT_VERSION))
    key = api_key(config)
    if key:
        out["x-api-key"] = key
    return out


def translate_messages(messages: Sequence[Message]) -> tuple[str, list[dict[str, Any]]]:
    """Chat-format messages -> Anthropic's top-level system text and its message list."""
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for message in messages:
        role, content = message.get("role"), message.get("content")
        if role in ("system", "developer"):
            system.append(text_of(content, "system message"))
        elif role == "tool":
            block = {
                "type": "tool_result",
                "tool_use_id": str(message.get("tool_call_id", "")),
                "content": text_of(content, "tool message"),
            }
            # Results of one turn's calls go back together, in one user message.
            if out and out[-1]["role"] == "user" and _is_results(out[-1]["content"]):
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
        elif role == "assistant" and message.get("tool_calls"):
            out.append({"role": "assistant", "content": _tool_use_blocks(message)})
        else:
            out.append({"role": str(role), "content": content})
    return "\n\n".join(s for s in system if s), out


def _is_results(content: Any) -> bool:
    return isinstance(content, list) and all(b.get("type") == "tool_result" for b in content)


def _tool_use_blocks(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    text = text_of(message.get("content"), "assistant message")
    if text:
        blocks.append({"type": "text", "text": text})
    for call in message.get("tool_calls") or ():
        function = call.get("function", {})
        try:
            arguments = json.loads(function.get("arguments") or "{}")
        except ValueError:
            arguments = {}
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": function.get("name"),
                "input": arguments if isinstance(arguments, dict) else {},
            }
        )
    return blocks


def translate_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    """`{type: function, function: {name, description, parameters}}` -> Anthropic's form."""
    function = tool.get("function", tool)
    out = {
        "name": function.get("name"),
        "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
    }
    if function.get("description"):
        out["description"] = function["description"]
    return out


def translate_tool_choice(choice: Any) -> dict[str, Any]:
    """OpenAI's `auto` / `none` / `required` / `{function: {name}}` -> Anthropic's."""
    if isinstance(choice, Mapping):
        name = choice.get("function", {}).get("name") or choice.get("name")
        return {"type": "tool", "name": name}
    return {"type": {"required": "any"}.get(str(choice), str(choice))}


def parse_message(data: Any) -> Completion:
    """A Messages body -> Completion: `text` blocks joined, `tool_use` blocks as tool calls,
    `thinking` blocks left out of the output (their tokens are in the usage), and cache reads and
    writes counted as input."""
    blocks = data.get("content") if isinstance(data, dict) else None
    if not isinstance(blocks, list):
        raise malformed("response has no content blocks")
    texts, calls = [], []
    for block in blocks:
        if not isinstance(block, dict):
            raise malformed("a content block is not an object")
        kind = block.get("type")
        if kind == "text":
            text = block.get("text")
            if not isinstance(text, str):
                raise malformed("a text block has no text")
            texts.append(text)
        elif kind == "tool_use":
            calls.append(tool_call(block.get("name"), block.get("input", {}), block.get("id")))
    stop = data.get("stop_reason")
    if stop == "max_tokens":
        raise CallFailure("truncated", "output cut at max_tokens (stop_reason: max_tokens)")
    usage = data.get("usage") or {}
    cache_read = token_count(usage, "cache_read_input_tokens")
    cache_write = token_count(usage, "cache_creation_input_tokens")
    model = data.get("model")
    return Completion(
        text="".join(texts),
        model=model if isinstance(model, str) else None,
        fingerprint=None,
        usage=Usage(
            # Anthropic's input_tokens leaves out what was read from or written to the cache.
            input_tokens=token_count(usage, "input_tokens") + cache_read + cache_write,
            output_tokens=token_count(usage, "output_tokens"),
            cached_input_tokens=cache_read,
            cache_write_tokens=cache_write,
        ),
        finish_reason=stop if isinstance(stop, str) else None,
        refusal="stop_reason: refusal" if stop == "refusal" else None,
        tool_calls=tuple(calls),
    )
