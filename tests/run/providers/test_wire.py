"""What a provider's connections do on the wire, against a server on 127.0.0.1 that answers
with scripted bytes: chunked and compressed bodies, connections the server closes, more requests
than connections, and TLS."""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from canary_eval.models import Case, Completion
from canary_eval.run.providers import CallFailure, ChatRequest, create_provider
from canary_eval.suite.config import ProviderConfig

BODY = json.dumps({"choices": [{"message": {"content": "Settings"}, "finish_reason": "stop"}]})
# (request number) -> the bytes to answer with, and whether to hang up after them
Script = Callable[[int], tuple[bytes, bool]]


def answer(body: bytes, *headers: str) -> bytes:
    head = ["HTTP/1.1 200 OK", "content-type: application/json", *headers]
    if not any(h.lower().startswith("transfer-encoding") for h in headers):
        head.append(f"content-length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def chunked(body: bytes, size: int = 7) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


class Wire:
    """A server speaking raw HTTP/1.1: it reads each request and writes what the script says."""

    def __init__(self, script: Script, delay_s: float = 0.0) -> None:
        self.script = script
        self.delay_s = delay_s
        self.requests = 0
        self.heads: list[bytes] = []
        self.connections = 0
        self.in_flight = self.most_in_flight = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                length = next(
                    int(line.split(b":")[1])
                    for line in head.lower().split(b"\r\n")
                    if line.startswith(b"content-length")
                )
                await reader.readexactly(length)
                number, self.requests = self.requests, self.requests + 1
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
                await asyncio.sleep(self.delay_s)
                self.in_flight -= 1
                data, hang_up = self.script(number)
                writer.write(data)
                await writer.drain()
                if hang_up:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def serving(wire: Wire, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    server = await asyncio.start_server(wire.handle, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}/v1"


async def ask(
    base_url: str,
    n: int = 1,
    concurrency: int = 4,
    pause_s: float = 0.0,
    headers: dict[str, str] | None = None,
) -> list[str]:
    """n completions, one after another (`pause_s` apart) or all at once (`pause_s` < 0)."""
    config = ProviderConfig(
        type="openai",
        base_url=base_url,
        model="m",
        concurrency=concurrency,
        timeout_s=5,
        options={"headers": headers or {}},
    )
    provider = create_provider(config)

    async def one(i: int) -> Completion:
        return await provider.complete(ChatRequest(Case(id=f"c{i}", input="q"), None, "q"))

    try:
        if pause_s < 0:
            done = await asyncio.gather(*(one(i) for i in range(n)))
        else:
            done = []
            for i in range(n):
                done.append(await one(i))
                await asyncio.sleep(pause_s)
        return [c.text for c in done]
    finally:
        await provider.aclose()


def test_a_chunked_answer_is_read_whole() -> None:
    wire = Wire(lambda n: (answer(chunked(BODY.encode()), "transfer-encoding: chunked"), False))

    async def go() -> list[str]:
        async with serving(wire) as url:
            return await ask(url, n=3)

    assert asyncio.run(go()) == ["Settings"] * 3
    assert wire.connections == 1


def test_a_configured_header_replaces_the_default_of_the_same_name_in_any_case() -> None:
    wire = Wire(lambda n: (answer(BODY.encode()), False))

    async def go() -> list[str]:
        async with serving(wire) as url:
            return await ask(url, headers={"accept": "application/json", "X-Team": "support"})

    asyncio.run(go())
    lines = wire.heads[0].lower().split(b"\r\n")
    assert [line for line in lines if line.startswith(b"accept:")] == [b"accept: application/json"]
    assert b"x-team: support" in lines


def test_a_compressed_answer_is_decompressed() -> None:
    wire = Wire(lambda n: (answer(gzip.compress(BODY.encode()), "content-encoding: gzip"), False))

    async def go() -> list[str]:
        async with serving(wire) as url:
            return await ask(url)

    assert asyncio.run(go()) == ["Settings"]


@pytest.mark.parametrize("how", ["connection: close", "hangs up while idle"])
def test_a_connection_the_server_closes_is_replaced_by_a_new_one(how: str) -> None:
    headers = ("connection: close",) if how == "connection: close" else ()
    wire = Wire(lambda n: (answer(BODY.encode(), *headers), True))

    async def go() -> list[str]:
        async with serving(wire) as url:
            return await ask(url, n=3, concurrency=1, pause_s=0.05)

    assert asyncio.run(go()) == ["Settings"] * 3
    assert wire.connections == 3


def test_a_server_that_hangs_up_without_answering_is_a_connect_error() -> None:
    wire = Wire(lambda n: (b"", True))

    async def go() -> list[str]:
        async with serving(wire) as url:
            return await ask(url)

    with pytest.raises(CallFailure) as failure:
        asyncio.run(go())
    assert failure.value.kind == "connect_error"
    assert "disconnected" in failure.value.message


def test_more_requests_than_connections_wait_for_a_free_one() -> None:
    wire = Wire(lambda n: (answer(BODY.encode()), False), delay_s=0.02)

    async def go() -> list[str]:
        async with serving(wire) as url:
            return await ask(url, n=12, concurrency=3, pause_s=-1)

    assert asyncio.run(go()) == ["Settings"] * 12
    assert wire.connections == 3
    assert wire.most_in_flight == 3


def self_signed(stem: Path) -> tuple[Path, Path]:
    cert, key = stem.with_suffix(".pem"), stem.with_suffix(".key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_an_https_endpoint_is_verified_against_the_trusted_certificates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed(tmp_path / "server")
    stranger, _ = self_signed(tmp_path / "stranger")
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    wire = Wire(lambda n: (answer(BODY.encode()), False))

    async def go() -> list[str]:
        async with serving(wire, tls) as url:
            return await ask(url, n=2)

    monkeypatch.setenv("SSL_CERT_FILE", str(stranger))
    with pytest.raises(CallFailure) as failure:
        asyncio.run(go())  # a certificate nobody vouched for
    assert failure.value.kind == "connect_error"

    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    assert asyncio.run(go()) == ["Settings"] * 2


def test_an_unusable_certificate_bundle_is_a_connect_error_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-bundle.pem"))

    with pytest.raises(CallFailure) as failure:
        asyncio.run(ask("https://127.0.0.1:9/v1"))
    assert failure.value.kind == "connect_error"
    assert "TLS" in failure.value.message
