"""Model providers behind one protocol, chosen by `provider.type` in the suite config."""

from __future__ import annotations

import httpx

from canary_eval.run.providers.anthropic import AnthropicProvider
from canary_eval.run.providers.base import CallFailure, ChatRequest, Provider, retry_after
from canary_eval.run.providers.http import GenericHttpProvider
from canary_eval.run.providers.openai import OpenAIProvider
from canary_eval.run.providers.replay import ReplayProvider
from canary_eval.suite.config import ProviderConfig

__all__ = ["CallFailure", "ChatRequest", "Provider", "create_provider", "retry_after"]

_HTTP_PROVIDERS = {
    "openai": OpenAIProvider,
    "anthropic": AnthropicProvider,
    "http": GenericHttpProvider,
}


def create_provider(
    config: ProviderConfig, transport: httpx.AsyncBaseTransport | None = None
) -> Provider:
    if config.type == "replay":
        return ReplayProvider(config)
    return _HTTP_PROVIDERS[config.type](config, transport)
