"""Eval sets are data: a case naming `module:function` as its scorer is refused before anything
is imported, by `validate` and by `run` alike; code runs only from a suite config that opts in."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import CliResult, make_cases
from model_server import ModelServer

# A module that leaves a mark when imported, on the import path: if anything imported it, we see.
MARKER_MODULE = """
from pathlib import Path
Path("imported").touch()

def factory():
    return lambda item: None
"""

SYSTEM = {"type": "os:system", "command": "touch pwned"}
MODULE = {"type": "marker_module:factory"}


@pytest.fixture
def importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "marker_module.py").write_text(MARKER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("marker_module", None)


def write_evalset(path: Path, cases: list[dict[str, Any]]) -> None:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(c) + "\n" for c in cases))
    elif path.suffix == ".csv":
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, ["id", "input", "reference", "scorers"])
            writer.writeheader()
            for c in cases:
                writer.writerow({**c, "scorers": json.dumps(c.get("scorers", []))})
    else:
        path.write_text(yaml.safe_dump({"cases": cases}))


@pytest.mark.parametrize("scorer", [SYSTEM, MODULE], ids=["os:system", "module"])
@pytest.mark.parametrize("fmt", ["yaml", "jsonl", "csv"])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_case_level_code_scorer_is_refused_without_being_imported(
    command: str,
    fmt: str,
    scorer: dict[str, str],
    importable: Path,
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
) -> None:
    cases = [{k: v for k, v in c.items() if k != "intent"} for c in make_cases(4)]
    cases[2]["scorers"] = [scorer]
    evalset = importable / f"cases.{fmt}"
    write_evalset(evalset, cases)
    # Opting in is the suite's business: it never extends to the eval set's cases.
    suite = write_suite(model_server.base_url, evalset=evalset.name, allow_custom_scorers=True)

    result = canary(command, suite)

    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {evalset}:")
    assert f": cases[2].scorers[0].type: custom scorer '{scorer['type']}' refused" in line
    assert not (importable / "imported").exists()
    assert not (importable / "pwned").exists()
    assert model_server.requests == []


def test_a_config_level_module_scorer_needs_the_opt_in(
    importable: Path,
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
) -> None:
    suite = write_suite(model_server.base_url, scorers=[{"type": "exact"}, MODULE])

    refused = canary("validate", suite)

    assert refused.exit_code == 2
    assert "scorers[1].type: custom scorer 'marker_module:factory' refused" in refused.stderr
    assert "allow_custom_scorers: true" in refused.stderr
    assert not (importable / "imported").exists()


def test_validate_says_which_code_an_opted_in_config_imports(
    importable: Path,
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
) -> None:
    suite = write_suite(model_server.base_url, scorers=[MODULE], allow_custom_scorers=True)

    result = canary("validate", suite)

    assert result.exit_code == 0, result.output
    assert "custom scorers imported (allow_custom_scorers: true): marker_module:factory" in (
        result.stdout
    )
    assert (importable / "imported").exists()
