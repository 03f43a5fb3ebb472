"""The shipped suite and the demo, against the bundled simulator on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from canary_eval.demo import prepare
from canary_eval.simulator import RunningSimulator, SimulatorConfig, serve
from validators import check_junit, check_metrics, check_report

from conftest import CliResult


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with serve(SimulatorConfig(version="stable", latency_scale=0.01)) as sim:
        yield sim


@pytest.fixture
def support_bot(
    tmp_path: Path, simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("CANARY_BASE_URL", simulator.base_url)
    monkeypatch.setenv("SUPPORT_BOT_API_KEY", "sk-test")
    return prepare(tmp_path)


def test_the_shipped_suite_validates(
    canary: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = Path(__file__).parents[1] / "configs" / "support-bot.yaml"
    monkeypatch.delenv("SUPPORT_BOT_API_KEY", raising=False)
    unset = canary("validate", suite)
    assert unset.exit_code == 2
    assert "provider.api_key_env: environment variable SUPPORT_BOT_API_KEY is not set" in (
        unset.stderr
    )
    monkeypatch.setenv("SUPPORT_BOT_API_KEY", "sk-anything")
    result = canary("validate", suite)
    assert result.exit_code == 0, result.output
    assert "194 cases, 7 intents" in result.stdout


def test_stable_passes_and_the_silent_update_is_caught(
    canary: Callable[..., CliResult], simulator: RunningSimulator, support_bot: Path
) -> None:
    assert canary("baseline", support_bot, "--quiet").exit_code == 0
    assert canary("run", support_bot, "--quiet").exit_code == 0

    simulator.set_version("drifted")
    result = canary("run", support_bot, "--json", "drifted.json", "--quiet")

    assert result.exit_code == 1, result.output
    report = json.loads(Path("drifted.json").read_text())
    regressed = [row["intent"] for row in report["intents"] if row["regressed"]]
    assert regressed == ["actions", "disputes"]
    behaviour = {a["metric"]: a["message"] for a in report["alerts"] if a["layer"] == "behaviour"}
    assert {"output_length", "hedging_rate", "wrong_tool_rate"} <= set(behaviour)
    assert behaviour["wrong_tool_rate"].startswith("wrong-tool calls")
    assert report["model_changed"] is True
    assert report["ops"]["error_rate"] == 0


def test_the_demo_tells_the_whole_story(canary: Callable[..., CliResult], tmp_path: Path) -> None:
    result = canary("demo", "--output", tmp_path / "demo", "--latency-scale", "0.01")

    assert result.exit_code == 0, result.output
    assert "REGRESSION" in result.stdout
    assert "disputes" in result.stdout
    assert "tool cases called the wrong tool" in result.stdout
    assert "would have exited 1" in result.stdout
    reports = {p.name for p in (tmp_path / "demo" / "reports").iterdir()}
    assert {"canary.json", "canary.html", "canary.md", "canary.xml", "monitor.json"} <= reports
    written = tmp_path / "demo" / "reports"
    check_report(json.loads((written / "canary.json").read_text()), "run-report")
    check_report(json.loads((written / "monitor.json").read_text()), "monitor-report")
    check_metrics((written / "canary.prom").read_text(), required=False)
    check_junit(written / "canary.xml", required=False)
