"""Production logs of the simulated support bot: canonical records, and drift that shows."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from statistics import quantiles
from typing import Any

import pytest

from canary_eval.simulator import write_production_logs
from canary_eval.simulator.bank import load_bank

CALL_KEYS = {
    *("ts", "task_id", "input", "output", "latency_ms", "input_tokens", "output_tokens"),
    *("cost_usd", "status", "fallback", "model"),
}
EVENTS = {"thumbs_up", "thumbs_down", "accepted", "edited", "escalated", "csat"}
NEW_TOPIC = re.compile(
    r"payroll|crypto|USDC|Bitcoin|Ethereum|stablecoin|Coinbase|W-2|pay stubs|direct deposit"
    r"|new hire",
    re.IGNORECASE,
)


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def ts(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(record["ts"])


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, tuple[list[Any], list[Any]]]:
    """Four days at the default rate, with and without drift."""
    out = {}
    for drift in (False, True):
        directory = tmp_path_factory.mktemp(f"drift-{drift}")
        calls, feedback = write_production_logs(directory, days=4, drift=drift, seed=0)
        out[drift] = (read(calls), read(feedback))
    return out


def split(records: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    """Records of the last 24 hours, and those before."""
    cut = max(ts(r) for r in records) - timedelta(hours=24)
    return [r for r in records if ts(r) >= cut], [r for r in records if ts(r) < cut]


def test_call_records_have_the_canonical_shape(tmp_path: Path) -> None:
    calls_path, _ = write_production_logs(tmp_path, days=2, calls_per_day=300)
    calls = read(calls_path)
    intents = set(load_bank().by_intent)
    assert 450 <= len(calls) <= 750
    for call in calls:
        assert set(call) >= CALL_KEYS
        assert ts(call).tzinfo is not None
        assert call["status"] in {"ok", "error", "rate_limited"}
        assert isinstance(call["fallback"], bool)
        assert call["latency_ms"] > 0
        assert call["input_tokens"] > 0
        assert call["cost_usd"] >= 0
        assert call.get("intent", "faq") in intents
        assert bool(call["output"]) == (call["status"] == "ok")
    assert calls == sorted(calls, key=ts)
    assert 0.6 <= sum("intent" in c for c in calls) / len(calls) <= 0.9  # the rest untagged
    assert ts(calls[-1]) - ts(calls[0]) > timedelta(hours=40)


def test_feedback_events_belong_to_tasks_and_only_csat_has_a_value(tmp_path: Path) -> None:
    calls_path, feedback_path = write_production_logs(tmp_path, days=2, calls_per_day=300)
    tasks = {c["task_id"] for c in read(calls_path)}
    feedback = read(feedback_path)
    assert {e["event"] for e in feedback} == EVENTS
    for event in feedback:
        assert event["task_id"] in tasks
        assert ts(event).tzinfo is not None
        if event["event"] == "csat":
            assert event["value"] in {1, 2, 3, 4, 5}
        else:
            assert event["value"] is None


def test_inputs_are_paraphrases_of_the_canary_inputs(tmp_path: Path) -> None:
    calls_path, _ = write_production_logs(tmp_path, days=1, calls_per_day=300)
    canary = [e.input.lower().rstrip("?") for e in load_bank().entries.values()]
    calls = read(calls_path)
    exact = sum(c["input"] in {e.input for e in load_bank().entries.values()} for c in calls)
    words = [set(re.findall(r"\w+", text)) for text in canary]
    for call in calls[:200]:
        mine = set(re.findall(r"\w+", call["input"].lower()))
        assert max(len(mine & w) / len(w) for w in words) >= 0.6, call["input"]
    assert exact < len(calls)  # not all verbatim


def test_the_same_seed_writes_the_same_logs(tmp_path: Path) -> None:
    first = write_production_logs(tmp_path / "a", days=1, calls_per_day=200, seed=5)
    again = write_production_logs(tmp_path / "b", days=1, calls_per_day=200, seed=5)
    other = write_production_logs(tmp_path / "c", days=1, calls_per_day=200, seed=6)
    assert [p.read_text() for p in first] == [p.read_text() for p in again]
    assert first[0].read_text() != other[0].read_text()


def test_without_drift_the_last_day_looks_like_the_days_before(
    logs: dict[bool, tuple[list[Any], list[Any]]],
) -> None:
    calls, feedback = logs[False]
    now, before = split(calls)
    assert not any(NEW_TOPIC.search(c["input"]) for c in calls)
    assert 0.85 <= p95(now) / p95(before) <= 1.15
    ratio = thumbs_down_share(calls, feedback, "disputes", latest=True) / thumbs_down_share(
        calls, feedback, "disputes", latest=False
    )
    assert 0.6 <= ratio <= 1.4


def test_drift_brings_a_new_topic_doubles_disputes_thumbs_down_and_p95_latency(
    logs: dict[bool, tuple[list[Any], list[Any]]],
) -> None:
    calls, feedback = logs[True]
    now, before = split(calls)
    new_share = sum(bool(NEW_TOPIC.search(c["input"])) for c in now) / len(now)
    assert 0.15 <= new_share <= 0.25
    assert not any(NEW_TOPIC.search(c["input"]) for c in before)
    assert not any("intent" in c for c in now if NEW_TOPIC.search(c["input"]))
    assert 1.7 <= p95(now) / p95(before) <= 2.4
    assert 0.85 <= p50(now) / p50(before) <= 1.15
    ratio = thumbs_down_share(calls, feedback, "disputes", latest=True) / thumbs_down_share(
        calls, feedback, "disputes", latest=False
    )
    assert 1.6 <= ratio <= 2.5
    faq = thumbs_down_share(calls, feedback, "faq", latest=True) / thumbs_down_share(
        calls, feedback, "faq", latest=False
    )
    assert 0.6 <= faq <= 1.4


def p95(calls: list[dict[str, Any]]) -> float:
    return quantiles([float(c["latency_ms"]) for c in calls], n=20)[-1]


def p50(calls: list[dict[str, Any]]) -> float:
    return quantiles([float(c["latency_ms"]) for c in calls], n=2)[0]


def thumbs_down_share(
    calls: list[dict[str, Any]], feedback: list[dict[str, Any]], intent: str, *, latest: bool
) -> float:
    """Down / (down + up) for the tasks of an intent that started in (or before) the last day."""
    cut = max(ts(c) for c in calls) - timedelta(hours=24)
    tasks = {c["task_id"] for c in calls if c.get("intent") == intent and (ts(c) >= cut) == latest}
    votes = Counter(e["event"] for e in feedback if e["task_id"] in tasks)
    return votes["thumbs_down"] / (votes["thumbs_down"] + votes["thumbs_up"])
