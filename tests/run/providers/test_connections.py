"""A provider's connections: one per concurrency slot, kept alive and reused, and no TLS set-up
for an http:// endpoint."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from canary_eval.models import CallOutcome, Case
from canary_eval.run.engine import Engine
from canary_eval.run.providers import ChatRequest, create_provider
from canary_eval.suite.config import ProviderConfig

from model_server import ModelServer


def run(server: ModelServer, n: int, concurrency: int) -> list[CallOutcome]:
    config = ProviderConfig(
        type="openai", base_url=server.base_url, model="m", concurrency=concurrency
    )

    async def go() -> list[CallOutcome]:
        provider = create_provider(config)
        requests = [ChatRequest(Case(id=f"c{i}", input="q"), None, f"q{i}") for i in range(n)]
        try:
            return await Engine(provider).run(requests)
        finally:
            await provider.aclose()

    return asyncio.run(go())


def test_a_run_opens_at_most_one_connection_per_slot_and_reuses_them(
    model_server: ModelServer,
) -> None:
    model_server.latency_s = 0.005
    outcomes = run(model_server, n=200, concurrency=8)

    assert all(o.error is None for o in outcomes)
    connections = {request["port"] for request in model_server.requests}
    assert 1 <= len(connections) <= 8


def test_an_http_endpoint_builds_no_ssl_context(
    model_server: ModelServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # httpx reads the CA bundle named here whenever it builds an SSL context: a missing file
    # fails any code path that builds one.
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-bundle.pem"))
    outcomes = run(model_server, n=20, concurrency=4)

    assert all(o.error is None for o in outcomes)
