"""Windows, per-task sums and the feedback join, on logs small enough to check by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from canary_eval.errors import LogError
from canary_eval.monitor import run_monitor

from .conftest import END, generate, write_config, write_evalset, write_jsonl

DAY = 86400.0
T_END = END.timestamp()


def _iso(days_before_end: float) -> str:
    return (END - timedelta(days=days_before_end)).isoformat().replace("+00:00", "Z")


def _call(
    task: str, days_before_end: float, cost: float, intent: str, **extra: object
) -> dict[str, object]:
    return {
        "ts": _iso(days_before_end),
        "task_id": task,
        "input": f"question about {intent}",
        "intent": intent,
        "latency_ms": 1000.0,
        "input_tokens": 200,
        "output_tokens": 100,
        "cost_usd": cost,
        "status": "ok",
        "model": "m1",
        **extra,
    }


def _event(
    task: str, days_before_end: float, event: str, value: float | None = None
) -> dict[str, object]:
    out: dict[str, object] = {"ts": _iso(days_before_end), "task_id": task, "event": event}
    if value is not None:
        out["value"] = value
    return out


@pytest.fixture
def hand_made(tmp_path: Path) -> Path:
    calls = [
        _call("C", 3.0, 0.01, "billing", status="error"),
        _call("old", 30.0, 9.99, "billing"),  # before the reference window: ignored
        _call("A", 0.5, 0.01, "billing"),
        _call("A", 0.4, 0.03, "billing", latency_ms=3000.0, fallback=True),
        _call("B", 0.3, 0.02, "shipping", status="rate_limited", model="m2"),
    ]
    feedback = [
        _event("C", 2.9, "thumbs_up"),
        _event("A", 0.3, "accepted"),
        _event("A", 0.3, "accepted"),  # a task counts once
        _event("A", 0.3, "thumbs_down"),
        _event("A", 0.3, "csat", 2),
        _event("B", 0.2, "thumbs_up"),
        _event("B", 0.2, "csat", 4),
        _event("B", 0.2, "escalated"),
        _event("ghost", 0.1, "edited"),  # no call: counts overall, in no intent
    ]
    write_jsonl(tmp_path / "calls.jsonl", calls)
    write_jsonl(tmp_path / "feedback.jsonl", feedback)
    path = tmp_path / "monitor.yaml"
    path.write_text(
        yaml.safe_dump({"calls": "calls.jsonl", "feedback": "feedback.jsonl", "reference": "7d"})
    )
    return path


def test_cost_and_tokens_are_summed_per_task_before_averaging(hand_made: Path) -> None:
    result = run_monitor(hand_made)
    ops = result.overall.ops_current
    assert ops.calls == 3
    assert ops.tasks == 2
    assert ops.cost_usd == pytest.approx(0.06)
    assert ops.cost_per_task_usd == pytest.approx(0.03)  # (0.01 + 0.03 + 0.02) / 2 tasks
    assert ops.tokens_per_task == pytest.approx((600 + 300) / 2)
    assert (ops.errors, ops.rate_limited, ops.fallbacks) == (0, 1, 1)
    assert result.overall.ops_reference.calls == 1
    assert result.overall.ops_reference.errors == 1
    billing = next(s for s in result.intents if s.intent == "billing")
    assert billing.ops_current.cost_per_task_usd == pytest.approx(0.04)
    assert billing.ops_current.latency_p50_ms == pytest.approx(2000.0)
    assert billing.traffic_share == pytest.approx(2 / 3)
    assert result.models == {"m1": 2, "m2": 1}


def test_calls_are_slow_against_the_reference_p95_of_their_own_segment(hand_made: Path) -> None:
    result = run_monitor(hand_made)
    overall = result.overall.ops_current
    assert (overall.timed_calls, overall.slow_calls) == (3, 1)  # 3000 ms > the 1000 ms p95
    billing = next(s for s in result.intents if s.intent == "billing")
    assert (billing.ops_current.timed_calls, billing.ops_current.slow_calls) == (2, 1)
    assert (billing.ops_reference.timed_calls, billing.ops_reference.slow_calls) == (1, 0)
    shipping = next(s for s in result.intents if s.intent == "shipping")
    # The reference window saw no shipping call: no p95 to exceed, nothing to test.
    assert (shipping.ops_current.timed_calls, shipping.ops_current.slow_calls) == (0, 0)


def test_feedback_joins_calls_by_task_and_rates_use_the_documented_denominators(
    hand_made: Path,
) -> None:
    result = run_monitor(hand_made)
    signals = result.overall.signals_current
    assert signals.tasks == 3  # A, B and the feedback-only task
    assert (signals.acceptance.successes, signals.acceptance.n) == (1, 3)
    assert (signals.thumbs_down.successes, signals.thumbs_down.n) == (1, 2)
    assert (signals.escalation.successes, signals.edit.successes) == (1, 1)
    assert signals.csat_mean == pytest.approx(3.0)
    assert signals.acceptance.low is not None
    assert signals.acceptance.low < 1 / 3 < (signals.acceptance.high or 0)
    billing = next(s for s in result.intents if s.intent == "billing")
    assert billing.signals_current.tasks == 1
    assert billing.signals_current.thumbs_down.rate == 1.0
    assert billing.signals_current.csat_mean == 2.0
    assert billing.signals_reference.thumbs_down.n == 1


def test_an_empty_current_window_is_a_log_error(hand_made: Path) -> None:
    until = END + timedelta(days=5)
    with pytest.raises(LogError, match="no call records in the current window") as caught:
        run_monitor(hand_made, until=until)
    assert caught.value.exit_code == 2
    assert "2024-05-12T00:00:00Z to 2024-05-13T00:00:00Z" in str(caught.value)


def test_until_before_every_record_names_until(hand_made: Path) -> None:
    until = datetime(2001, 1, 1, tzinfo=UTC)
    with pytest.raises(LogError, match="every call record is later than --until") as caught:
        run_monitor(hand_made, until=until)
    assert caught.value.exit_code == 2
    assert "2001-01-01T00:00:00Z" in str(caught.value)


def test_an_empty_reference_window_is_a_log_error(tmp_path: Path) -> None:
    write_evalset(tmp_path)
    calls, feedback = generate(days=1, calls_per_day=100)
    write_jsonl(tmp_path / "calls.jsonl", calls)
    write_jsonl(tmp_path / "feedback.jsonl", feedback)
    config = write_config(tmp_path, calls="calls.jsonl", feedback="feedback.jsonl")
    with pytest.raises(LogError, match="no call records in the reference window"):
        run_monitor(config)


def test_logs_without_a_single_valid_call_are_a_log_error(tmp_path: Path) -> None:
    (tmp_path / "calls.jsonl").write_text("\n\n", encoding="utf-8")
    path = tmp_path / "monitor.yaml"
    path.write_text("calls: calls.jsonl\n", encoding="utf-8")
    with pytest.raises(LogError, match="no valid call records"):
        run_monitor(path)
