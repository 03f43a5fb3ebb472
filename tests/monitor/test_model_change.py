"""A vendor model update seen in production: when, from what to what, every figure split at it,
and the canary started by it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from canary_eval.monitor import monitor_report_dict, run_monitor

from .conftest import END, generate, write_config, write_evalset, write_jsonl
from conftest import CliResult, right_answer
from model_server import ModelServer

SWITCH = END - timedelta(hours=12)
NEW_MODEL = "gpt-4o-mini-2024-09-12"


def _logs(directory: Path, *, switch: bool = True, **config: Any) -> Path:
    """Logs whose calls switch to NEW_MODEL at SWITCH; the config reading them."""
    directory.mkdir(parents=True, exist_ok=True)
    write_evalset(directory)
    calls, feedback = generate(calls_per_day=300, seed=7)
    for call in calls:
        if switch and datetime.fromisoformat(call["ts"]) >= SWITCH:
            call["model"] = NEW_MODEL
    (directory / "logs").mkdir(exist_ok=True)
    write_jsonl(directory / "logs" / "calls.jsonl", calls)
    write_jsonl(directory / "logs" / "feedback.jsonl", feedback)
    return write_config(directory, **config)


def test_a_model_change_is_dated_and_every_figure_split_at_it(tmp_path: Path) -> None:
    result = run_monitor(_logs(tmp_path))
    change = result.model_change
    assert change is not None
    assert (change.before, change.after) == ("gpt-4o-mini-2024-07-18", NEW_MODEL)
    calls = (tmp_path / "logs" / "calls.jsonl").read_text().splitlines()
    first_new = min(
        datetime.fromisoformat(c["ts"]) for c in map(json.loads, calls) if c["model"] == NEW_MODEL
    )
    assert change.at == first_new.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    overall = change.segments[0]
    windows = result.overall
    assert overall.intent is None
    assert (
        overall.ops_reference.calls + overall.ops_current.calls
        == windows.ops_reference.calls + windows.ops_current.calls
    )
    assert 0 < overall.ops_current.calls < windows.ops_current.calls  # half of the last day
    assert {s.intent for s in change.segments[1:]} == {i.intent for i in result.intents}
    report = monitor_report_dict(result)["model_change"]
    assert report["from"] == "gpt-4o-mini-2024-07-18"
    assert report["to"] == NEW_MODEL
    assert report["overall"]["ops"]["after"]["calls"] == overall.ops_current.calls
    assert report["canary"] is None


def test_one_model_throughout_is_no_change(tmp_path: Path) -> None:
    result = run_monitor(_logs(tmp_path, switch=False))
    assert result.model_change is None
    assert monitor_report_dict(result)["model_change"] is None


@pytest.mark.slow
def test_a_model_change_starts_the_canary_it_names(
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
    tmp_path: Path,
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url, name="suite.yaml")
    assert canary("baseline", suite).exit_code == 0
    config = _logs(tmp_path / "monitoring", on_model_change={"run": str(suite)}, thresholds={})

    result = canary("monitor", config, "--json", "monitor.json")

    assert result.exit_code == 0, result.output
    ran = json.loads(Path("monitor.json").read_text())["model_change"]["canary"]
    assert ran["suite"] == str(suite)
    assert (ran["exit_code"], ran["verdict"]) == (0, "pass")
    assert "Model changed at" in result.output
