"""Start-up stays fast: `canary --help`, `--version` and `validate` import none of the heavy
libraries, and a run imports the statistics only once its calls are under way. Measured the way
`python -X importtime` reports it, in a fresh interpreter as a user starts the command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("numpy", "sklearn", "scipy", "httpx", "jsonschema", "rich", "duckdb", "pyspark")
BUNDLED_SUITE = Path(__file__).parents[2] / "configs" / "support-bot.yaml"


def imported(*argv: str) -> set[str]:
    """Top-level packages a fresh `python -m canary_eval ARGV` imports."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "canary_eval", *argv],
        env={**os.environ, "SUPPORT_BOT_API_KEY": "sk-startup"},  # validate checks it is set
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines}


@pytest.mark.parametrize("argv", [("--help",), ("--version",), ("run", "--help")])
def test_help_and_version_import_no_heavy_library(argv: tuple[str, ...]) -> None:
    assert imported(*argv) & set(HEAVY) == set()


def test_validate_imports_only_the_schema_validator_and_numpy_it_needs() -> None:
    # numpy simulates the calibrated alarm to state each series' detectable drop
    assert imported("validate", str(BUNDLED_SUITE)) & set(HEAVY) == {"jsonschema", "numpy"}


def test_what_a_run_loads_before_its_first_call_holds_no_statistics_or_query_engine() -> None:
    code = "import canary_eval.pipeline, canary_eval.cli.checks, sys; print(*sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in done.stdout.split()}
    assert loaded & {"numpy", "sklearn", "scipy", "duckdb", "pyspark"} == set()
