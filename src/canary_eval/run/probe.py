"""Which model does the endpoint serve right now? For `canary run --if-model-changed` and
`canary watch`: run the suite only when the answer changes.

First `GET {base_url}/models`: when the list names a single model, that is the answer. When it
does not tell (many models, an error, no such route), one chat completion of one token answers
with the `model` and `system_fingerprint` the vendor stamps on every response, formatted like
`canary_eval.verdict.metrics.served_label`: "model (fingerprint)". None when the endpoint
cannot say.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx

from canary_eval.errors import AuthError
from canary_eval.run.providers import anthropic, openai
from canary_eval.suite.config import ProviderConfig

ProbeMethod = Literal["auto", "models", "chat"]


def served_model_probe(
    provider_config: ProviderConfig,
    *,
    method: ProbeMethod = "auto",
    timeout_s: float = 10.0,
    transport: httpx.BaseTransport | None = None,
) -> str | None:
    """The served model's label, or None when the endpoint does not say (or cannot be reached:
    the run that follows reports that properly). A missing API key raises AuthError."""
    config = provider_config
    if config.type not in ("openai", "anthropic"):
        return None
    vendor = anthropic if config.type == "anthropic" else openai
    headers, base = vendor.headers(config), vendor.base_url(config)
    with httpx.Client(timeout=timeout_s, transport=transport) as client:
        if method in ("auto", "models"):
            label = _from_models(client, base, headers)
            if label is not None or method == "models":
                return label
        if config.type == "anthropic":
            return _from_anthropic_message(client, base, headers, config.model)
        return _from_chat(client, base, headers, config)


def _get_json(
    client: httpx.Client,
    method: str,
    url: str,
    headers: dict[str, str],
    body: Any = None,
    *,
    key: str = "provider",
) -> Any:
    try:
        response = client.request(method, url, headers=headers, json=body)
    except httpx.HTTPError:
        return None
    if response.status_code in (401, 403):
        raise AuthError(
            f"the provider refused the credentials: HTTP {response.status_code}",
            key=f"{key}.api_key_env",
        )
    if response.status_code >= 300:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _from_models(client: httpx.Client, base: str, headers: dict[str, str]) -> str | None:
    data = _get_json(client, "GET", f"{base}/models", headers)
    models = data.get("data") if isinstance(data, dict) else None
    if not isinstance(models, list) or len(models) != 1 or not isinstance(models[0], dict):
        return None
    entry = models[0]
    return _label(entry.get("id"), entry.get("system_fingerprint") or entry.get("fingerprint"))


def _from_chat(
    client: httpx.Client, base: str, headers: dict[str, str], config: ProviderConfig
) -> str | None:
    body = {
        "model": config.model,
        "messages": [{"role": "user", "content": "ping"}],
        "max_tokens": 1,
        "temperature": 0,
    }
    url = f"{base}/chat/completions"
    if config.options.get("api_version"):
        url += f"?api-version={config.options['api_version']}"
    data = _get_json(client, "POST", url, headers, body, key=config.key)
    if not isinstance(data, dict):
        return None
    return _label(data.get("model"), data.get("system_fingerprint"))


def _from_anthropic_message(
    client: httpx.Client, base: str, headers: dict[str, str], model: str
) -> str | None:
    body = {"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "ping"}]}
    data = _get_json(client, "POST", f"{base}/messages", headers, body)
    return _label(data.get("model"), None) if isinstance(data, dict) else None


def _label(model: Any, fingerprint: Any) -> str | None:
    if not isinstance(model, str) or not model:
        return None
    return f"{model} ({fingerprint})" if isinstance(fingerprint, str) and fingerprint else model
