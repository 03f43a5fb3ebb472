"""The HTTP endpoint model-backed scorers call: settings, retries and what failures become."""

from __future__ import annotations

import asyncio
from types import MappingProxyType

import pytest

from canary_eval.errors import ConfigError
from canary_eval.scorers import endpoint as endpoint_module
from canary_eval.scorers.endpoint import Endpoint, EndpointError, endpoint_from
from canary_eval.scorers.registry import ParamError

from .conftest import Endpoint as Server


def test_scorer_params_override_the_suite_judge_field_by_field() -> None:
    suite = MappingProxyType({"base_url": "http://judge/v1", "model": "j", "timeout_s": 5, "x": 1})
    got = endpoint_from({"model": "mine", "api_key_env": None}, suite)
    assert got == Endpoint("http://judge/v1", "mine", None, 5.0, 2)


def test_the_suite_judge_may_be_an_endpoint_object() -> None:
    suite = Endpoint("http://judge/v1", "j", "KEY", 9.0, 0)
    assert endpoint_from({}, suite) == suite


def test_missing_or_bad_settings_name_the_parameter() -> None:
    with pytest.raises(ParamError) as info:
        endpoint_from({"base_url": "http://x"}, None)
    assert info.value.param == "model"
    with pytest.raises(ParamError) as info:
        endpoint_from({"base_url": "ftp://x", "model": "m"}, None)
    assert info.value.param == "base_url"
    assert isinstance(info.value, ValueError)  # so `create` turns it into a ConfigError
    assert not isinstance(info.value, ConfigError)


def test_retry_after_is_honoured_up_to_a_cap(
    endpoint: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    answers = iter(
        [(429, {}, {"Retry-After": "3"}), (503, {}, {"Retry-After": "999"}), (200, {"ok": True})]
    )
    endpoint.reply = lambda path, body: next(answers)
    got = asyncio.run(Endpoint(endpoint.url, "m", max_retries=2).post("x", {}))
    assert got == {"ok": True}
    assert waits == [3.0, endpoint_module.MAX_RETRY_AFTER_S]


def test_giving_up_after_the_retries_says_the_last_failure(endpoint: Server) -> None:
    endpoint.reply = lambda path, body: (503, {})
    with pytest.raises(EndpointError, match="HTTP 503"):
        asyncio.run(Endpoint(endpoint.url, "m", max_retries=1).post("x", {}))
    assert len(endpoint.requests) == 2


def test_an_unreachable_endpoint_is_an_endpoint_error() -> None:
    with pytest.raises(EndpointError, match="ConnectError"):
        asyncio.run(Endpoint("http://127.0.0.1:9/v1", "m", max_retries=0).post("x", {}))
