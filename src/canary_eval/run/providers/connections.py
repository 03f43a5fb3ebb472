"""The connections a provider's client sends through: one HTTP/1.1 connection per concurrency
slot, on httpx's own transport layer.

A single httpx pool is the wrong shape for many requests at once: on every request httpcore
rescans each pooled connection and each queued request (1.7M `is_idle` calls for 500 requests
at 50 connections, 6-8 ms of CPU per request), so the client, not the vendor, becomes the
bottleneck. Here each slot is a pool of its own holding one connection and a request takes an
idle slot, so the bookkeeping per request stays constant whatever the concurrency.

TLS costs nothing for http:// endpoints: no SSL context is built until the first https://
request, and then one context serves every slot.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable

import httpcore
import httpx


class _Slot(httpx.AsyncHTTPTransport):
    """httpx's transport over a pool of one connection."""

    def __init__(self, ssl_context: ssl.SSLContext | None) -> None:
        # httpx's own constructor builds an SSL context (loading the CA bundle, 50-100 ms) for
        # every transport, even one that only ever speaks http://; the pool is all it needs.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context, max_connections=1, max_keepalive_connections=1
        )
        self.busy = 0


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
    """Up to `size` one-connection pools, opened as the concurrency needs them.

    The engine never has more than `size` requests in flight; should more arrive (a caller with
    its own concurrency), they queue on the least busy slot rather than fail.
    """

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._slots: list[_Slot] = []
        self._idle: list[_Slot] = []  # a stack: the most recently used connection is warm
        self._ssl: ssl.SSLContext | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        slot = self._take(request.url.scheme == "https")
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

    def _take(self, https: bool) -> _Slot:
        if self._idle:
            slot = self._idle.pop()
        elif len(self._slots) < self.size:
            if https and self._ssl is None:
                self._ssl = httpx.create_ssl_context()
            slot = _Slot(self._ssl if https else None)
            self._slots.append(slot)
        else:
            slot = min(self._slots, key=lambda s: s.busy)
        slot.busy += 1
        return slot

    def _give_back(self, slot: _Slot) -> None:
        slot.busy -= 1
        if slot.busy == 0:
            self._idle.append(slot)

    async def aclose(self) -> None:
        for slot in self._slots:
            await slot.aclose()
