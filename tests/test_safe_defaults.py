"""Safe defaults: a suite that says nothing about thresholds (an eval set, a provider, one
scorer) catches the silent drift of a vendor update, run by the CLI against the bundled
simulator on 127.0.0.1, and stays quiet on the model its baseline recorded."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from canary_eval.simulator import RunningSimulator, SimulatorConfig, serve

from conftest import CliResult

EVALSET = Path(__file__).parents[1] / "evalsets" / "support-bot.yaml"
QUICK = {"latency_scale": 0.01}  # a few ms a call
# The served model gets slow on a tenth of its calls: median 40 ms, p95 about 550 ms.
SLOW_TAIL = {"latency_scale": 1.0, "latency_ms": 40.0, "latency_sigma": 1.6}


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    # 3 % of answers flip between right and wrong on every request, as a real model's do.
    with serve(SimulatorConfig(version="stable", noise=0.03).replace(**QUICK)) as sim:
        yield sim


@pytest.fixture
def minimal(tmp_path: Path, simulator: RunningSimulator) -> Path:
    config = {
        "suite": "minimal",
        "evalset": str(EVALSET),
        "provider": {
            "type": "openai",
            "base_url": simulator.base_url,
            "model": "ledger-chat",
            "api_key_env": "CANARY_TEST_KEY",
            "concurrency": 16,
            "pricing": {"input_per_mtok": 0.15, "output_per_mtok": 0.60},
        },
        "scorers": [{"type": "token_f1"}],
    }
    path = tmp_path / "minimal.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def alerts(canary: Callable[..., CliResult], suite: Path, name: str) -> dict[str, Any]:
    result = canary("run", suite, "--json", f"{name}.json", "--quiet")
    assert result.exit_code in (0, 1), result.output
    report = json.loads(Path(f"{name}.json").read_text())
    return {a["gate"]: a for a in report["alerts"]}


def test_a_minimal_config_catches_the_drift_scenarios_with_their_default_severities(
    canary: Callable[..., CliResult], simulator: RunningSimulator, minimal: Path
) -> None:
    assert canary("baseline", minimal, "--quiet").exit_code == 0

    # The silent update, which also refuses more answerable questions and stopped answering
    # JSON cases with the JSON only, on a slower backend.
    simulator.reconfigure(
        version="drifted", over_refusal_rate=0.15, prose_json_rate=1.0, **SLOW_TAIL
    )
    drifted = alerts(canary, minimal, "drifted")
    for gate in (
        "max_refusal_rate_increase",
        "max_hedging_rate_increase",
        "max_format_failure_increase",
        "max_p95_latency_increase",
    ):
        assert gate in drifted, sorted(drifted)
        assert drifted[gate]["severity"] == "warn"
        assert drifted[gate]["failing"] is False

    # Three times the words for the same answers: the cost blow-up.
    simulator.reconfigure(version="verbose", over_refusal_rate=0.0, prose_json_rate=0.0, **QUICK)
    verbose = alerts(canary, minimal, "verbose")
    for gate in ("max_length_increase", "max_cost_per_case_increase"):
        assert gate in verbose, sorted(verbose)
        assert verbose[gate]["severity"] == "warn"


def test_the_same_minimal_config_stays_quiet_on_the_recorded_model(
    canary: Callable[..., CliResult], simulator: RunningSimulator, minimal: Path
) -> None:
    assert canary("baseline", minimal, "--quiet").exit_code == 0

    result = canary("run", minimal, "--json", "stable.json", "--quiet")

    assert result.exit_code == 0, result.output
    report = json.loads(Path("stable.json").read_text())
    assert report["alerts"] == []
    assert report["verdict"] == "pass"
