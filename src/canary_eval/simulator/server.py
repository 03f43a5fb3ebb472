"""The simulator's HTTP face: an OpenAI-compatible server on the standard library's
`ThreadingHTTPServer`, plus the ways to run it: `serve` (in the background, as a context
manager) and `serve_forever` (blocking, for `canary simulate`).

Endpoints: `POST /v1/chat/completions`, `POST /v1/embeddings`, `GET /v1/models`, and for tests
and demos `POST /admin/version` (`{"version": "drifted"}`), `POST /admin/config` (any
SimulatorConfig fields), `POST /admin/reset` (stats), `GET /admin/stats`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from canary_eval.errors import ConfigError
from canary_eval.simulator.config import SimulatorConfig
from canary_eval.simulator.faults import parse_script
from canary_eval.simulator.protocol import Reply, error_reply, json_reply
from canary_eval.simulator.vendor import SimulatorStats, Vendor


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a burst of concurrent clients must not overflow the backlog

    def __init__(self, address: tuple[str, int], sim: RunningSimulator) -> None:
        self.sim = sim
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, reset) is part of the game, not a server error.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so pooled clients measure latency, not setup
    wbufsize = -1  # headers and body leave in one write: no Nagle / delayed-ACK stall
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.sim.track(self.connection, open=True)

    def finish(self) -> None:
        self.server.sim.track(self.connection, open=False)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        sim = self.server.sim
        path = self.path.split("?")[0].rstrip("/")
        if path == "/v1/models":
            self._send(json_reply(200, sim.vendor.models(), {}))
        elif path == "/admin/stats":
            self._send(json_reply(200, asdict(sim.stats), {}))
        elif path in ("", "/health"):
            self._send(json_reply(200, {"status": "ok", "version": sim.config.version}, {}))
        else:
            self._send(error_reply(404, f"Unknown path {path}", {}, "invalid_request_error"))

    def do_POST(self) -> None:
        sim = self.server.sim
        path = self.path.split("?")[0].rstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._send(error_reply(400, "Body must be a JSON object.", {}, "invalid_request_error"))
            return
        if path == "/v1/chat/completions":
            reply = sim.vendor.chat(body, self.headers.get("Authorization"))
        elif path == "/v1/embeddings":
            reply = sim.vendor.embeddings(body)
        elif path.startswith("/admin/"):
            reply = self._admin(path, body)
        else:
            reply = error_reply(404, f"Unknown path {path}", {}, "invalid_request_error")
        self._send(reply)

    def _admin(self, path: str, body: dict[str, Any]) -> Reply:
        sim = self.server.sim
        try:
            if path == "/admin/version":
                sim.set_version(str(body.get("version")))
            elif path == "/admin/config":
                if isinstance(body.get("script"), str):
                    body["script"] = parse_script(body["script"])
                sim.reconfigure(**body)
            elif path == "/admin/reset":
                sim.reset_stats()
            else:
                return error_reply(404, f"Unknown path {path}", {}, "invalid_request_error")
        except (ConfigError, TypeError) as exc:
            return error_reply(400, str(exc), {}, "invalid_request_error")
        config = {k: v for k, v in asdict(sim.config).items() if k not in ("script", "api_key")}
        return json_reply(200, config, {})

    def _send(self, reply: Reply) -> None:
        if reply.delay_s > 0 and self.server.sim.wait(reply.delay_s):
            reply = Reply(0, action="reset")  # shutting down: drop the request
        try:
            if reply.action == "reset":
                # SO_LINGER 0: close sends a TCP reset instead of a clean end of stream.
                linger = struct.pack("ii", 1, 0)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                self.close_connection = True
                self.connection.close()
                return
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True


class RunningSimulator:
    """A simulator serving on 127.0.0.1 in a background thread. Use as a context manager."""

    def __init__(self, config: SimulatorConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.vendor = Vendor(config)
        self._closing = threading.Event()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._httpd = _HTTPServer((host, port), self)
        self._thread: threading.Thread | None = None
        self._serving = False  # serve_forever has run, so shutdown() will not wait forever
        self.host = host
        self.port: int = self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What a suite config's `provider.base_url` should be."""
        return f"{self.url}/v1"

    @property
    def config(self) -> SimulatorConfig:
        return self.vendor.config

    @property
    def stats(self) -> SimulatorStats:
        return self.vendor.stats

    def set_version(self, name: str) -> None:
        """Serve another model version from the next request on, without restarting."""
        self.vendor.reconfigure(version=name)

    def reconfigure(self, **changes: Any) -> SimulatorConfig:
        """Change any SimulatorConfig field while serving (faults, latency, seed, ...)."""
        return self.vendor.reconfigure(**changes)

    def reset_stats(self) -> None:
        self.vendor.reset_stats()

    def start(self) -> RunningSimulator:
        if self._thread is None:
            self._serving = True
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"canary-simulator-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until `close()` or KeyboardInterrupt."""
        self._serving = True
        try:
            self._httpd.serve_forever(poll_interval=0.1)
        finally:
            self.close()

    def close(self) -> None:
        """Stop serving: stalled requests are dropped and open connections closed."""
        if self._closing.is_set():
            return
        self._closing.set()
        if self._serving:
            self._httpd.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd.server_close()
        with self._lock:
            for conn in list(self._connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def wait(self, seconds: float) -> bool:
        """Sleep like a slow model; True when the simulator is closing meanwhile."""
        return self._closing.wait(seconds)

    def track(self, conn: socket.socket, *, open: bool) -> None:
        with self._lock:
            if open:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def __enter__(self) -> RunningSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def serve(
    config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> RunningSimulator:
    """Start a simulator in the background (port 0: a free port) and return it, running.

    `with serve(SimulatorConfig(latency_scale=0.02)) as sim:` ... `sim.base_url` ...
    """
    return RunningSimulator(config or SimulatorConfig(), host, port).start()


def serve_forever(
    config: SimulatorConfig | None = None,
    port: int = 8787,
    host: str = "127.0.0.1",
    *,
    on_ready: Callable[[RunningSimulator], None] | None = None,
) -> None:
    """Serve until interrupted (KeyboardInterrupt propagates); `on_ready` runs once bound."""
    sim = RunningSimulator(config or SimulatorConfig(), host, port)
    if on_ready is not None:
        on_ready(sim)
    sim.serve_forever()
