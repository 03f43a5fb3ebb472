"""The provider interface: one call to one model endpoint, its outcome classified.

A provider sends a single request and returns a `Completion` or raises `CallFailure` with the
error kind, the HTTP status and how long the server asked us to wait. Retries, concurrency and
rate limits belong to the engine, so every provider gets them the same way.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

import httpx

from canary_eval.errors import AuthError
from canary_eval.models import Case, Completion, ErrorKind
from canary_eval.redaction import redact
from canary_eval.run.providers.connections import ConnectionSlots
from canary_eval.run.providers.proxies import proxy_for
from canary_eval.suite.config import ProviderConfig

RETRYABLE_STATUS = frozenset({408, 409, 429})


@dataclass(frozen=True)
class ChatRequest:
    """One rendered prompt for one case: the system prompt and the turn under test, and the
    whole conversation in chat format (`messages`, empty for the plain system + user form) with
    the tools, tool choice and response format production sends alongside."""

    case: Case
    system: str | None
    user: str
    messages: tuple[Mapping[str, Any], ...] = ()
    tools: tuple[Mapping[str, Any], ...] = ()
    tool_choice: Any = None
    response_format: Mapping[str, Any] | None = None


class CallFailure(Exception):
    """A call that produced no usable completion, classified for the engine and the report."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        message = redact(message)  # a server may echo the credential it was sent
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.status = status
        self.retry_after_s = retry_after_s

    @property
    def retryable(self) -> bool:
        return self.kind in ("timeout", "rate_limited", "server_error", "connect_error") or (
            self.status in RETRYABLE_STATUS
        )


def api_key(config: ProviderConfig) -> str | None:
    """The key from the variable the config names; read at call time, never stored."""
    name = config.api_key_env
    if not name:
        return None
    key = os.environ.get(name)
    if not key:
        raise AuthError(
            f"environment variable {name} is not set; it must hold the API key",
            key=f"{config.key}.api_key_env",
        )
    return key


def configured_headers(config: ProviderConfig) -> dict[str, str]:
    return {str(k): str(v) for k, v in config.options.get("headers", {}).items()}


class Provider(Protocol):
    config: ProviderConfig

    async def complete(self, request: ChatRequest) -> Completion: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class Reply:
    """A server's answer, its body read in full."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


# What httpx.AsyncClient would send along; a configured header of the same name wins.
DEFAULT_HEADERS = {
    "Accept": "*/*",
    "Accept-Encoding": "gzip, deflate",  # what httpx decodes without optional packages
    "Connection": "keep-alive",
    "User-Agent": f"python-httpx/{httpx.__version__}",
}


@dataclass
class HttpProvider:
    """Shared plumbing for providers that speak JSON over HTTP: requests straight to an httpx
    transport, by default a connection per concurrency slot, or httpx's own pool through the
    proxy the environment names for the URL (`proxies`).

    No `httpx.AsyncClient`: a model call needs no cookies, redirects or auth flows, and the
    client's bookkeeping for them cost more CPU per request than the HTTP itself. Tests and
    embedders pass their own transport (`httpx.MockTransport` included): it takes every request.
    """

    config: ProviderConfig
    transport: httpx.AsyncBaseTransport | None = None
    # URL -> where it goes; a provider posts to the same one or two, routed and parsed once.
    _routes: dict[str, tuple[httpx.URL, httpx.AsyncBaseTransport]] = field(
        init=False, default_factory=dict
    )
    _transports: dict[str | None, httpx.AsyncBaseTransport] = field(
        init=False, default_factory=dict
    )  # proxy URL (None: direct) -> the transport of our own making

    def __post_init__(self) -> None:
        timeout = self.config.timeout_s
        self._timeouts = {"timeout": dict.fromkeys(("connect", "read", "write", "pool"), timeout)}

    async def complete(self, request: ChatRequest) -> Completion:
        raise NotImplementedError

    async def aclose(self) -> None:
        for transport in [self.transport, *self._transports.values()]:
            if transport is not None:
                await transport.aclose()

    async def post_json(
        self, url: str, body: Any, headers: Mapping[str, str]
    ) -> tuple[Any, httpx.Headers]:
        """POST; the parsed JSON body and the headers, or a classified CallFailure."""
        response = await self.send("POST", url, json=body, headers=headers)
        self.check_status(response)
        try:
            return response.json(), response.headers
        except (ValueError, RecursionError) as exc:
            raise CallFailure(
                "malformed_response", "response body is not JSON", status=response.status_code
            ) from exc

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Reply:
        """One request, bounded in time and size: `timeout_s` covers everything from connecting
        to the last byte (a per-read timeout alone would never trip on a server trickling a
        byte every half second), and a body past `max_response_bytes` is not read on."""
        limit = self.config.max_response_bytes
        try:
            async with asyncio.timeout(self.config.timeout_s):
                target, transport = self._route(url)
                request = httpx.Request(
                    method,
                    target,
                    params=params,
                    headers=_with_defaults(headers),
                    json=json,
                    extensions=self._timeouts,
                )
                response = await transport.handle_async_request(request)
                try:
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > limit:
                        raise _too_large(limit, response.status_code)
                    body = bytearray()
                    async for chunk in _decoded(response):
                        body += chunk
                        if len(body) > limit:
                            raise _too_large(limit, response.status_code)
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException) as exc:
            message = f"no complete answer within {self.config.timeout_s:g}s (timeout_s)"
            raise CallFailure("timeout", message) from exc
        except httpx.TransportError as exc:
            raise CallFailure("connect_error", f"{type(exc).__name__}: {exc}") from exc
        except httpx.DecodingError as exc:
            raise CallFailure("malformed_response", f"body cannot be decoded: {exc}") from exc
        except httpx.InvalidURL as exc:
            raise CallFailure("connect_error", f"invalid URL: {exc}") from exc
        return Reply(response.status_code, response.headers, bytes(body))

    def _route(self, url: str) -> tuple[httpx.URL, httpx.AsyncBaseTransport]:
        """The parsed URL and the transport it goes through."""
        route = self._routes.get(url)
        if route is None:
            route = self._routes[url] = (httpx.URL(url), self._transport_for(url))
        return route

    def _transport_for(self, url: str) -> httpx.AsyncBaseTransport:
        if self.transport is not None:
            return self.transport
        proxy = proxy_for(url)
        transport = self._transports.get(proxy)
        if transport is None:
            size = self.config.concurrency
            if proxy is None:
                transport = ConnectionSlots(size)
            else:
                try:
                    limits = httpx.Limits(max_connections=size)
                    transport = httpx.AsyncHTTPTransport(proxy=proxy, limits=limits)
                except ImportError as exc:  # socks5:// without httpx's optional socksio
                    raise httpx.ProxyError(str(exc)) from exc
            self._transports[proxy] = transport
        return transport

    def check_status(self, response: Reply) -> None:
        status = response.status_code
        if status < 400:
            return
        if status in (401, 403):
            who = f" (check {self.config.api_key_env})" if self.config.api_key_env else ""
            raise AuthError(
                f"the provider refused the credentials: HTTP {status}{who}",
                key=f"{self.config.key}.api_key_env",
            )
        wait = retry_after(response.headers)
        if wait is not None:
            # A server may ask for a day (`Retry-After: 86400`); the run waits at most this.
            wait = min(wait, self.config.max_retry_after_s)
        snippet = response.text[:200].replace("\n", " ")
        if status == 429:
            raise CallFailure("rate_limited", "HTTP 429", status=status, retry_after_s=wait)
        if status >= 500:
            raise CallFailure("server_error", f"HTTP {status}", status=status, retry_after_s=wait)
        raise CallFailure("client_error", f"HTTP {status}: {snippet}", status=status)


def _with_defaults(headers: Mapping[str, str]) -> dict[str, str]:
    """The default headers but those the caller sets (header names ignore case), then the
    caller's."""
    given = {name.lower() for name in headers}
    return {**{k: v for k, v in DEFAULT_HEADERS.items() if k.lower() not in given}, **headers}


