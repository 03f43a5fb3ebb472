"""Fixtures that make tests short: a real model server on 127.0.0.1, suites written to real
files, the `canary` command run in-process as a user runs it, and comparisons of every verdict."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from canary_eval.cli import app
from canary_eval.verdict.compare import Comparison
from validators import validate_reports

from factories import comparison
from model_server import ModelServer, serving

API_KEY = "sk-test-SECRET-0123456789"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture(autouse=True)
def own_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test starts with an empty cache (validate's limits), as on a fresh machine."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def canary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., CliResult]:
    """Run `canary ARGS...` in-process, in an isolated working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CANARY_TEST_KEY", API_KEY)
    monkeypatch.setenv("COLUMNS", "200")  # wide enough that tables are not cut
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)

    def invoke(*args: str) -> CliResult:
        argv = [str(a) for a in args]
        result = CliRunner().invoke(app, argv, prog_name="canary")
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        if result.exit_code in (0, 1, 3):
            validate_reports(argv)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    with serving(ModelServer()) as server:
        yield server


def make_cases(n: int, intents: tuple[str, ...] = ("faq", "billing")) -> list[dict[str, Any]]:
    """n cases whose correct answer is `answer-<i>`."""
    return [
        {
            "id": f"case-{i:03d}",
            "intent": intents[i % len(intents)],
            "input": f"question {i}",
            "reference": f"answer-{i}",
        }
        for i in range(n)
    ]


def right_answer(user: str) -> str:
    return "answer-" + user.split()[-1]


def wrong_below(n: int) -> Callable[[str], str]:
    """A model that gets the questions numbered below `n` wrong and the rest right."""
    return lambda user: "wrong" if int(user.split()[-1]) < n else right_answer(user)


@pytest.fixture
def write_suite(tmp_path: Path) -> Callable[..., Path]:
    """Write an eval set and a suite config pointing at `base_url`; returns the config path."""

    def write(
        base_url: str,
        cases: list[dict[str, Any]] | None = None,
        *,
        name: str = "suite.yaml",
        **overrides: Any,
    ) -> Path:
        (tmp_path / "evalset.yaml").write_text(
            yaml.safe_dump({"cases": cases if cases is not None else make_cases(60)})
        )
        config: dict[str, Any] = {
            "suite": "test-suite",
            "evalset": "evalset.yaml",
            "provider": {
                "type": "openai",
                "base_url": base_url,
                "model": "test-model",
                "api_key_env": "CANARY_TEST_KEY",
                "concurrency": 8,
                "timeout_s": 5,
                "max_retries": 1,
                "pricing": {"input_per_mtok": 1.0, "output_per_mtok": 2.0},
            },
            "prompt": {"system": "Answer briefly.", "template": "{{input}}"},
            "scorers": [{"type": "exact"}],
            "thresholds": {"max_relative_drop": 0.03, "alpha": 0.05},
        }
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key] = {**config[key], **value}
            else:
                config[key] = value
        path = tmp_path / name
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    return write


# Comparisons of every verdict, built once per test module.


@pytest.fixture(scope="module")
def regression() -> Comparison:
    return comparison("regression")


@pytest.fixture(scope="module")
def passing() -> Comparison:
    return comparison("pass")


@pytest.fixture(scope="module")
def suspect() -> Comparison:
    return comparison("suspect")


@pytest.fixture(scope="module")
def errored() -> Comparison:
    return comparison("error")
