"""A vendor that throttles or fails, against a real server on 127.0.0.1: the engine waits out a
429 together behind one probe, recovers its concurrency when the burst is over, and stops as
soon as the error budget is blown."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from canary_eval.models import CallOutcome, Case
from canary_eval.run.engine import Engine
from canary_eval.run.providers import ChatRequest, create_provider
from canary_eval.suite.config import ProviderConfig

from model_server import Fault, ModelServer, serving


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with serving(ModelServer(answer=lambda user: f"answer to {user}")) as running:
        yield running


def run_engine(
    server: ModelServer, n: int, *, concurrency: int = 4, max_retries: int = 3, **engine: object
) -> tuple[list[CallOutcome], Engine]:
    config = ProviderConfig(
        type="openai",
        base_url=server.base_url,
        model="m",
        concurrency=concurrency,
        timeout_s=2.0,
        max_retries=max_retries,
    )

    async def go() -> tuple[list[CallOutcome], Engine]:
        provider = create_provider(config)
        machine = Engine(provider, backoff_base_s=0.02, **engine)  # type: ignore[arg-type]
        requests = [ChatRequest(Case(id=f"c{i}", input=f"q{i}"), None, f"q{i}") for i in range(n)]
        try:
            return await machine.run(requests), machine
        finally:
            await provider.aclose()

    return asyncio.run(go())


def test_a_server_that_refuses_everything_gets_one_probe_at_a_time_then_all_fail_together(
    server: ModelServer,
) -> None:
    server.fault_for = lambda n, user: Fault(429, {"retry-after": "0.05"})
    started = time.monotonic()
    outcomes, _ = run_engine(server, n=40, max_retries=3)
    elapsed = time.monotonic() - started

    assert {o.error.kind for o in outcomes if o.error} == {"rate_limited"}
    assert all(o.error for o in outcomes)
    # The first wave (4), then one probe per round until 4 rounds in a row were refused; every
    # request retrying on its own would have made 40 x 4 calls.
    assert len(server.requests) <= 4 + 4
    assert elapsed < 2.0


def test_concurrency_climbs_back_to_the_ceiling_after_a_429_burst(server: ModelServer) -> None:
    server.latency_s = 0.01
    server.faults = [Fault(429) for _ in range(8)]
    outcomes, engine = run_engine(server, n=20, concurrency=8)

    assert all(o.error is None for o in outcomes)
    assert sum(o.rate_limited for o in outcomes) == 8
    # Halved once for the burst, then one slot per success: back at 8 within 4 successes.
    assert engine.limit.limit == 8


def test_past_the_error_budget_the_remaining_calls_are_not_sent(server: ModelServer) -> None:
    server.fault_for = lambda n, user: Fault(503)
    outcomes, _ = run_engine(server, n=60, concurrency=2, max_retries=0, error_budget=3)

    failed = [o for o in outcomes if o.error and o.error.kind == "server_error"]
    not_sent = [o for o in outcomes if o.error and o.error.kind == "cancelled"]
    assert 4 <= len(failed) <= 6  # the one past the budget, and those already under way
    assert len(failed) + len(not_sent) == 60
    assert "error budget of 3" in not_sent[0].error.message  # type: ignore[union-attr]
    assert len(server.requests) <= 6


def test_within_the_error_budget_every_call_is_made(server: ModelServer) -> None:
    server.fault_for = lambda n, user: Fault(503) if user in ("q1", "q2", "q3") else None
    outcomes, _ = run_engine(server, n=20, max_retries=1, error_budget=3)

    assert sum(o.error is not None for o in outcomes) == 3
    assert all(o.error.kind == "server_error" for o in outcomes if o.error)
