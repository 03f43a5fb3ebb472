"""Benchmark: a canary run against a vendor that enforces a real 120 requests-per-minute limit.

Serves the simulator on 127.0.0.1 with `rpm=120` (a sliding 60 s window) and sends 240
requests at concurrency 8 with no client-side limit configured: the engine has only the
server's headers to go by. The limit allows the last 120 to start 60 s after the first 120.

    python bench/bench_rate_limit.py [--requests 240] [--rpm 120]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from canary_eval.models import CallOutcome, Case
from canary_eval.run.engine import Engine
from canary_eval.run.providers import ChatRequest, create_provider
from canary_eval.simulator import SimulatorConfig, serve
from canary_eval.suite.config import ProviderConfig


async def run(base_url: str, n: int) -> list[CallOutcome]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=240)
    parser.add_argument("--rpm", type=int, default=120)
    args = parser.parse_args()
    with serve(SimulatorConfig(rpm=args.rpm, latency_scale=0.1)) as sim:
        started = time.monotonic()
        outcomes = asyncio.run(run(sim.base_url, args.requests))
        elapsed = time.monotonic() - started
    throttled = sum(o.rate_limited for o in outcomes)
    errors = sum(o.error is not None for o in outcomes)
    allowed = (args.requests / args.rpm - 1) * 60
    print(f"{args.requests} requests against a {args.rpm} rpm limit, concurrency 8")
    print(f"finished in {elapsed:.1f} s; the limit allows {allowed:.0f} s at best")
    print(
        f"429 answers: {throttled} ({throttled / args.requests:.1%} of requests), errors: {errors}"
    )


if __name__ == "__main__":
    main()
