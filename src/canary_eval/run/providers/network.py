"""httpcore's network layer on plain asyncio: the sockets under a provider's connections.

httpcore's default backend goes through anyio, which wraps every read and every write in a
cancel scope and looks up the running event loop library each time: at a few thousand requests
a second that bookkeeping costs more than the socket calls. This backend is an asyncio
`Protocol` per connection: the event loop hands it the bytes as they arrive, a read takes what
is buffered or waits for the next delivery, and a write hands the bytes to the transport.
Timeouts are honoured (a timer only while a read actually waits), TLS is asyncio's `start_tls`,
and every failure comes out as the httpcore exception the layers above expect.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore

# Bytes a connection buffers before it stops reading from its socket until the reader catches
# up: a server sending faster than we read must not fill memory.
_HIGH_WATER = 256 * 1024


class _Protocol(asyncio.Protocol):
    """The receiving end of one connection: what has arrived, and who waits for more."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.drained: asyncio.Future[None] | None = None
        self.paused = False  # writing paused by the transport's flow control
        self.reading = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > _HIGH_WATER and self.reading and self.transport is not None:
            self.transport.pause_reading()
            self.reading = False
        self._wake()

    def eof_received(self) -> bool | None:
        self.eof = True
        self._wake()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake()
        self.resume_writing()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


async def _wait(future: asyncio.Future[None], timeout: float | None) -> None:
    timer = (
        None if timeout is None else asyncio.get_running_loop().call_later(timeout, _expire, future)
    )
    try:
        await future
    finally:
        if timer is not None:
            timer.cancel()


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        # A request's head and body leave in one packet: HTTP/1.1 writes both before it reads.
        self._unsent: list[bytes] = []

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._unsent:
            await self._send(timeout)
        protocol = self._protocol
        if not protocol.buffer and not protocol.eof:
            protocol.waiter = asyncio.get_running_loop().create_future()
            try:
                await _wait(protocol.waiter, timeout)
            except TimeoutError:
                raise httpcore.ReadTimeout(f"no data within {timeout}s") from None
            finally:
                protocol.waiter = None
        if protocol.buffer:
            data = bytes(protocol.buffer[:max_bytes])
            del protocol.buffer[:max_bytes]
            if not protocol.reading and len(protocol.buffer) <= _HIGH_WATER:
                protocol.reading = True
                self._transport.resume_reading()
            return data
        if protocol.error is not None:
            raise httpcore.ReadError(str(protocol.error) or type(protocol.error).__name__)
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if self._transport.is_closing():
            raise httpcore.WriteError(str(self._protocol.error or "the connection is closed"))
        self._unsent.append(buffer)
        if sum(map(len, self._unsent)) >= _HIGH_WATER:
            await self._send(timeout)

    async def _send(self, timeout: float | None) -> None:
        protocol = self._protocol
        data, self._unsent = b"".join(self._unsent), []
        if self._transport.is_closing():
            return  # the read that follows reports how the connection ended
        self._transport.write(data)
        if protocol.paused:
            protocol.drained = asyncio.get_running_loop().create_future()
            try:
                await _wait(protocol.drained, timeout)
            except TimeoutError:
                raise httpcore.WriteTimeout(f"could not send within {timeout}s") from None
            finally:
                protocol.drained = None

    async def aclose(self) -> None:
        if self._unsent and not self._transport.is_closing():
            self._transport.write(b"".join(self._unsent))
        self._unsent = []
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self._unsent:
            await self._send(timeout)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            self._transport.close()
            raise httpcore.ConnectTimeout(f"TLS handshake not done within {timeout}s") from None
        except (OSError, ssl.SSLError) as exc:  # ssl.SSLError is an OSError; both for clarity
            self._transport.close()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        assert isinstance(transport, asyncio.Transport)
        self._protocol.transport = transport
        return AsyncioStream(transport, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # An idle keep-alive connection with something to read has been closed by the
            # server (or sent garbage): the pool must not reuse it.
            protocol = self._protocol
            return bool(protocol.buffer) or protocol.eof
        names = {"client_addr": "sockname", "server_addr": "peername"}
        return self._transport.get_extra_info(names.get(info, info))


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        local = None if local_address is None else (local_address, 0)
        return await self._connect(
            lambda loop: loop.create_connection(_Protocol, host, port, local_addr=local),
            timeout,
            socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._connect(
            lambda loop: loop.create_unix_connection(_Protocol, path), timeout, socket_options
        )

    async def _connect(
        self,
        opening: Any,
        timeout: float | None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await opening(asyncio.get_running_loop())
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"not connected within {timeout}s") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(transport, protocol)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