def _decoded(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body as sent, or through httpx's decoders when it is compressed."""
    if "content-encoding" in response.headers:
        return response.aiter_bytes()
    assert isinstance(response.stream, httpx.AsyncByteStream)
    return response.stream.__aiter__()


def _too_large(limit: int, status: int) -> CallFailure:
    return CallFailure(
        "too_large", f"response larger than {limit:,} bytes (max_response_bytes)", status=status
    )


def parsed(parse: Callable[[Any], Completion], data: Any) -> Completion:
    """`parse(data)`, where a value of the wrong shape anywhere in a server's JSON (a null, a
    string for an object) is a `malformed_response` of this case, never a crash of the run."""
    try:
        completion = parse(data)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise CallFailure(
            "malformed_response", f"unusable response: {type(exc).__name__}: {exc}"
        ) from None
    text = redact(completion.text)
    return completion if text == completion.text else replace(completion, text=text)


def with_headroom(completion: Completion, headers: Mapping[str, str]) -> Completion:
    """Attach the rate-limit headroom the server reported, so the engine can pace itself."""
    lower = _lowered(headers)
    remaining = next(
        (
            lower[name]
            for name in ("x-ratelimit-remaining-requests", "anthropic-ratelimit-requests-remaining")
            if name in lower
        ),
        None,
    )
    if remaining is None or not remaining.strip().isdigit():
        return completion
    reset = retry_after(
        {k: v for k, v in lower.items() if k.endswith(("reset-requests", "requests-reset"))}
    )
    return replace(completion, requests_remaining=int(remaining), reset_s=reset)


_DURATION = re.compile(
    r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?"
    r"(?:(\d+(?:\.\d+)?)ms)?$"
)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait, from the headers vendors use, or None."""
    lower = _lowered(headers)
    if "retry-after-ms" in lower:
        return _number(lower["retry-after-ms"], 1e-3)
    if "retry-after" in lower:
        value = lower["retry-after"]
        seconds = _number(value, 1.0)
        if seconds is not None:
            return seconds
        try:
            from email.utils import parsedate_to_datetime

            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
    waits = [
        wait
        for name, value in lower.items()
        if name.startswith("x-ratelimit-reset")
        or (name.startswith("anthropic-ratelimit-") and name.endswith("-reset"))
        if (wait := _reset(value)) is not None
    ]
    return max(waits) if waits else None


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    if isinstance(headers, httpx.Headers):  # lower-cased already, and cheaper than .items()
        return dict(headers.multi_items())
    return {k.lower(): v for k, v in headers.items()}


def _number(text: str, scale: float) -> float | None:
    try:
        return max(0.0, float(text) * scale)
    except ValueError:
        return None


def _reset(text: str) -> float | None:
    """`6m0s`, `1.5s`, `250ms`, a plain number of seconds, or an RFC 3339 time."""
    text = text.strip()
    match = _DURATION.match(text)  # first: OpenAI's `34.2s` is the common case
    if match and any(match.groups()):
        h, m, s, ms = (float(g) if g else 0.0 for g in match.groups())
        return h * 3600 + m * 60 + s + ms / 1000
    if (plain := _number(text, 1.0)) is not None:
        return plain
    try:
        return max(0.0, datetime.fromisoformat(text).timestamp() - time.time())
    except ValueError:
        return None
