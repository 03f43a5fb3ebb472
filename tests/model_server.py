"""A small OpenAI-compatible server on 127.0.0.1 for tests: answers come from a function of the
user message, and faults are scripted per request, so every engine path can be driven for real.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    """What to do instead of answering: an HTTP status (with headers and body), a stall, a
    dropped connection, or a body that is not what a client expects."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    stall_s: float = 0.0
    drop: bool = False
    finish_reason: str | None = None
    trickle_s: float = 0.0  # send the body one byte at a time, this far apart


@dataclass
class ModelServer:
    answer: Callable[[str], str] = lambda user: f"echo: {user}"
    model: str = "test-model"
    fingerprint: str = "fp_test"
    latency_s: float = 0.0
    faults: list[Fault] = field(default_factory=list)  # consumed one per request, in order
    fault_for: Callable[[int, str], Fault | None] | None = None  # (request number, user) -> fault
    # (path, request body) -> the whole answer body, for shapes beyond a plain text answer
    respond: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    def next_fault(self, user: str) -> Fault | None:
        with self.lock:
            number = len(self.requests)
            if self.faults:
                return self.faults.pop(0)
        return self.fault_for(number, user) if self.fault_for else None

    def completion(self, body: dict[str, Any], finish: str | None) -> dict[str, Any]:
        user = body["messages"][-1]["content"]
        text = self.answer(user)
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": self.model,
            "system_fingerprint": self.fingerprint,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": finish or "stop",
                }
            ],
            "usage": {
                "prompt_tokens": len(user.split()),
                "completion_tokens": len(text.split()),
                "total_tokens": len(user.split()) + len(text.split()),
            },
        }


def _handler(server: ModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            user = str(body.get("messages", [{}])[-1].get("content", ""))
            fault = server.next_fault(user)
            with server.lock:
                server.requests.append(
                    {"body": body, "headers": dict(self.headers), "port": self.client_address[1]}
                )
            if server.latency_s:
                time.sleep(server.latency_s)
            if fault and fault.stall_s:
                time.sleep(fault.stall_s)
            if fault and fault.drop:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if fault and fault.status != 200:
                self._send(
                    fault.status, fault.body or json.dumps({"error": "fault"}), fault.headers
                )
                return
            if fault and fault.body is not None:
                self._send(200, fault.body, fault.headers, fault.trickle_s)
                return
            if server.respond is not None:
                self._send(200, json.dumps(server.respond(self.path, body)), {})
                return
            finish = fault.finish_reason if fault else None
            self._send(
                200, json.dumps(server.completion(body, finish)), fault.headers if fault else {}
            )

        def _send(
            self, status: int, text: str, headers: dict[str, str], trickle_s: float = 0.0
        ) -> None:
            with server.lock:
                server.statuses.append(status)
            data = text.encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if not trickle_s:
                self.wfile.write(data)
                return
            for i in range(len(data)):
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
                time.sleep(trickle_s)

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up on a stalled answer is what the test wanted


@contextmanager
def serving(server: ModelServer) -> Iterator[ModelServer]:
    httpd = _QuietServer(("127.0.0.1", 0), _handler(server))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    server.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


def call_through_engine(server: ModelServer, n: int, concurrency: int = 4) -> list[Any]:
    """`n` questions sent to `server` by the real OpenAI provider and engine; their outcomes."""
    import asyncio

    from canary_eval.models import Case
    from canary_eval.run.engine import Engine
    from canary_eval.run.providers import ChatRequest, create_provider
    from canary_eval.suite.config import ProviderConfig

    config = ProviderConfig(
        type="openai", base_url=server.base_url, model="m", concurrency=concurrency
    )

    async def go() -> list[Any]:
        provider = create_provider(config)
        requests = [ChatRequest(Case(id=f"c{i}", input="q"), None, f"q{i}") for i in range(n)]
        try:
            return list(await Engine(provider).run(requests))
        finally:
            await provider.aclose()

    return asyncio.run(go())
