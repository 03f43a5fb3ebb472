"""Benchmark: `canary run` against vendors that throttle, as the command a scheduler starts.

1. A server that answers 429 (Retry-After: 1) to everything: the run must end with exit 3, in
   under 10 s.
2. A proxy that answers 429 slowly (after 5 s, no Retry-After) to every third call, and 200 OK
   after 250 ms otherwise: 200 cases at concurrency 20 must finish within 2x the time of an
   ideal client (bench/reference_clients.py --retry-429: a fixed semaphore, an immediate retry
   on each 429) against the same server in the same run.
3. The bundled simulator enforcing a real 120 requests per minute (a sliding 60 s window): 240
   requests at concurrency 8, the engine having only the server's headers to go by. The limit
   allows the last 120 to start 60 s after the first 120. (`--skip-rpm` leaves it out.)

    python bench/bench_rate_limit.py [--skip-rpm]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench_engine import CANARY, ENV, HERE, write_suite

from canary_eval.models import CallOutcome, Case
from canary_eval.run.engine import Engine
from canary_eval.run.providers import ChatRequest, create_provider
from canary_eval.simulator import SimulatorConfig, serve
from canary_eval.suite.config import ProviderConfig


class Throttling(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    mode = "ok"  # ok | refuse | slow-third
    calls = itertools.count()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Throttling

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        n = next(self.server.calls)
        mode = self.server.mode
        if mode == "refuse":
            self._send(429, {"error": {"message": "quota exceeded"}}, {"retry-after": "1"})
        elif mode == "slow-third" and n % 3 == 2:
            time.sleep(5.0)
            self._send(429, {"error": {"message": "too many requests"}})
        else:
            time.sleep(0.25)
            text = f"Settings, then Export ({body['messages'][-1]['content'][:20]})"
            message = {"role": "assistant", "content": text}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            usage = {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18}
            self._send(200, {"model": "ledger-chat", "choices": [choice], "usage": usage})

    def _send(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def throttling() -> Iterator[tuple[Throttling, str]]:
    server = Throttling(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def canary_run(suite: Path) -> tuple[int, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [*CANARY, "run", str(suite), "--quiet"], cwd=suite.parent, env=ENV, capture_output=True
    )
    return done.returncode, time.perf_counter() - started


def refused_and_throttled(directory: Path) -> None:
    cases, concurrency = 200, 20
    with throttling() as (server, base_url):
        suite = write_suite(directory, base_url, cases, concurrency, max_retries=4)  # the default
        subprocess.run(
            [*CANARY, "baseline", str(suite), "--quiet"], cwd=directory, env=ENV, check=True
        )

        server.mode = "refuse"
        code, elapsed = canary_run(suite)
        print("a server answering 429 (Retry-After: 1) to everything, 200 cases, 4 retries:")
        print(f"  `canary run` exit {code} after {elapsed:.1f} s (goal: exit 3 in under 10 s)")

        server.mode = "slow-third"
        started = time.perf_counter()
        ideal = [sys.executable, str(HERE / "reference_clients.py"), "httpx", base_url]
        subprocess.run([*ideal, str(cases), str(concurrency), "--retry-429"], check=True)
        ideal_s = time.perf_counter() - started
        code, elapsed = canary_run(suite)
    print("a proxy answering 429 after 5 s to every third call, 200 cases, concurrency 20:")
    print(f"  ideal client (fixed concurrency, immediate retry)  {ideal_s:5.1f} s")
    print(
        f"  `canary run` exit {code}                              {elapsed:5.1f} s  "
        f"{elapsed / ideal_s:.2f}x ideal (goal: under 2x)"
    )


async def _paced(base_url: str, n: int) -> list[CallOutcome]:
    config = ProviderConfig(type="openai", base_url=base_url, model="ledger-chat", concurrency=8,
                            max_retries=8)  # fmt: skip
    provider = create_provider(config)
    requests = [
        ChatRequest(Case(id=f"c{i}", input="q"), None, f"Where is invoice {i}?") for i in range(n)
    ]
    try:
        return await Engine(provider).run(requests)
    finally:
        await provider.aclose()


def rpm_limit(requests: int = 240, rpm: int = 120) -> None:
    with serve(SimulatorConfig(rpm=rpm, latency_scale=0.1)) as sim:
        started = time.monotonic()
        outcomes = asyncio.run(_paced(sim.base_url, requests))
        elapsed = time.monotonic() - started
    throttled = sum(o.rate_limited for o in outcomes)
    errors = sum(o.error is not None for o in outcomes)
    allowed = (requests / rpm - 1) * 60
    print(f"{requests} requests against a {rpm} rpm limit, concurrency 8:")
    print(f"  finished in {elapsed:.1f} s; the limit allows {allowed:.0f} s at best")
    print(f"  429 answers: {throttled} ({throttled / requests:.1%} of requests), errors: {errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--skip-rpm", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        refused_and_throttled(Path(tmp))
    if not args.skip_rpm:
        rpm_limit()


if __name__ == "__main__":
    main()
