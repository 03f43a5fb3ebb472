"""The OpenAI-compatible HTTP endpoint that model-backed scorers call (judge, embeddings).

Transient failures (timeouts, connection errors, 429 and 5xx) are retried a few times with
backoff, honouring Retry-After; what still fails is an `EndpointError` the scorer turns into an
invalid score. Refused credentials (401/403, or an unset key variable) are an `AuthError`: every
later call would fail the same way, so the run stops. The API key never appears in a message.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from canary_eval.errors import AuthError
from canary_eval.scorers.registry import ParamError

if TYPE_CHECKING:
    import ssl

    import httpx

RETRY_BASE_S = 0.5  # first backoff; doubles on each retry
MAX_RETRY_AFTER_S = 10.0
_RETRIABLE = {408, 409, 429, 500, 502, 503, 504}


class EndpointError(Exception):
    """A call that failed for a reason worth recording on the score, not ending the run."""


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach one model: `base_url` ends before `/chat/completions`."""

    base_url: str
    model: str
    api_key_env: str | None = None
    timeout_s: float = 60.0
    max_retries: int = 2

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ParamError(
                "base_url", f"base_url must start with http:// or https://, not {self.base_url!r}"
            )
        if not self.model.strip():
            raise ParamError("model", "model must not be empty")

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise AuthError(
                    f"environment variable {self.api_key_env} is not set (key for {self.base_url})"
                )
            headers["Authorization"] = f"Bearer {key}"
        return headers

    async def post(self, path: str, payload: dict[str, Any]) -> Any:
        """POST JSON to `base_url/path` and return the parsed JSON answer."""
        import asyncio

        import httpx  # here: checking a suite (`canary validate`) needs no HTTP client

        from canary_eval.run.providers.proxies import proxy_for

        url = f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"
        headers = self._headers()
        last = "no attempt"
        # The proxy the providers would use for this URL, by the same rules (not httpx's own).
        proxy = proxy_for(url)
        client = httpx.AsyncClient(
            timeout=self.timeout_s, verify=_ssl_context(), proxy=proxy, trust_env=False
        )
        async with client:
            for attempt in range(self.max_retries + 1):
                wait = RETRY_BASE_S * 2**attempt
                try:
                    response = await client.post(url, json=payload, headers=headers)
                except httpx.TimeoutException:
                    last = f"timed out after {self.timeout_s:g} s"
                except httpx.HTTPError as exc:
                    last = f"{type(exc).__name__} calling {self.base_url}"
                else:
                    status = response.status_code
                    if status in (401, 403):
                        raise AuthError(
                            f"{self.base_url} refused the credentials (HTTP {status})",
                            key=self.api_key_env,
                        )
                    if status < 300:
                        try:
                            return response.json()
                        except ValueError as exc:
                            raise EndpointError(
                                f"HTTP {status} with a body that is not JSON"
                            ) from exc
                    last = f"HTTP {status}"
                    if status not in _RETRIABLE:
                        break
                    wait = max(wait, _retry_after(response))
                if attempt < self.max_retries:
                    await asyncio.sleep(wait)
        raise EndpointError(f"{self.base_url} failed: {last}")


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Building a context costs ~50 ms; a client per call must not pay that every time.
    import ssl

    import certifi

    cafile = os.environ.get("SSL_CERT_FILE") or certifi.where()
    return ssl.create_default_context(cafile=cafile)


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(MAX_RETRY_AFTER_S, max(0.0, float(response.headers.get("Retry-After", 0))))
    except ValueError:
        return 0.0


_FIELDS = ("base_url", "model", "api_key_env", "timeout_s", "max_retries")
ENDPOINT_PARAMS: dict[str, Any] = {
    "base_url": {"type": "string"},
    "model": {"type": "string"},
    "api_key_env": {"type": "string"},
    "timeout_s": {"type": "number", "exclusiveMinimum": 0},
    "max_retries": {"type": "integer", "minimum": 0, "maximum": 10},
}


def endpoint_from(params: Mapping[str, Any], fallback: Any) -> Endpoint:
    """An Endpoint from a scorer's own params, else from the suite-level judge settings.

    `fallback` is `ScorerContext.judge`: a mapping of Endpoint fields, or an object with them
    as attributes (an Endpoint, say). Its other keys are ignored.
    """
    if isinstance(fallback, Mapping):
        base = {k: fallback[k] for k in _FIELDS if k in fallback}
    else:
        base = {k: getattr(fallback, k) for k in _FIELDS if hasattr(fallback, k)}
    given = {k: v for k, v in params.items() if v is not None}
    merged = {k: v for k, v in {**base, **given}.items() if v is not None and k in _FIELDS}
    for name in ("base_url", "model"):
        if not merged.get(name):
            raise ParamError(name, f"needs '{name}' (or a suite-level judge)")
    try:
        return Endpoint(
            base_url=str(merged["base_url"]),
            model=str(merged["model"]),
            api_key_env=str(merged["api_key_env"]) if merged.get("api_key_env") else None,
            timeout_s=float(merged.get("timeout_s", 60.0)),
            max_retries=int(merged.get("max_retries", 2)),
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ParamError):
            raise
        raise ParamError("judge", f"bad judge settings: {exc}") from exc
