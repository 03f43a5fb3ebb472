"""The paging policy: quality pages, behaviour and ops warn, a model change informs; the config
overrides any gate, and `validate` prints what is in force."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from canary_eval.suite.config import Alerting, Thresholds
from canary_eval.verdict.policy import GATE_NAMES, Policy

from conftest import CliResult, make_cases, right_answer
from model_server import ModelServer


def test_quality_pages_behaviour_and_ops_warn_a_model_change_informs_by_default() -> None:
    policy = Policy(Thresholds(), Alerting())

    assert policy.severity("max_relative_drop") == policy.severity("per_intent") == "page"
    assert policy.severity("max_hedging_rate_increase") == "warn"
    assert policy.severity("max_p95_latency_increase") == "warn"
    assert policy.severity("model_change") == "info"


def test_fail_on_model_change_pages_unless_the_policy_says_otherwise() -> None:
    strict = Thresholds(fail_on_model_change=True)

    assert Policy(strict, Alerting()).severity("model_change") == "page"
    assert (
        Policy(strict, Alerting(severity={"model_change": "warn"})).severity("model_change")
        == "warn"
    )


def test_validate_prints_every_gate_with_its_setting_and_severity(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path]
) -> None:
    suite = write_suite(
        "http://127.0.0.1:9/v1",
        thresholds={"max_p95_latency_increase": 0.5, "max_hedging_rate_increase": None},
        alerting={"severity": {"max_p95_latency_increase": "page", "per_intent": "warn"}},
    )

    result = canary("validate", suite)

    assert result.exit_code == 0, result.output
    gates = result.stdout.split("smallest drop paged")[0].splitlines()[2:]
    lines = {line.split()[1]: line.split() for line in gates}
    assert set(lines) == set(GATE_NAMES)
    assert lines["max_p95_latency_increase"][:3] == ["page", "max_p95_latency_increase", "0.5"]
    assert lines["per_intent"][0] == "warn"
    assert lines["max_hedging_rate_increase"][:3] == ["warn", "max_hedging_rate_increase", "off"]


def test_an_unknown_gate_or_severity_is_a_one_line_config_error(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path]
) -> None:
    unknown = write_suite("http://127.0.0.1:9/v1", alerting={"severity": {"max_p99": "page"}})
    result = canary("validate", unknown)
    assert result.exit_code == 2
    assert "suite.yaml:" in result.stderr
    assert "alerting.severity.max_p99: unknown key" in result.stderr

    wrong = write_suite("http://127.0.0.1:9/v1", alerting={"severity": {"per_intent": "critical"}})
    result = canary("validate", wrong)
    assert result.exit_code == 2
    assert "alerting.severity.per_intent: must be one of page, warn, info" in result.stderr


def test_an_intent_too_small_to_page_is_named_in_validate_and_the_report(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    cases = make_cases(60)
    for case in cases[:4]:
        case["intent"] = "refunds"
    suite = write_suite(model_server.base_url, cases)
    expected = (
        "intent 'refunds' has 4 case(s), below per_intent.min_cases 10: it can never page; "
        "it needs 6 more case(s)"
    )

    before = canary("validate", suite).stdout
    # before any run the noise is assumed (5 % flips), which asks for more cases than the
    # deterministic model's run below does
    needed = re.search(
        r"note: intent 'refunds' has 4 case\(s\), below per_intent.min_cases 10: it can never "
        r"page; it needs (\d+) more case\(s\)",
        before,
    )
    assert needed
    assert int(needed[1]) >= 6
    assert "smallest drop paged within 6 runs with 80 % probability (no baseline yet: " in before
    assert re.search(r"\n  refunds +4 cases  never\n", before)
    canary("baseline", suite)
    after = canary("validate", suite).stdout
    assert "(from the baseline's scores, assuming 5 % of answers flip between runs)" in after
    terminal = canary("run", suite, "--json", "report.json").stdout
    assert "pages from" in terminal
    assert re.search(r"refunds +│ +4 │.*│ +never │", terminal)
    report = json.loads(Path("report.json").read_text())
    assert expected in report["notes"]
    refunds = next(row for row in report["intents"] if row["intent"] == "refunds")
    assert refunds["min_detectable_drop"] is None
    assert refunds["pages_reliably"] is False
    assert refunds["cases_needed"] == 10
