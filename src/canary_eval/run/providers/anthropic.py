"""Anthropic's Messages API: `x-api-key`, `anthropic-version`, a top-level system prompt, and
`stop_reason` instead of `finish_reason`."""

from __future__ import annotations

from typing import Any

from canary_eval.models import Completion, Usage
from canary_eval.run.providers.base import (
    CallFailure,
    ChatRequest,
    HttpProvider,
    api_key,
    configured_headers,
    with_headroom,
)
from canary_eval.suite.config import ProviderConfig

DEFAULT_BASE_URL = "https://api.anthropic.com/v1"
DEFAULT_VERSION = "2023-06-01"


class AnthropicProvider(HttpProvider):
    async def complete(self, request: ChatRequest) -> Completion:
        config = self.config
        body: dict[str, Any] = {
            "model": config.model,
            "max_tokens": config.max_tokens,
            "temperature": config.temperature,
            "messages": [{"role": "user", "content": request.user}],
            **config.options.get("extra_body", {}),
        }
        if request.system:
            body["system"] = request.system
        url = base_url(config) + "/messages"
        data, reply_headers = await self.post_json(url, body, headers(config))
        return with_headroom(parse_message(data), reply_headers)


def base_url(config: ProviderConfig) -> str:
    return (config.base_url or DEFAULT_BASE_URL).rstrip("/")


def headers(config: ProviderConfig) -> dict[str, str]:
    out = configured_headers(config)
    out["anthropic-version"] = str(config.options.get("anthropic_version", DEFAULT_VERSION))
    key = api_key(config)
    if key:
        out["x-api-key"] = key
    return out


def parse_message(data: Any) -> Completion:
    try:
        blocks = data["content"]
        text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
    except (KeyError, TypeError, AttributeError):
        raise CallFailure("malformed_response", "response has no content blocks") from None
    stop = data.get("stop_reason")
    if stop == "max_tokens":
        raise CallFailure("truncated", "output cut at max_tokens (stop_reason: max_tokens)")
    usage = data.get("usage") or {}
    return Completion(
        text=text,
        model=data.get("model"),
        fingerprint=None,
        usage=Usage(int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))),
        finish_reason=stop,
        refusal="stop_reason: refusal" if stop == "refusal" else None,
    )
