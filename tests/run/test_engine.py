"""The engine against a real server on 127.0.0.1 that misbehaves the ways vendors do: every
fault ends as specified, and none crashes the run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from canary_eval.errors import AuthError
from canary_eval.models import CallOutcome, Case
from canary_eval.run.engine import Engine, tokens_estimate
from canary_eval.run.providers import ChatRequest, create_provider
from canary_eval.suite.config import ProviderConfig

from model_server import Fault, ModelServer, serving


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with serving(ModelServer(answer=lambda user: f"answer to {user}")) as running:
        yield running


def run(server: ModelServer, n: int = 20, **config: object) -> list[CallOutcome]:
    settings = {"concurrency": 4, "timeout_s": 2.0, "max_retries": 3, **config}
    provider_config = ProviderConfig(
        type="openai",
        base_url=server.base_url,
        model="m",
        **settings,  # type: ignore[arg-type]
    )

    async def go() -> list[CallOutcome]:
        provider = create_provider(provider_config)
        engine = Engine(provider, backoff_base_s=0.01)
        requests = [ChatRequest(Case(id=f"c{i}", input=f"q{i}"), None, f"q{i}") for i in range(n)]
        try:
            return await engine.run(requests)
        finally:
            await provider.aclose()

    return asyncio.run(go())


def test_a_429_burst_that_clears_is_retried_to_completion(server: ModelServer) -> None:
    server.faults = [Fault(429, {"retry-after": "0.05"}) for _ in range(6)]
    outcomes = run(server)
    assert all(o.error is None for o in outcomes)
    assert sum(o.rate_limited for o in outcomes) == 6


def test_retry_after_ms_is_honoured(server: ModelServer) -> None:
    server.faults = [Fault(429, {"retry-after-ms": "30"})]
    outcomes = run(server, n=1)
    assert outcomes[0].error is None
    assert outcomes[0].attempts == 2


def test_a_503_burst_is_retried(server: ModelServer) -> None:
    server.faults = [Fault(503) for _ in range(5)]
    outcomes = run(server)
    assert all(o.error is None for o in outcomes)
    assert sum(o.attempts for o in outcomes) == 25


def test_connection_resets_are_retried(server: ModelServer) -> None:
    server.faults = [Fault(drop=True) for _ in range(3)]
    outcomes = run(server)
    assert all(o.error is None for o in outcomes)


def test_a_read_timeout_is_retried_then_classified(server: ModelServer) -> None:
    server.fault_for = lambda n, user: Fault(stall_s=0.5) if user == "q0" else None
    outcomes = run(server, n=3, timeout_s=0.2, max_retries=1)
    assert outcomes[0].error is not None
    assert outcomes[0].error.kind == "timeout"
    assert outcomes[0].attempts == 2
    assert [o.error for o in outcomes[1:]] == [None, None]


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault(body="this is not json"), "malformed_response"),
        (Fault(body='{"choices": []}'), "malformed_response"),
        (Fault(finish_reason="length"), "truncated"),
        (Fault(finish_reason="content_filter"), "content_filter"),
        (Fault(400, body='{"error": "bad request"}'), "client_error"),
    ],
)
def test_unusable_answers_are_classified_and_not_retried(
    server: ModelServer, fault: Fault, kind: str
) -> None:
    server.fault_for = lambda n, user: fault if user == "q0" else None
    outcomes = run(server, n=2)
    assert outcomes[0].error is not None
    assert outcomes[0].error.kind == kind
    assert outcomes[0].attempts == 1
    assert outcomes[1].error is None


def test_retries_give_up_after_max_retries(server: ModelServer) -> None:
    server.fault_for = lambda n, user: Fault(500)
    outcomes = run(server, n=2, max_retries=2)
    assert [o.error.kind if o.error else None for o in outcomes] == ["server_error"] * 2
    assert [o.attempts for o in outcomes] == [3, 3]


def test_a_401_stops_the_run_at_once(server: ModelServer) -> None:
    server.fault_for = lambda n, user: Fault(401)
    with pytest.raises(AuthError, match="HTTP 401"):
        run(server, n=40, concurrency=2)
    assert len(server.requests) <= 4


def test_the_deadline_marks_unfinished_cases_and_still_returns(server: ModelServer) -> None:
    server.latency_s = 0.3
    provider_config = ProviderConfig(
        type="openai", base_url=server.base_url, model="m", concurrency=2
    )

    async def go() -> list[CallOutcome]:
        provider = create_provider(provider_config)
        requests = [ChatRequest(Case(id=f"c{i}", input="q"), None, "q") for i in range(10)]
        try:
            return await Engine(provider).run(requests, deadline_s=0.5)
        finally:
            await provider.aclose()

    outcomes = asyncio.run(go())
    finished = [o for o in outcomes if o.error is None]
    assert 1 <= len(finished) <= 4
    assert {o.error.kind for o in outcomes if o.error} == {"deadline"}


def test_the_fallback_answers_when_the_primary_fails_after_its_retries(server: ModelServer) -> None:
    server.fault_for = lambda n, user: Fault(503)
    with serving(ModelServer(answer=lambda user: "from the fallback")) as backup:
        fallback = ProviderConfig(type="openai", base_url=backup.base_url, model="backup")
        primary = ProviderConfig(type="openai", base_url=server.base_url, model="m",
                                 max_retries=1, fallback=fallback)  # fmt: skip

        async def go() -> list[CallOutcome]:
            main, spare = create_provider(primary), create_provider(fallback)
            requests = [ChatRequest(Case(id=f"c{i}", input="q"), None, "q") for i in range(4)]
            try:
                return await Engine(main, spare, backoff_base_s=0.01).run(requests)
            finally:
                await main.aclose()
                await spare.aclose()

        outcomes = asyncio.run(go())

    assert all(o.fallback and o.error is None for o in outcomes)
    assert {o.completion.text for o in outcomes if o.completion} == {"from the fallback"}


def test_client_side_rpm_spaces_the_requests(server: ModelServer) -> None:
    started = time.monotonic()
    outcomes = run(server, n=6, rpm=600.0)
    elapsed = time.monotonic() - started
    assert all(o.error is None for o in outcomes)
    assert elapsed >= 0.5  # six starts at 0.1 s apart


def test_the_tokens_estimate_counts_a_whole_conversation_and_the_tools() -> None:
    # A tokens-per-minute limit paces on what a request sends: a few-shot prompt or a long
    # conversation sends far more than its last user turn
    turn = ChatRequest(Case(id="c", input="q" * 40), "s" * 40, "q" * 40)
    assert tokens_estimate(turn, max_tokens=100) == 80 // 4 + 100
    history = tuple({"role": "user", "content": "x" * 4000} for _ in range(3))
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {}}}
    conversation = ChatRequest(Case(id="c", input="q"), None, "q", messages=history, tools=(tool,))
    assert tokens_estimate(conversation, max_tokens=100) > 12_000 // 4 + 100
