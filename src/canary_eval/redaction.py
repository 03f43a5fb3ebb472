"""Secrets out of everything canary writes or prints.

A secret is any value canary is given to authenticate: the API keys named by `api_key_env`
(provider, fallback, judge), the alert channels' webhook URLs and routing keys, and configured
HTTP headers whose name says they carry a credential (Authorization, api-key, anything with
key, token, secret, password or cookie in it). The values are registered when a config is
loaded (`register`) and `redact` replaces them, in every form a server or a URL might echo
them, with `***`. Redaction happens twice: where text from a server enters canary (call errors,
outputs) and where any text leaves it (files, stderr), so a path that forgets one is still
covered by the other.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

REDACTED = "***"
_CREDENTIAL_HEADER = re.compile(r"auth|key|token|secret|passw|cookie|credential", re.IGNORECASE)


class Redactor:
    """Replaces every known secret (and its URL-encoded and path forms) with `***`."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        forms: set[str] = set()
        values = [s for s in secrets if s]
        # A configured `Authorization: Bearer X` header: X alone is the secret too.
        values += [s[7:].strip() for s in values if s.lower().startswith("bearer ")]
        for secret in values:
            forms |= {secret, quote(secret, safe=""), quote(secret, safe="/:")}
            try:
                parts = urlsplit(secret)
            except ValueError:  # not a URL after all (or a broken one): the forms above do
                continue
            # A webhook URL's secret is its path: redact it even where the host is shown apart.
            if parts.scheme and len(parts.path) >= 8:
                forms |= {parts.path, quote(parts.path, safe="/")}
            if parts.scheme and len(parts.query) >= 8:
                forms.add(parts.query)
        # Longest first, so a secret that contains another is replaced whole.
        self.forms = sorted((f for f in forms if len(f) >= 4), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self.forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text


_lock = threading.Lock()
_known: set[str] = set()
_current = Redactor()


def register(secrets: Iterable[str | None]) -> None:
    """Remember secret values for the rest of the process."""
    global _current
    with _lock:
        before = len(_known)
        _known.update(s for s in secrets if s)
        if len(_known) != before:
            _current = Redactor(_known)


def redact(text: str) -> str:
    """`text` without any registered secret."""
    return _current(text) if _current.forms else text


def credential_headers(headers: Mapping[str, object]) -> list[str]:
    """The values of the configured headers whose name says they carry a credential."""
    return [str(v) for k, v in headers.items() if _CREDENTIAL_HEADER.search(str(k))]


def register_config(data: Any, env: Mapping[str, str] | None = None) -> None:
    """Register the secrets a parsed config names: the value of every variable a `*_env` key
    names (api_key_env, webhook_url_env, routing_key_env, url_env), and credential headers."""
    env = os.environ if env is None else env
    found: list[str | None] = []

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if str(key).endswith("_env") and isinstance(item, str):
                    found.append(env.get(item))
                elif str(key) == "headers" and isinstance(item, Mapping):
                    found.extend(credential_headers(item))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    register(found)
