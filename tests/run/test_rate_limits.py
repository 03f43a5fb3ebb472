"""Against a vendor that enforces a requests-per-minute limit, the engine paces itself: no storm
of 429s, and throughput close to what the limit allows.

The simulator's minute is shrunk to 2 s so the test takes seconds; the limiter, its headers
and the engine's reaction are the same as with a real minute.
"""

from __future__ import annotations

import asyncio
import time

from canary_eval.models import CallOutcome, Case
from canary_eval.run.engine import Engine
from canary_eval.run.providers import ChatRequest, create_provider
from canary_eval.simulator import SimulatorConfig, serve
from canary_eval.suite.config import ProviderConfig

LIMIT = 120
WINDOW_S = 2.0
REQUESTS = 360  # three windows' worth


def test_a_run_under_an_rpm_limit_completes_without_a_storm_of_429s() -> None:
    config = SimulatorConfig(rpm=LIMIT, rpm_window_s=WINDOW_S, latency_scale=0.01)
    with serve(config) as sim:
        provider_config = ProviderConfig(
            type="openai", base_url=sim.base_url, model="ledger-chat", concurrency=8,
            max_retries=6,
        )  # fmt: skip

        async def go() -> list[CallOutcome]:
            provider = create_provider(provider_config)
            requests = [
                ChatRequest(Case(id=f"c{i}", input=f"q{i}"), None, f"How do I export invoice {i}?")
                for i in range(REQUESTS)
            ]
            try:
                return await Engine(provider).run(requests)
            finally:
                await provider.aclose()

        started = time.monotonic()
        outcomes = asyncio.run(go())
        elapsed = time.monotonic() - started

    throttled = sum(o.rate_limited for o in outcomes)
    assert all(o.error is None for o in outcomes)
    assert throttled < 0.10 * REQUESTS, throttled
    # The limit allows the last window's requests to start at 2 x WINDOW_S.
    allowed = (REQUESTS / LIMIT - 1) * WINDOW_S
    assert allowed <= elapsed < allowed * 1.5 + 0.5, elapsed
