"""`canary monitor` as a user runs it, over logs the simulator writes for the bundled bot."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from canary_eval.demo import prepare
from canary_eval.simulator import write_production_logs

from conftest import CliResult


@pytest.fixture
def bundled(tmp_path: Path) -> Path:
    prepare(tmp_path)
    return tmp_path / "configs" / "support-bot-monitor.yaml"


@pytest.mark.parametrize(("drift", "exit_code"), [(False, 0), (True, 1)])
def test_monitor_exits_with_the_verdict(
    canary: Callable[..., CliResult], bundled: Path, drift: bool, exit_code: int
) -> None:
    write_production_logs(bundled.parent.parent / "logs", drift=drift, seed=3)

    result = canary("monitor", bundled, "--json", "monitor.json", "--html", "monitor.html")

    assert result.exit_code == exit_code, result.output
    report = json.loads(Path("monitor.json").read_text())
    layers = {a["layer"] for a in report["alerts"] if a["failing"]}
    assert layers == ({"ops", "signals", "drift"} if drift else set())
    assert "<script" not in Path("monitor.html").read_text().lower()


def test_monitor_without_logs_is_an_input_error(
    canary: Callable[..., CliResult], bundled: Path
) -> None:
    result = canary("monitor", bundled)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert "calls" in result.stderr
