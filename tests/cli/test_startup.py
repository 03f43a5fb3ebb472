"""Start-up stays fast: `canary --help`, `--version` and `validate` import none of the heavy
libraries, and a run imports the statistics only once its calls are under way. Measured the way
`python -X importtime` reports it, in a fresh interpreter as a user starts the command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from imports import command_imports

from conftest import API_KEY, CliResult, right_answer
from model_server import ModelServer

HEAVY = ("numpy", "sklearn", "scipy", "httpx", "jsonschema", "rich", "duckdb", "pyspark")
BUNDLED_SUITE = Path(__file__).parents[2] / "configs" / "support-bot.yaml"


def imported(*argv: str, cwd: Path | None = None, exit_code: int = 0) -> set[str]:
    """Top-level packages a fresh `python -m canary_eval ARGV` imports."""
    keys = {"SUPPORT_BOT_API_KEY": "sk-startup", "CANARY_TEST_KEY": API_KEY}  # validate checks
    modules = command_imports(*argv, cwd=cwd, env=keys, exit_code=exit_code)
    return {module.split(".")[0] for module in modules}


@pytest.fixture
def plain_suite(tmp_path: Path) -> Path:
    """A suite without tools or JSON Schema scorers, as most are."""
    cases = [{"id": f"c{i}", "input": f"question {i}", "reference": "answer"} for i in range(50)]
    (tmp_path / "evalset.yaml").write_text(yaml.safe_dump({"cases": cases}))
    suite = {
        "suite": "plain",
        "evalset": "evalset.yaml",
        "provider": {"type": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"}
        | {"api_key_env": "SUPPORT_BOT_API_KEY"},
        "scorers": [{"type": "token_f1"}, {"type": "contains", "weight": 0.5}],
    }
    (tmp_path / "plain.yaml").write_text(yaml.safe_dump(suite))
    return tmp_path / "plain.yaml"


@pytest.mark.parametrize("argv", [("--help",), ("--version",), ("run", "--help")])
def test_help_and_version_import_no_heavy_library(argv: tuple[str, ...]) -> None:
    assert imported(*argv) & set(HEAVY) == set()


def test_validate_imports_numpy_only_to_compute_limits_it_has_not_stored(plain_suite: Path) -> None:
    # A valid config and eval set pass the compiled schema checks, without jsonschema; numpy
    # simulates the calibrated alarm to state each series' detectable drop, once for its inputs.
    assert imported("validate", str(plain_suite)) & set(HEAVY) == {"numpy"}
    assert imported("validate", str(plain_suite)) & set(HEAVY) == set()
    changed = ("validate", str(plain_suite), "--set", "thresholds.per_intent.min_cases=40")
    assert imported(*changed) & set(HEAVY) == {"numpy"}


def test_validate_imports_jsonschema_only_for_unusual_tool_schemas_and_to_explain_problems(
    plain_suite: Path, tmp_path: Path
) -> None:
    # the bundled tools' schemas are of the usual kind: checked without jsonschema
    assert imported("validate", str(BUNDLED_SUITE)) & set(HEAVY) == {"numpy"}
    suite = yaml.safe_load(BUNDLED_SUITE.read_text())
    suite["evalset"] = str(BUNDLED_SUITE.parents[1] / "evalsets" / "support-bot.yaml")
    suite["prompt"]["tools"][0]["function"]["parameters"]["$comment"] = "unusual"
    (tmp_path / "unusual.yaml").write_text(yaml.safe_dump(suite))
    assert imported("validate", str(tmp_path / "unusual.yaml")) & set(HEAVY) == {"jsonschema"}
    bad = ("validate", str(plain_suite), "--set", "provider.concurrency=-1")
    assert imported(*bad, exit_code=2) & set(HEAVY) == {"jsonschema"}


def test_what_a_run_loads_before_its_first_call_holds_no_statistics_or_query_engine() -> None:
    code = "import canary_eval.pipeline, canary_eval.cli.checks, sys; print(*sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in done.stdout.split()}
    assert loaded & {"numpy", "sklearn", "scipy", "duckdb", "pyspark"} == set()


# Runs `canary ARGV` and prints what the main thread imported before the first connection.
FIRST_CONNECT = """
import runpy, sys, threading
imported, connected = [], []

def watch(event, args):
    if event == "socket.connect":
        connected.append(True)
    elif event == "import" and not connected:
        if threading.current_thread() is threading.main_thread():
            imported.append(args[0])

sys.addaudithook(watch)
sys.argv = ["canary", *sys.argv[1:]]
try:
    runpy.run_module("canary_eval", run_name="__main__")
except SystemExit:
    pass
print(*imported)
"""


def test_a_quiet_run_sends_its_first_request_before_the_verdict_reports_and_history_load(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    assert canary("baseline", str(suite), "--quiet").exit_code == 0
    done = subprocess.run(
        [sys.executable, "-c", FIRST_CONNECT, "run", str(suite), "--quiet"],
        cwd=suite.parent,
        env={**os.environ, "CANARY_TEST_KEY": API_KEY},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "PASS" in done.stdout, done.stderr[-2000:]
    before = set(done.stdout.splitlines()[-1].split())
    assert "httpx" in before  # the hook saw the imports that send the request
    late = {"numpy", "jsonschema", "rich", "pygments", "sqlite3", "canary_eval.verdict.compare"}
    late |= {"canary_eval.store.history", "canary_eval.reports.json", "canary_eval.publish"}
    assert before & late == set()


def test_a_quiet_run_against_a_history_reference_imports_neither_scipy_nor_rich(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    # The steady state of an hourly canary: each series standardised against its healthy runs
    # (Student's t without scipy), the verdict printed in one line without rich's tables.
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    history = ("--set", "alerting.min_reference_runs=2")
    assert canary("baseline", str(suite), "--quiet").exit_code == 0
    for _ in range(2):
        assert canary("run", str(suite), "--quiet", *history).exit_code == 0
    loaded = imported("run", str(suite), "--quiet", *history, cwd=suite.parent)
    assert "numpy" in loaded  # the verdict's statistics ran
    assert loaded & {"scipy", "rich", "pygments"} == set()
