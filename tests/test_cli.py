"""The canary loop end to end, run as a user runs it, against a real server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from conftest import API_KEY, CliResult, right_answer
from model_server import Fault, ModelServer


def test_run_after_baseline_on_the_same_model_passes(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)

    assert canary("validate", suite).exit_code == 0
    assert canary("baseline", suite).exit_code == 0
    result = canary("run", suite, "--json", "report.json")

    assert result.exit_code == 0, result.output
    report = json.loads(Path("report.json").read_text())
    assert report["verdict"] == "pass"
    assert report["exit_code"] == 0
    assert report["quality"]["score"] == report["quality"]["baseline_score"] == 1.0
    assert len(report["cases"]) == 60


def test_ten_percent_more_wrong_answers_after_a_healthy_hour_is_a_regression(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite)
    assert canary("run", suite, "--quiet").exit_code == 0  # the history learns the spread

    model_server.answer = lambda user: (
        "no idea" if int(user.split()[-1]) % 10 == 0 else right_answer(user)
    )
    result = canary("run", suite, "--json", "report.json")

    assert result.exit_code == 1, result.output
    report = json.loads(Path("report.json").read_text())
    assert report["verdict"] == "regression"
    assert report["quality"]["relative_drop"] > 0.09
    assert report["quality"]["p_value"] < 0.05
    assert any(a["layer"] == "quality" for a in report["alerts"])


def test_an_outage_is_reported_as_could_not_evaluate_never_as_a_regression(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite)

    model_server.fault_for = lambda n, user: Fault(503) if int(user.split()[-1]) % 2 else None
    result = canary("run", suite, "--json", "report.json")

    assert result.exit_code == 3, result.output
    report = json.loads(Path("report.json").read_text())
    assert report["verdict"] == "error"
    assert report["ops"]["error_rate"] > 0.1
    # Past the budget (6 of 60 cases) the verdict cannot change: the calls still waiting for a
    # retry are not sent, and the whole run would have taken 30 + 30 x 2 calls.
    errors = report["ops"]["errors_by_kind"]
    assert errors["server_error"] >= 7
    assert errors["cancelled"] > 0
    assert len(model_server.statuses) - 60 < 90


def test_baseline_refuses_to_record_an_outage(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.fault_for = lambda n, user: Fault(503)
    suite = write_suite(model_server.base_url)

    result = canary("baseline", suite)

    assert result.exit_code == 3
    assert "no baseline written" in result.stderr
    assert not list(Path().glob(".canary/*.json"))


def test_quiet_prints_only_the_verdict_line(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite)

    result = canary("run", suite, "--quiet")

    assert result.exit_code == 0
    assert result.stdout.strip().splitlines() == [result.stdout.strip()]
    assert result.stdout.startswith("PASS")


def test_the_api_key_appears_nowhere(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    outputs = [canary("baseline", suite), canary("run", suite, "--json", "report.json")]

    assert model_server.requests[0]["headers"]["Authorization"] == f"Bearer {API_KEY}"
    for result in outputs:
        assert API_KEY not in result.output
    for path in [Path("report.json"), *Path(".canary").glob("*")]:
        assert API_KEY not in path.read_text(errors="replace")


def test_a_rejected_key_stops_the_run_and_names_the_variable(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.fault_for = lambda n, user: Fault(401)
    suite = write_suite(model_server.base_url)

    result = canary("baseline", suite)

    assert result.exit_code == 2
    assert "CANARY_TEST_KEY" in result.stderr
    assert len(model_server.requests) <= 8  # the calls already in flight, no retries
    assert API_KEY not in result.output
