"""OpenAI-compatible chat completions: OpenAI, Azure OpenAI, vLLM, Ollama, LiteLLM and the
bundled simulator.

Azure is selected by `api_version`: the key goes in the `api-key` header and the version in the
query string; `base_url` is then the deployment URL. `extra_body` fields (`response_format`,
`seed`, `top_p`, ...) are passed through untouched, after the prompt's tools, tool choice and
response format.
"""

from __future__ import annotations

from typing import Any

from canary_eval.models import Completion, ToolCall, Usage
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
    conversation,
    malformed,
    text_of,
    token_count,
    tool_call,
    tool_calls,
)
from canary_eval.suite.config import ProviderConfig

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAIProvider(HttpProvider):
    async def complete(self, request: ChatRequest) -> Completion:
        config = self.config
        body: dict[str, Any] = {
            "model": config.model,
            "messages": conversation(request.system, request.user, request.messages),
            "temperature": config.temperature,
            "max_tokens": config.max_tokens,
        }
        if request.tools:
            body["tools"] = list(request.tools)
        if request.tool_choice is not None:
            body["tool_choice"] = request.tool_choice
        if request.response_format is not None:
            body["response_format"] = request.response_format
        body.update(config.options.get("extra_body", {}))
        url = base_url(config) + "/chat/completions"
        if config.options.get("api_version"):
            url += f"?api-version={config.options['api_version']}"
        data, reply_headers = await self.post_json(url, body, headers(config))
        return with_headroom(parsed(parse_chat_completion, data), reply_headers)


def base_url(config: ProviderConfig) -> str:
    return (config.base_url or DEFAULT_BASE_URL).rstrip("/")


def headers(config: ProviderConfig) -> dict[str, str]:
    """The configured headers plus the key: `api-key` for Azure (`api_version` set), else a
    bearer token."""
    out = configured_headers(config)
    key = api_key(config)
    if key and config.options.get("api_version"):
        out["api-key"] = key
    elif key:
        out["Authorization"] = f"Bearer {key}"
    return out


def parse_chat_completion(data: Any) -> Completion:
    """A chat-completions body -> Completion: text (a string, null or content parts), tool calls
    (`tool_calls` or the legacy `function_call`), refusal and usage with its cached and
    reasoning details. Anything unusable is a classified CallFailure."""
    try:
        choice = data["choices"][0]
        message = choice["message"]
    except (KeyError, IndexError, TypeError):
        raise malformed("response has no choices[0].message") from None
    if not isinstance(choice, dict) or not isinstance(message, dict):
        raise malformed("choices[0].message is not an object")
    finish = choice.get("finish_reason")
    if finish == "content_filter":
        raise CallFailure("content_filter", "the provider's content filter blocked the output")
    content = message.get("content")
    text = text_of(content, "choices[0].message.content")
    refusal = message.get("refusal") or _part_refusal(content)
    if refusal is not None and not isinstance(refusal, str):
        raise malformed("choices[0].message.refusal is not text")
    calls = _tool_calls(message)
    if refusal and not text:
        # A refusal is behaviour to measure, not a failed call: it stays an output.
        text = refusal
    if finish == "length":
        raise CallFailure("truncated", "output cut at max_tokens (finish_reason: length)")
    usage = data.get("usage") or {}
    return Completion(
        text=text,
        model=_optional_text(data.get("model")),
        fingerprint=_optional_text(data.get("system_fingerprint")),
        usage=Usage(
            input_tokens=token_count(usage, "prompt_tokens"),
            output_tokens=token_count(usage, "completion_tokens"),
            cached_input_tokens=token_count(usage, "prompt_tokens_details", "cached_tokens"),
            reasoning_tokens=token_count(usage, "completion_tokens_details", "reasoning_tokens"),
        ),
        finish_reason=finish if isinstance(finish, str) else None,
        refusal=refusal or None,
        tool_calls=calls,
    )


def _tool_calls(message: dict[str, Any]) -> tuple[ToolCall, ...]:
    raw = message.get("tool_calls")
    if raw is None:
        legacy = message.get("function_call")
        if legacy is None:
            return ()
        if not isinstance(legacy, dict):
            raise malformed("choices[0].message.function_call is not an object")
        return (tool_call(legacy.get("name"), legacy.get("arguments", "")),)
    return tool_calls(raw, "choices[0].message.tool_calls")


def _part_refusal(content: Any) -> str | None:
    """The refusal part of a content-part list, if it has one."""
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "refusal":
                refusal = part.get("refusal")
                return refusal if isinstance(refusal, str) else None
    return None


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
