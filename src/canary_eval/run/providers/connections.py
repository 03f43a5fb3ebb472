"""The connections a provider sends through: an httpx transport with one HTTP/1.1 connection per
concurrency slot, h11 speaking the protocol over plain asyncio sockets (`network`).

A single httpx pool is the wrong shape for many requests at once: on every request httpcore
rescans each pooled connection and each queued request (1.7M `is_idle` calls for 500 requests at
50 connections), and each read and write goes through anyio's cancel scopes and locks that yield
to the event loop: the client, not the vendor, became the bottleneck. Here a request takes an
idle slot and its connection, so the bookkeeping per request stays constant whatever the
concurrency; h11, the state machine httpcore itself uses, frames the messages. A connection the
server closed, or idle past its keep-alive, is replaced when its slot is next taken.

TLS costs nothing for http:// endpoints: no SSL context is built until the first https://
request, and then one context serves every slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import h11
import httpx

from canary_eval.run.providers.network import Stream, open_stream

KEEPALIVE_S = 5.0  # httpx's default: an idle connection is not trusted for longer
_MAX_HEAD = 100 * 1024  # response headers beyond this are a protocol error (httpcore's bound)
_PORTS = {"http": 80, "https": 443}


@contextlib.contextmanager
def _protocol_errors() -> Iterator[None]:
    try:
        yield
    except h11.RemoteProtocolError as exc:
        raise httpx.RemoteProtocolError(str(exc)) from exc
    except h11.LocalProtocolError as exc:
        raise httpx.LocalProtocolError(str(exc)) from exc


class _Connection:
    """One HTTP/1.1 connection to one origin, a request at a time."""

    def __init__(self, origin: tuple[str, str, int], stream: Stream) -> None:
        self.origin = origin
        self.stream = stream
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD)
        self.idle_since = time.monotonic()

    def reusable(self, origin: tuple[str, str, int]) -> bool:
        return (
            origin == self.origin
            and self.h11.our_state is h11.IDLE
            and not self.stream.readable  # an idle connection with data or EOF was closed
            and time.monotonic() - self.idle_since < KEEPALIVE_S
        )

    async def request(self, request: httpx.Request, read_timeout: float | None) -> h11.Response:
        """Send the request; the response's head."""
        send, write = self.h11.send, self.stream.write
        with _protocol_errors():
            head = h11.Request(
                method=request.method, target=request.url.raw_path, headers=request.headers.raw
            )
            write(send(head))
            assert isinstance(request.stream, httpx.AsyncByteStream)
            async for chunk in request.stream:
                write(send(h11.Data(data=chunk)))
            write(send(h11.EndOfMessage()))
            while True:
                event = await self.next_event(read_timeout)
                if isinstance(event, h11.Response):
                    return event
                if not isinstance(event, h11.InformationalResponse):  # 100 Continue and such
                    raise httpx.RemoteProtocolError(f"unexpected {type(event).__name__}")

    async def next_event(self, timeout: float | None) -> Any:
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = await self.stream.read(timeout)
            if not data and self.h11.their_state is h11.SEND_RESPONSE:
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            self.h11.receive_data(data)

    def finished(self) -> bool:
        """After a response: ready for the next request, or closed for good (False)."""
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            self.idle_since = time.monotonic()
            return True
        self.stream.close()
        return False


class _Body(httpx.AsyncByteStream):
    """A response body read off its connection; closing it gives the slot back.

    Its own iterator rather than an async generator: the event loop registers and tracks every
    async generator, a cost paid per request."""

    def __init__(
        self,
        connection: _Connection,
        timeout: float | None,
        release: Callable[[_Connection, bool], None],
    ) -> None:
        self._connection = connection
        self._timeout = timeout
        self._release: Callable[[_Connection, bool], None] | None = release
        self._ended = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        while not self._ended:
            with _protocol_errors():
                event = await self._connection.next_event(self._timeout)
            if isinstance(event, h11.Data):
                return bytes(event.data)
            if isinstance(event, h11.EndOfMessage | h11.ConnectionClosed) or event is h11.PAUSED:
                self._ended = True
        raise StopAsyncIteration

    async def aclose(self) -> None:
        if self._release is not None:
            release, self._release = self._release, None
            release(self._connection, self._connection.finished())


class ConnectionSlots(httpx.AsyncBaseTransport):
    """Up to `size` connections, opened as the concurrency needs them.

    The engine never has more than `size` requests in flight; should more arrive (a caller with
    its own concurrency), they wait, first come first served, for a connection to be free.
    """

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._opened = 0  # slots taken so far; a slot whose connection closed is still one
        self._idle: list[_Connection | None] = []  # a stack: the last one used is warm
        self._waiting: deque[asyncio.Future[_Connection | None]] = deque()
        self._all: set[_Connection] = set()
        self._ssl: ssl.SSLContext | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in _PORTS or not url.host:
            raise httpx.UnsupportedProtocol(f"cannot send to {url}: not an http(s) URL")
        origin = (url.scheme, url.raw_host.decode("ascii"), url.port or _PORTS[url.scheme])
        timeouts = request.extensions.get("timeout", {})
        connection = await self._take()
        try:
            if connection is None or not connection.reusable(origin):
                self._drop(connection)
                connection = None
                connection = await self._open(origin, timeouts.get("connect"), request)
            head = await connection.request(request, timeouts.get("read"))
        except BaseException:
            self._drop(connection)
            self._give_back(None)
            raise
        return httpx.Response(
            status_code=head.status_code,
            headers=head.headers.raw_items(),
            stream=_Body(connection, timeouts.get("read"), self._release),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason},
        )

    async def _open(
        self, origin: tuple[str, str, int], timeout: float | None, request: httpx.Request
    ) -> _Connection:
        scheme, host, port = origin
        tls = self._tls() if scheme == "https" else None
        server_name = request.extensions.get("sni_hostname") or host
        stream = await open_stream(host, port, timeout, tls, server_name)
        connection = _Connection(origin, stream)
        self._all.add(connection)
        return connection

    def _drop(self, connection: _Connection | None) -> None:
        if connection is not None:
            connection.stream.close()
            self._all.discard(connection)

    async def _take(self) -> _Connection | None:
        """A free slot: its connection, or None for a slot without one yet."""
        if self._idle:
            return self._idle.pop()
        if self._opened < self.size:
            self._opened += 1
            return None
        waiter: asyncio.Future[_Connection | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._give_back(waiter.result())  # handed over just as we gave up
            raise

    def _release(self, connection: _Connection, reusable: bool) -> None:
        if not reusable:
            self._drop(connection)
        self._give_back(connection if reusable else None)

    def _give_back(self, connection: _Connection | None) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append(connection)

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:
            try:
                context = httpx.create_ssl_context()
            except OSError as exc:  # SSL_CERT_FILE or SSL_CERT_DIR names no usable bundle
                raise httpx.ConnectError(f"cannot set up TLS: {exc}") from exc
            context.set_alpn_protocols(["http/1.1"])
            self._ssl = context
        return self._ssl

    async def aclose(self) -> None:
        for connection in self._all:
            connection.stream.close()
        self._all.clear()
