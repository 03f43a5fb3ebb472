"""OpenAI-compatible chat completions: OpenAI, Azure OpenAI, vLLM, Ollama, LiteLLM and the
bundled simulator.

Azure is selected by `api_version`: the key goes in the `api-key` header and the version in the
query string; `base_url` is then the deployment URL. `extra_body` fields (`response_format`,
`seed`, `top_p`, ...) are passed through untouched.
"""

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

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAIProvider(HttpProvider):
    async def complete(self, request: ChatRequest) -> Completion:
        config = self.config
        messages = [{"role": "user", "content": request.user}]
        if request.system:
            messages.insert(0, {"role": "system", "content": request.system})
        body: dict[str, Any] = {
            "model": config.model,
            "messages": messages,
            "temperature": config.temperature,
            "max_tokens": config.max_tokens,
            **config.options.get("extra_body", {}),
        }
        url = base_url(config) + "/chat/completions"
        if config.options.get("api_version"):
            url += f"?api-version={config.options['api_version']}"
        data, reply_headers = await self.post_json(url, body, headers(config))
        return with_headroom(parse_chat_completion(data), reply_headers)


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
    """A chat-completions body -> Completion; anything unusable is a classified CallFailure."""
    try:
        choice = data["choices"][0]
        message = choice["message"]
    except (KeyError, IndexError, TypeError):
        raise CallFailure("malformed_response", "response has no choices[0].message") from None
    finish = choice.get("finish_reason")
    refusal = message.get("refusal")
    text = message.get("content")
    if finish == "content_filter":
        raise CallFailure("content_filter", "the provider's content filter blocked the output")
    if refusal and not text:
        # A refusal is behaviour to measure, not a failed call: it stays an output.
        text = str(refusal)
    if not isinstance(text, str):
        raise CallFailure("malformed_response", "choices[0].message.content is not text")
    if finish == "length":
        raise CallFailure("truncated", "output cut at max_tokens (finish_reason: length)")
    usage = data.get("usage") or {}
    return Completion(
        text=text,
        model=data.get("model"),
        fingerprint=data.get("system_fingerprint"),
        usage=Usage(int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))),
        finish_reason=finish,
        refusal=refusal,
    )
