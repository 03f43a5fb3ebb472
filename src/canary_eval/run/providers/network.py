"""One TCP (or TLS) connection on plain asyncio: the bytes under an HTTP/1.1 connection.

An asyncio `Protocol`: the event loop hands it the bytes as they arrive, a read takes what is
buffered or waits for the next delivery (with a timer only while it actually waits), and writes
are held until the next read, so a request's head and body leave in one packet. No anyio cancel
scope around each read and write, as httpcore's default backend has: at a few thousand requests
a second that bookkeeping cost more than the socket calls. Failures come out as the httpx
exceptions the provider classifies.
"""

from __future__ import annotations

import asyncio
import ssl

import httpx

# Bytes held before the socket is no longer read until the reader catches up: a server sending
# faster than we read must not fill memory.
_HIGH_WATER = 256 * 1024


class Stream(asyncio.Protocol):
    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._unsent: list[bytes] = []
        self._eof = False
        self._lost: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None
        self._reading = True

    # The event loop's side.

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._reading and len(self._buffer) > _HIGH_WATER and self._transport is not None:
            self._transport.pause_reading()
            self._reading = False
        _wake(self._waiter)

    def eof_received(self) -> bool | None:
        self._eof = True
        _wake(self._waiter)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._lost = exc
        _wake(self._waiter)
        _wake(self._drained)

    def pause_writing(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        _wake(self._drained)
        self._drained = None

    # The HTTP connection's side.

    @property
    def readable(self) -> bool:
        """Something to read, or the end: on an idle keep-alive connection, a sign the server
        closed it."""
        return bool(self._buffer) or self._eof

    def write(self, data: bytes) -> None:
        self._unsent.append(data)

    async def read(self, timeout: float | None) -> bytes:
        """What has arrived (after sending what was written), b"" at the end."""
        if self._unsent:
            await self._flush(timeout)
        if not self._buffer and not self._eof:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await _wait(self._waiter, timeout)
            except TimeoutError:
                raise httpx.ReadTimeout(f"nothing received within {timeout:g}s") from None
            finally:
                self._waiter = None
        if self._buffer:
            data = bytes(self._buffer)
            self._buffer.clear()
            if not self._reading and self._transport is not None:
                self._reading = True
                self._transport.resume_reading()
            return data
        if self._lost is not None:
            raise httpx.ReadError(str(self._lost) or type(self._lost).__name__)
        return b""

    async def _flush(self, timeout: float | None) -> None:
        data, self._unsent = b"".join(self._unsent), []
        transport = self._transport
        if transport is None or transport.is_closing():
            return  # the read that follows tells how the connection ended
        transport.write(data)
        if self._drained is not None:
            try:
                await _wait(self._drained, timeout)
            except TimeoutError:
                raise httpx.WriteTimeout(f"could not send within {timeout:g}s") from None

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def open_stream(
    host: str,
    port: int,
    timeout: float | None,
    tls: ssl.SSLContext | None = None,
    server_name: str | None = None,
) -> Stream:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            _, stream = await loop.create_connection(
                Stream, host, port, ssl=tls, server_hostname=server_name if tls else None
            )
    except TimeoutError:
        raise httpx.ConnectTimeout(f"not connected to {host}:{port} within {timeout}s") from None
    except OSError as exc:  # refused, unreachable, no such host, TLS failures
        raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
    return stream


def _wake(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


async def _wait(future: asyncio.Future[None], timeout: float | None) -> None:
    if timeout is None:
        await future
        return
    timer = asyncio.get_running_loop().call_later(timeout, _expire, future)
    try:
        await future
    finally:
        timer.cancel()
