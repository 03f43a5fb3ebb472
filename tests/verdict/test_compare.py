"""Gates and verdicts against a real server: page on real regressions, never on noise."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import CliResult, right_answer, wrong_below
from model_server import ModelServer

INTENTS = ("faq", "billing", "account", "technical")


def cases_with_disputes() -> list[dict[str, object]]:
    """185 cases over four intents plus a 15-case disputes intent."""
    cases: list[dict[str, object]] = [
        {
            "id": f"case-{i:03d}",
            "intent": INTENTS[i % 4],
            "input": f"question {i}",
            "reference": f"answer-{i}",
        }
        for i in range(185)
    ]
    cases += [
        {
            "id": f"dispute-{i:02d}",
            "intent": "disputes",
            "input": f"dispute {1000 + i}",
            "reference": f"answer-{1000 + i}",
        }
        for i in range(15)
    ]
    return cases


def report(result: CliResult) -> dict:  # type: ignore[type-arg]
    assert result.exit_code in (0, 1), result.output
    return json.loads(Path("report.json").read_text())  # type: ignore[no-any-return]


def test_a_regression_in_one_intent_is_caught_while_the_average_hides_it(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(
        model_server.base_url,
        cases_with_disputes(),
        thresholds={
            "max_relative_drop": 0.05,
            "per_intent": {"max_relative_drop": 0.10, "min_cases": 10},
        },
    )
    canary("baseline", suite)
    broken = {f"dispute {1000 + i}" for i in range(8)}
    model_server.answer = lambda user: "I cannot help" if user in broken else right_answer(user)

    result = canary("run", suite, "--json", "report.json")
    data = report(result)

    assert result.exit_code == 1
    assert data["quality"]["relative_drop"] < 0.05
    regressed = [row["intent"] for row in data["intents"] if row["regressed"]]
    assert regressed == ["disputes"]
    assert [a["intent"] for a in data["alerts"] if a["failing"]] == ["disputes"]


def _hedging(user: str) -> str:
    return f"It may be {right_answer(user)}, though this might vary and could change later."


def test_longer_hedged_answers_with_the_same_correctness_warn_without_paging(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(
        model_server.base_url,
        scorers=[{"type": "contains"}],
        thresholds={"max_length_increase": 0.25, "max_hedging_rate_increase": 0.10},
    )
    canary("baseline", suite)
    model_server.answer = _hedging

    result = canary("run", suite, "--json", "report.json")
    data = report(result)

    assert (result.exit_code, data["verdict"], data["severity"]) == (0, "pass", "warn")
    assert data["quality"]["relative_drop"] == 0
    behaviour = [a for a in data["alerts"] if a["layer"] == "behaviour"]
    assert {(a["metric"], a["gate"], a["severity"], a["failing"]) for a in behaviour} == {
        ("output_length", "max_length_increase", "warn", False),
        ("hedging_rate", "max_hedging_rate_increase", "warn", False),
    }


def test_a_gate_configured_to_page_decides_exit_1(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(
        model_server.base_url,
        scorers=[{"type": "contains"}],
        thresholds={"max_length_increase": 0.25, "max_hedging_rate_increase": 0.10},
        alerting={"severity": {"max_hedging_rate_increase": "page"}},
    )
    canary("baseline", suite)
    model_server.answer = _hedging

    result = canary("run", suite, "--json", "report.json")
    data = report(result)

    assert (result.exit_code, data["verdict"], data["severity"]) == (1, "regression", "page")
    assert [a["metric"] for a in data["alerts"] if a["failing"]] == ["hedging_rate"]


def test_a_changed_served_model_is_flagged_but_passes(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite)
    model_server.fingerprint = "fp_new_weights"

    result = canary("run", suite, "--json", "report.json")
    data = report(result)

    assert result.exit_code == 0
    assert data["model_changed"] is True
    assert data["model_versions"] == {"test-model (fp_new_weights)": 60}
    assert [(a["layer"], a["severity"], a["failing"]) for a in data["alerts"]] == [
        ("model", "info", False)
    ]


def test_the_changed_model_fails_when_configured_to(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url, thresholds={"fail_on_model_change": True})
    canary("baseline", suite)
    model_server.model = "test-model-2"
    assert canary("run", suite, "--quiet").exit_code == 1


def test_no_alarm_across_repeated_runs_with_two_percent_noise(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    rng = random.Random(7)
    model_server.answer = lambda user: "noise" if rng.random() < 0.02 else right_answer(user)
    suite = write_suite(
        model_server.base_url,
        cases_with_disputes(),
        thresholds={"per_intent": {"max_relative_drop": 0.10, "min_cases": 10}},
    )
    canary("baseline", suite)

    verdicts = [canary("run", suite, "--quiet").exit_code for _ in range(5)]

    assert verdicts == [0] * 5


def test_compare_two_saved_runs_without_a_model(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite, "--baseline", "before.json")
    model_server.answer = wrong_below(12)
    canary("run", suite, "--baseline", "before.json", "--save-run", "after.json", "--quiet")
    requests = len(model_server.requests)

    result = canary(
        "compare", "after.json", "before.json", "--config", suite, "--json", "report.json"
    )

    assert result.exit_code == 1
    assert report(result)["quality"]["relative_drop"] > 0.19
    assert len(model_server.requests) == requests


def test_rescore_applies_the_current_scorers_to_a_saved_run(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = lambda user: f"The answer is {right_answer(user)}."
    suite = write_suite(model_server.base_url, scorers=[{"type": "exact"}])
    canary("baseline", suite, "--baseline", "before.json")
    canary("run", suite, "--baseline", "before.json", "--save-run", "after.json", "--quiet")
    requests = len(model_server.requests)
    write_suite(model_server.base_url, scorers=[{"type": "contains"}])

    result = canary(
        "rescore", "after.json", suite, "--baseline", "before.json", "--json", "report.json"
    )

    data = report(result)
    assert data["quality"]["score"] == data["quality"]["baseline_score"] == 1.0
    assert {s["scorer"] for case in data["cases"] for s in case["scores"]} == {"contains"}
    assert len(model_server.requests) == requests


def test_a_page_is_confirmed_on_whole_re_runs_and_a_one_off_slip_does_not_page(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url, thresholds={"confirm_repeats": 2})
    canary("baseline", suite)
    assert canary("run", suite, "--quiet").exit_code == 0  # an hourly run: the history's spread
    flaky_once = {"question 1", "question 2", "question 3"}
    seen: set[str] = set()

    def answer(user: str) -> str:
        if user in flaky_once and user not in seen:
            seen.add(user)
            return "a one-off slip"
        return right_answer(user)

    model_server.answer = answer
    before = len(model_server.requests)

    data = report(canary("run", suite, "--json", "report.json"))

    assert data["verdict"] == "pass"
    assert any("every case re-run 2 more time(s)" in note for note in data["notes"])
    assert len(model_server.requests) - before == 60 * 3
    samples = {c["id"]: c["samples"] for c in data["cases"]}
    assert samples["case-001"] == [0.0, 1.0, 1.0]
    assert samples["case-004"] == [1.0, 1.0, 1.0]  # pooled like every other case


def test_confirmation_pools_every_case_alike_so_a_real_drop_keeps_its_size(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url, thresholds={"confirm_repeats": 2})
    canary("baseline", suite)
    canary("run", suite, "--quiet")
    model_server.answer = lambda u: "wrong" if int(u.split()[-1]) % 10 == 0 else right_answer(u)

    result = canary("run", suite, "--json", "report.json")
    data = report(result)

    assert (result.exit_code, data["verdict"]) == (1, "regression")
    assert data["quality"]["relative_drop"] == pytest.approx(0.10)
    assert any("verdict on the pooled evidence: regression" in n for n in data["notes"])


def test_a_drop_past_the_threshold_that_is_not_significant_is_reported_without_a_warning(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite)
    model_server.answer = lambda u: "slip" if u in {"question 1", "question 2"} else right_answer(u)

    data = report(canary("run", suite, "--json", "report.json"))

    # Past the 3 % limit, but one run's noise: the calibrated deficit is not building.
    assert data["quality"]["relative_drop"] > 0.03
    assert data["quality"]["p_value"] > 0.05
    assert (data["verdict"], data["exit_code"], data["alerts"]) == ("pass", 0, [])


def test_baseline_repeats_flag_flaky_cases(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    calls: dict[str, int] = {}

    def answer(user: str) -> str:
        calls[user] = calls.get(user, 0) + 1
        flips = user == "question 5" and calls[user] % 2 == 0
        return "flip" if flips else right_answer(user)

    model_server.answer = answer
    suite = write_suite(model_server.base_url, provider={"concurrency": 1})
    canary("baseline", suite, "--repeat", "2")

    data = report(canary("run", suite, "--json", "report.json"))

    assert data["flaky"] == ["case-005"]
