"""Asking the endpoint which model it serves, for `--if-model-changed` and `canary watch`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from canary_eval.errors import AuthError
from canary_eval.run.probe import served_model_probe
from canary_eval.suite.config import ProviderConfig

from factories import RecordingServer, Reply

MANY = {"data": [{"id": "sim-stable"}, {"id": "sim-drift"}]}
CHAT = {
    "model": "sim-2024-05-01",
    "system_fingerprint": "fp_b",
    "choices": [{"message": {"role": "assistant", "content": "p"}, "finish_reason": "length"}],
}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingServer]:
    monkeypatch.setenv("SIM_KEY", "sk-test-123")
    with RecordingServer() as running:
        yield running


def provider(server: RecordingServer, **fields: Any) -> ProviderConfig:
    settings: dict[str, Any] = {"type": "openai", "model": "sim", "api_key_env": "SIM_KEY"}
    return ProviderConfig(base_url=f"{server.url}/v1", **{**settings, **fields})


def test_a_models_list_naming_one_model_answers(server: RecordingServer) -> None:
    server.script("/v1/models", Reply(200, {"data": [{"id": "sim-stable", "object": "model"}]}))
    assert served_model_probe(provider(server)) == "sim-stable"
    (request,) = server.requests
    assert (request.method, request.path) == ("GET", "/v1/models")
    assert request.headers["Authorization"] == "Bearer sk-test-123"


def test_a_list_of_many_models_falls_back_to_a_one_token_completion(
    server: RecordingServer,
) -> None:
    server.script("/v1/models", Reply(200, MANY))
    server.script("/v1/chat/completions", Reply(200, CHAT))
    assert served_model_probe(provider(server)) == "sim-2024-05-01 (fp_b)"
    chat = server.to("/v1/chat/completions")[0]
    body = chat.json()
    assert body["max_tokens"] == 1
    assert body["model"] == "sim"
    assert chat.headers["Authorization"] == "Bearer sk-test-123"


def test_no_models_route_falls_back_to_the_completion(server: RecordingServer) -> None:
    server.script("/v1/models", Reply(404, {"error": "not found"}))
    server.script("/v1/chat/completions", Reply(200, CHAT))
    assert served_model_probe(provider(server)) == "sim-2024-05-01 (fp_b)"


def test_the_chat_method_skips_the_list(server: RecordingServer) -> None:
    server.script("/v1/chat/completions", Reply(200, {**CHAT, "system_fingerprint": None}))
    assert served_model_probe(provider(server), method="chat") == "sim-2024-05-01"
    assert [r.path for r in server.requests] == ["/v1/chat/completions"]


def test_an_endpoint_that_cannot_say_gives_none(server: RecordingServer) -> None:
    server.script("/v1/models", Reply(500, "boom"))
    server.script("/v1/chat/completions", Reply(503, "down"))
    assert served_model_probe(provider(server)) is None


def test_an_unreachable_endpoint_gives_none() -> None:
    with RecordingServer() as gone:
        config = provider(gone, api_key_env=None)
    assert served_model_probe(config, timeout_s=2) is None


def test_a_missing_or_refused_key_is_an_auth_error(
    server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.script("/v1/models", Reply(401, {"error": "bad key"}))
    with pytest.raises(AuthError):
        served_model_probe(provider(server))
    monkeypatch.delenv("SIM_KEY")
    with pytest.raises(AuthError, match="SIM_KEY is not set"):
        served_model_probe(provider(server))


def test_providers_without_a_model_endpoint_give_none(server: RecordingServer) -> None:
    assert served_model_probe(provider(server, type="replay")) is None
    assert server.requests == []
