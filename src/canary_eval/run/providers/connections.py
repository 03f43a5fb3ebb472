"""The connections a provider sends through: one HTTP/1.1 connection per concurrency slot, on
httpx's transport layer and httpcore's HTTP/1.1 connection over plain asyncio sockets.

A single httpx pool is the wrong shape for many requests at once: on every request httpcore
rescans each pooled connection and each queued request (1.7M `is_idle` calls for 500 requests
at 50 connections, 6-8 ms of CPU per request), so the client, not the vendor, becomes the
bottleneck. Here a slot holds one connection and a request takes an idle slot, so the
bookkeeping per request stays constant whatever the concurrency; a connection the server closed
or that sat idle past its keep-alive is replaced when its slot is next taken.

TLS costs nothing for http:// endpoints: no SSL context is built until the first https://
request, and then one context serves every slot.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import AsyncIterator, Callable

import httpcore
import httpx

from canary_eval.run.providers.network import AsyncioBackend

KEEPALIVE_S = 5.0  # httpx's default: an idle connection is not trusted for longer


class _Connection(httpcore.AsyncConnectionInterface):
    """httpcore's request interface over one HTTP/1.1 connection, reopened when it cannot be
    reused. Its slot sends one request at a time through it."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend, tls: Callable[[], ssl.SSLContext]):
        self._backend = backend
        self._tls = tls
        self._http: httpcore.AsyncHTTP11Connection | None = None

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        http = self._http
        if http is None or not http.is_available() or http.has_expired():
            if http is not None:
                await http.aclose()
            self._http = None
            http = self._http = await self._open(request)
        return await http.handle_async_request(request)

    async def _open(self, request: httpcore.Request) -> httpcore.AsyncHTTP11Connection:
        origin = request.url.origin
        if origin.scheme not in (b"http", b"https") or not origin.host:
            raise httpcore.UnsupportedProtocol(f"cannot send to {origin}: not an http(s) URL")
        host = origin.host.decode("ascii")
        timeout = request.extensions.get("timeout", {}).get("connect")
        stream = await self._backend.connect_tcp(host, origin.port, timeout=timeout)
        if origin.scheme == b"https":
            server_name = request.extensions.get("sni_hostname") or host
            stream = await stream.start_tls(self._tls(), server_name, timeout=timeout)
        return httpcore.AsyncHTTP11Connection(origin, stream, keepalive_expiry=KEEPALIVE_S)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


class _Slot(httpx.AsyncHTTPTransport):
    """httpx's transport (request mapping, httpcore errors as httpx errors) over one
    connection."""

    def __init__(self, connection: _Connection) -> None:
        # httpx's own constructor builds an SSL context (loading the CA bundle, 50-100 ms) and
        # a pool; the connection is all a slot needs.
        self._pool = connection  # type: ignore[assignment]


class _Released(httpx.AsyncByteStream):
    """A response body that frees its slot when the client closes it."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._release is not None:
                self._release()
                self._release = None


class ConnectionSlots(httpx.AsyncBaseTransport):
    """Up to `size` connections, opened as the concurrency needs them.

    The engine never has more than `size` requests in flight; should more arrive (a caller with
    its own concurrency), they wait, first come first served, for a slot to be released.
    """

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._backend = AsyncioBackend()
        self._slots: list[_Slot] = []
        self._idle: list[_Slot] = []  # a stack: the most recently used connection is warm
        self._waiting: deque[asyncio.Future[_Slot]] = deque()
        self._ssl: ssl.SSLContext | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        slot = await self._take()
        try:
            response = await slot.handle_async_request(request)
        except BaseException:
            self._give_back(slot)
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_Released(response.stream, lambda: self._give_back(slot)),
            extensions=response.extensions,
        )

    async def _take(self) -> _Slot:
        if self._idle:
            return self._idle.pop()
        if len(self._slots) < self.size:
            slot = _Slot(_Connection(self._backend, self._ssl_context))
            self._slots.append(slot)
            return slot
        waiter: asyncio.Future[_Slot] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._give_back(waiter.result())  # handed over just as we gave up
            raise

    def _give_back(self, slot: _Slot) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(slot)
                return
        self._idle.append(slot)

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()
            self._ssl.set_alpn_protocols(["http/1.1"])
        return self._ssl

    async def aclose(self) -> None:
        for slot in self._slots:
            await slot.aclose()
