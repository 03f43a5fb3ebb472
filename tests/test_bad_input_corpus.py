"""The bad-input corpus (tests/bad_inputs/, data files): every broken config, eval set, baseline,
log and argument ends with the documented exit code and one line naming the file and its line
or key; never a traceback, never exit 1 or 4, never a model call, nothing half-written."""

from __future__ import annotations

import json
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import CliResult

CORPUS = Path(__file__).parent / "bad_inputs"
EXPECTED: list[dict[str, str]] = json.loads((CORPUS / "expected.json").read_text())
ARGUMENTS = [
    line.split("\t") for line in (CORPUS / "arguments.txt").read_text().splitlines() if line
]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A copy of the corpus in the working directory, so nothing can write into the repo."""
    shutil.copytree(CORPUS, tmp_path / "corpus")
    return tmp_path / "corpus"


def command_for(entry: dict[str, str], corpus: Path) -> list[str]:
    suite = str(corpus / "good" / "suite.yaml")
    target = str(corpus / entry["file"])
    if entry["kind"] == "config":
        return ["validate", target]
    if entry["kind"] == "evalset":
        return ["validate", suite, "--set", f"evalset=../{entry['file']}"]
    if entry["kind"] == "baseline":
        return ["run", suite, "--baseline", target, "--json", "report.json"]
    logs = corpus / "calls"
    logs.mkdir()
    shutil.copy(corpus / "logs" / "_good.jsonl", logs / "calls-0.jsonl")
    shutil.copy(target, logs / f"calls-1{''.join(Path(target).suffixes)}")
    config = corpus / "monitor.yaml"
    settings = "max_malformed_share: 0.05\nwindow: 15m\nreference: 15m\n"
    config.write_text(f"name: corpus\ncalls: {logs}/calls-*\n{settings}")
    return ["monitor", str(config), "--json", "report.json"]


def assert_one_line(result: CliResult, *fragments: str) -> None:
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") or lines[0].startswith("Error: "), lines[0]
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def files_in(directory: Path) -> set[Path]:
    return {p for p in directory.rglob("*") if p.is_file()}


@pytest.mark.parametrize("entry", EXPECTED, ids=[e["file"] for e in EXPECTED])
def test_a_bad_input_file_is_one_line_and_exit_2(
    entry: dict[str, str], corpus: Path, canary: Callable[..., CliResult], tmp_path: Path
) -> None:
    before = files_in(tmp_path)

    result = canary(*command_for(entry, corpus))

    if entry["kind"] == "log" and not entry["fragment"]:
        # A bad record among good ones is counted, never a crash and never the whole pass.
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        return
    assert result.exit_code == 2, result.output
    assert_one_line(result, entry["fragment"])
    if entry["kind"] == "log":
        return  # the copy the monitor read is named, under calls/
    named = entry["fragment"].split(": ")[0] if ".yaml: " in entry["fragment"] else entry["file"]
    assert Path(named).name in result.stderr
    assert files_in(tmp_path) == before  # no report, no history, no stray .tmp
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(("line", "fragment"), ARGUMENTS, ids=[a[0] for a in ARGUMENTS])
def test_a_bad_argument_is_one_line_and_exit_2(
    line: str, fragment: str, corpus: Path, canary: Callable[..., CliResult]
) -> None:
    args: list[Any] = shlex.split(line.format(suite=corpus / "good" / "suite.yaml"))

    result = canary(*args)

    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert fragment in result.stderr, result.stderr
