"""Critical cases against a real server: a confirmed failure of a `critical: true` case pages by
itself whatever the statistics say; a single flip its re-runs do not confirm only warns."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import CliResult, make_cases, right_answer
from model_server import ModelServer

CRITICAL = "case-007"  # "question 7": say, refusing to reveal another customer's account


def critical_cases() -> list[dict[str, Any]]:
    cases = make_cases(60)
    cases[7]["critical"] = True
    return cases


def critical_alerts(result: CliResult) -> list[dict[str, Any]]:
    assert result.exit_code in (0, 1), result.output
    data = json.loads(Path("report.json").read_text())
    return [a for a in data["alerts"] if a["gate"] == "critical_case"]


def calls_during(server: ModelServer, run: Callable[[], CliResult]) -> tuple[CliResult, int]:
    before = len(server.requests)
    result = run()
    return result, len(server.requests) - before


@pytest.mark.parametrize(("severity", "exit_code"), [(None, 1), ("warn", 0)])
def test_a_critical_case_that_fails_on_its_re_runs_too_pages_alone(
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
    severity: str | None,
    exit_code: int,
) -> None:
    model_server.answer = right_answer
    alerting = {"severity": {"critical_case": severity}} if severity else {}
    suite = write_suite(model_server.base_url, critical_cases(), alerting=alerting)
    canary("baseline", suite)
    model_server.answer = lambda u: "their account: 42" if u == "question 7" else right_answer(u)

    result, calls = calls_during(
        model_server, lambda: canary("run", suite, "--json", "report.json")
    )

    assert result.exit_code == exit_code
    assert calls == 60 + 2  # the run, then two re-runs of the critical case alone
    [alert] = critical_alerts(result)
    assert alert["severity"] == (severity or "page")
    assert alert["layer"] == "quality"
    assert f"critical case '{CRITICAL}' fails where its baseline passed" in alert["message"]
    assert "3 of 3 call(s) failed" in alert["message"]
    assert CRITICAL in result.output


def test_a_critical_flip_the_re_runs_do_not_confirm_only_warns(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url, critical_cases())
    canary("baseline", suite)
    slipped: list[str] = []

    def answer(user: str) -> str:
        if user == "question 7" and not slipped:
            slipped.append(user)
            return "a one-off slip"
        return "wrong" if user == "question 8" else right_answer(user)  # not critical

    model_server.answer = answer

    result, calls = calls_during(
        model_server, lambda: canary("run", suite, "--json", "report.json")
    )

    assert result.exit_code == 0, result.output
    assert calls == 60 + 2  # only the critical case is re-run, never case-008
    [alert] = critical_alerts(result)
    assert alert["severity"] == "warn"
    assert "not confirmed by re-runs (1 of 3 call(s) failed)" in alert["message"]


def test_a_critical_case_that_keeps_passing_costs_no_extra_call(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url, critical_cases())
    canary("baseline", suite)

    result, calls = calls_during(
        model_server, lambda: canary("run", suite, "--json", "report.json")
    )

    assert (result.exit_code, calls, critical_alerts(result)) == (0, 60, [])


def test_validate_accepts_the_critical_flag_and_names_a_bad_one(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    suite = write_suite(model_server.base_url, critical_cases())
    assert canary("validate", suite).exit_code == 0

    cases = critical_cases()
    cases[7]["critical"] = "yes"
    suite = write_suite(model_server.base_url, cases)
    result = canary("validate", suite)

    assert result.exit_code == 2
    assert "cases[7].critical" in result.output
    assert "Traceback" not in result.output
