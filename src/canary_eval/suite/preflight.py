"""Checks of a suite config that save a run from failing after many calls: every number finite,
every base URL one the provider can append its path to, every key variable set. Each failure is
a ConfigError naming the key and its line, raised before any model is called."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from canary_eval.errors import ConfigError
from canary_eval.suite.document import Document, KeyPath, format_key, parse_key

if TYPE_CHECKING:
    from canary_eval.suite.config import SuiteConfig

_APPENDED = {"openai": "/chat/completions", "anthropic": "/messages"}
_PROVIDERS: tuple[KeyPath, ...] = (("provider",), ("provider", "fallback"), ("judge",))


def check_numbers(doc: Document, data: Any) -> None:
    """NaN and infinity pass a JSON Schema's `minimum` (every comparison with NaN is false) and
    would turn a gate off: refuse them wherever they are."""
    for key, value in _walk(data, ()):
        if isinstance(value, float) and not math.isfinite(value):
            raise _error(doc, key, f"must be a finite number, not {value}")


def check_urls(doc: Document, data: Mapping[str, Any]) -> None:
    """An OpenAI or Anthropic `base_url` is absolute http(s), without a query, and does not
    already end in the path the provider appends."""
    for key, provider in _providers(data):
        url = provider.get("base_url")
        kind = str(provider.get("type", ""))
        if not isinstance(url, str) or kind not in _APPENDED:
            continue
        where = (*key, "base_url")
        try:
            parts = urlsplit(url)
        except ValueError as exc:
            raise _error(doc, where, f"not a URL: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _error(doc, where, f"'{url}' must be an absolute http:// or https:// URL")
        if parts.query or parts.fragment:
            raise _error(
                doc, where, "must not carry a query or fragment (Azure: set api_version instead)"
            )
        suffix = _APPENDED[kind]
        if parts.path.rstrip("/").endswith(suffix):
            hint = url.rstrip("/")[: -len(suffix)]
            raise _error(doc, where, f"drop '{suffix}': canary appends it (use {hint})")


def check_keys(config: SuiteConfig, env: Mapping[str, str] | None = None) -> None:
    """Every `api_key_env` a provider names is set: an unset key fails here, not on call 40."""
    env = os.environ if env is None else env
    providers = [config.provider, config.provider.fallback, config.judge]
    for provider in (p for p in providers if p is not None):
        name = provider.api_key_env
        if name and not env.get(name):
            message = f"environment variable {name} is not set; it must hold the API key"
            raise _error(config.document, (*parse_key(provider.key), "api_key_env"), message)


def _providers(data: Mapping[str, Any]) -> Iterator[tuple[KeyPath, Mapping[str, Any]]]:
    for key in _PROVIDERS:
        value: Any = data
        for part in key:
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, Mapping):
            yield key, value


def _walk(value: Any, key: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    stack = [(key, value)]
    while stack:
        at, item = stack.pop()
        yield at, item
        if isinstance(item, Mapping):
            stack.extend(((*at, str(k)), v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend(((*at, i), v) for i, v in enumerate(item))


def _error(doc: Document | None, key: KeyPath, message: str) -> ConfigError:
    return ConfigError(
        message,
        path=doc.path if doc else None,
        line=doc.line_of(key) if doc else None,
        key=format_key(key),
    )
