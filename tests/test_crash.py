"""Exit codes as a promise: a bug in canary exits 4 with one line, never 1 (which only a gate
decides) and never a traceback unless `--debug` asks for it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import CliResult, right_answer
from model_server import ModelServer


def crash(*args: Any, **kwargs: Any) -> Any:
    raise ZeroDivisionError("float division by zero")


@pytest.fixture
def crashing_run(
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., CliResult]:
    """`canary run` on a healthy suite whose evaluation hits a bug."""
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    assert canary("baseline", suite, "--quiet").exit_code == 0
    monkeypatch.setattr("canary_eval.pipeline.evaluate", crash)
    return lambda *extra: canary(*extra, "run", suite)


def test_a_crash_inside_a_command_exits_4_with_one_line(
    crashing_run: Callable[..., CliResult],
) -> None:
    result = crashing_run()

    assert result.exit_code == 4
    assert "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        "error: internal error: ZeroDivisionError: float division by zero "
        "(a bug in canary; rerun with --debug for the traceback)"
    ]


def test_debug_adds_the_traceback_and_keeps_exit_4(
    crashing_run: Callable[..., CliResult],
) -> None:
    result = crashing_run("--debug")

    assert result.exit_code == 4
    assert "Traceback" in result.stderr
    assert "in crash" in result.stderr
