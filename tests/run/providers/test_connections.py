"""A provider's connections: one per concurrency slot, kept alive and reused, and no TLS set-up
for an http:// endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_server import ModelServer, call_through_engine


def test_a_run_opens_at_most_one_connection_per_slot_and_reuses_them(
    model_server: ModelServer,
) -> None:
    model_server.latency_s = 0.005
    outcomes = call_through_engine(model_server, n=200, concurrency=8)

    assert all(o.error is None for o in outcomes)
    connections = {request["port"] for request in model_server.requests}
    assert 1 <= len(connections) <= 8


def test_an_http_endpoint_builds_no_ssl_context(
    model_server: ModelServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # httpx reads the CA bundle named here whenever it builds an SSL context: a missing file
    # fails any code path that builds one.
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-bundle.pem"))
    outcomes = call_through_engine(model_server, n=20, concurrency=4)

    assert all(o.error is None for o in outcomes)
