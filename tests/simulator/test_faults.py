"""Fault specs, the requests-per-minute window and the simulator's settings."""

from __future__ import annotations

import pytest

from canary_eval.errors import ConfigError
from canary_eval.simulator import Fault, SimulatorConfig, parse_fault, parse_script
from canary_eval.simulator.faults import RateLimiter, format_reset


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_script_expands_counts_and_retry_afters_in_order() -> None:
    assert parse_script("429*2@0.5, 503, reset,ok") == (
        Fault("rate_limit", 0.5, 429),
        Fault("rate_limit", 0.5, 429),
        Fault("server_error", None, 503),
        Fault("reset"),
        Fault("ok"),
    )


@pytest.mark.parametrize("spec", ["teapot", "429*x", "503@soon"])
def test_a_bad_script_is_a_config_error(spec: str) -> None:
    with pytest.raises(ConfigError):
        parse_script(spec)


def test_fault_specs_become_config_changes() -> None:
    config = SimulatorConfig().with_faults(["rpm=120", "error_rate=0.2", "script=503*2"])
    assert config.rpm == 120
    assert config.error_rate == 0.2
    assert len(config.script) == 2
    assert parse_fault("hang_s=2.5") == {"hang_s": 2.5}


@pytest.mark.parametrize("spec", ["rpm", "latency=3", "error_rate=lots", "error_rate=1.5"])
def test_a_bad_fault_spec_is_a_config_error(spec: str) -> None:
    with pytest.raises(ConfigError):
        SimulatorConfig().with_faults([spec])


def test_an_unknown_version_or_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown model version"):
        SimulatorConfig(version="gpt-9")
    with pytest.raises(ConfigError, match="unknown simulator setting"):
        SimulatorConfig().replace(temperature=1)


def test_the_window_admits_rpm_requests_per_minute_and_slides() -> None:
    clock = Clock()
    limiter = RateLimiter(2, clock=clock)
    assert limiter.acquire().allowed
    clock.now += 30
    assert limiter.acquire().allowed
    refused = limiter.acquire()
    assert not refused.allowed
    assert refused.reset_s == pytest.approx(30)
    clock.now += 30  # the first request leaves the window
    assert limiter.acquire().allowed
    assert not limiter.acquire().allowed


def test_refused_requests_do_not_use_up_the_window() -> None:
    clock = Clock()
    limiter = RateLimiter(1, clock=clock)
    limiter.acquire()
    for _ in range(10):
        assert not limiter.acquire().allowed
    clock.now += 60
    assert limiter.acquire().allowed


def test_without_a_limit_the_window_still_counts_for_the_headers() -> None:
    limiter = RateLimiter(None, clock=Clock())
    first, second = limiter.acquire(), limiter.acquire()
    assert first.limit == RateLimiter.NOMINAL_LIMIT
    assert second.remaining == first.remaining - 1


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.12, "120ms"), (1.5, "1.5s"), (12.0, "12s"), (360, "6m0s")]
)
def test_reset_times_look_like_openai_headers(seconds: float, text: str) -> None:
    assert format_reset(seconds) == text
