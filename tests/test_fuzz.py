"""Fuzzing the inputs users write: any value anywhere in a suite config, an eval-set case or a
log record ends in a verdict, exit 0, 2 or 3, never exit 1 (only a gate decides that), never
exit 4 (a crash) and never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CliResult

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["", "-1", "1e400", "nan", "[/bold]", "${UNSET_FUZZ}", "\x1b[2J", "os:system"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

CONFIG_KEYS = [
    ("suite",), ("evalset",), ("baseline",), ("history",), ("scorers",), ("prompt",),
    ("thresholds",), ("alerts",), ("alerting",), ("allow_custom_scorers",), ("quarantine",),
    ("provider", "type"), ("provider", "base_url"), ("provider", "model"),
    ("provider", "api_key_env"), ("provider", "concurrency"), ("provider", "timeout_s"),
    ("provider", "max_retries"), ("provider", "pricing"), ("provider", "max_tokens"),
    ("provider", "headers"), ("provider", "max_response_bytes"),
    ("thresholds", "max_relative_drop"), ("thresholds", "alpha"), ("thresholds", "per_intent"),
    ("thresholds", "max_error_rate"), ("thresholds", "confirm_repeats"),
]  # fmt: skip
CASE_KEYS = ["id", "input", "reference", "intent", "scorers", "metadata", "messages", "extra"]
RECORD_KEYS = ["ts", "intent", "input", "output", "latency_ms", "status", "cost_usd", "model"]


def base_config() -> dict[str, Any]:
    return {
        "suite": "fuzz",
        "evalset": "evalset.jsonl",
        "provider": {"type": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m",
                     "api_key_env": "CANARY_TEST_KEY"},
        "scorers": [{"type": "exact"}],
    }  # fmt: skip


def assert_no_crash(result: CliResult) -> None:
    assert result.exit_code in (0, 2, 3), result.output
    assert "Traceback" not in result.output


def case(i: int) -> dict[str, Any]:
    return {"id": f"c{i}", "input": f"q{i}", "reference": f"a{i}"}


@FUZZ
@given(key=st.sampled_from(CONFIG_KEYS), value=VALUES)
def test_any_config_value_is_a_verdict_or_one_line(
    key: tuple[str, ...], value: Any, canary: Callable[..., CliResult], tmp_path: Path
) -> None:
    config = base_config()
    target = config
    for part in key[:-1]:
        target = target.setdefault(part, {})
    target[key[-1]] = value
    (tmp_path / "evalset.jsonl").write_text("".join(json.dumps(case(i)) + "\n" for i in range(3)))
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(config))

    assert_no_crash(canary("validate", tmp_path / "suite.yaml"))


@FUZZ
@given(key=st.sampled_from(CASE_KEYS), value=VALUES)
def test_any_case_value_is_a_verdict_or_one_line(
    key: str, value: Any, canary: Callable[..., CliResult], tmp_path: Path
) -> None:
    cases = [case(0), {**case(1), key: value}]
    text = "".join(json.dumps(c, allow_nan=True) + "\n" for c in cases)
    (tmp_path / "evalset.jsonl").write_text(text)
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(base_config()))

    assert_no_crash(canary("validate", tmp_path / "suite.yaml"))


@FUZZ
@given(key=st.sampled_from(RECORD_KEYS), value=VALUES)
def test_any_log_value_is_counted_not_a_crash(
    key: str, value: Any, canary: Callable[..., CliResult], tmp_path: Path
) -> None:
    record = {"ts": "2026-01-01T00:00:00Z", "intent": "faq", "input": "q", "output": "a",
              "latency_ms": 100, "status": "ok"}  # fmt: skip
    lines = [json.dumps(record), json.dumps({**record, key: value}, allow_nan=True)]
    (tmp_path / "calls.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "monitor.yaml").write_text("name: fuzz\ncalls: calls.jsonl\n")

    assert_no_crash(canary("monitor", tmp_path / "monitor.yaml"))
