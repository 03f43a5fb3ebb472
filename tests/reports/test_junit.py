"""The JUnit report: one testcase per gate and per intent, one failure per breached gate."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from canary_eval.models import Alert
from canary_eval.reports.junit import junit_xml, write_junit
from canary_eval.verdict.compare import Comparison

from factories import THRESHOLDS


def parse(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    return root


def test_the_file_parses_and_counts_one_failure_per_failing_alert(
    regression: Comparison, tmp_path: Path
) -> None:
    path = tmp_path / "out" / "junit.xml"
    write_junit(regression, path, THRESHOLDS)
    root = parse(path)
    suite = root.find("testsuite")
    assert suite is not None
    failing = [a for a in regression.alerts if a.failing]
    assert len(failing) == 4
    assert len(root.findall(".//failure")) == len(failing)
    assert suite.get("failures") == root.get("failures") == str(len(failing))
    assert suite.get("tests") == str(len(suite.findall("testcase")))


def test_failures_carry_the_observed_and_allowed_values(regression: Comparison) -> None:
    root = ET.fromstring(junit_xml(regression, THRESHOLDS))
    cases = {c.get("name"): c for c in root.iter("testcase")}
    latency = cases["p95 latency increase"]
    failure = latency.find("failure")
    assert failure is not None
    assert failure.get("type") == "ops.latency_p95_ms"
    assert "observed: 2" in (failure.text or "")
    assert "allowed: 0.5" in (failure.text or "")
    props = {p.get("name"): p.get("value") for p in latency.iter("property")}
    assert props == {"observed": "2", "allowed": "0.5"}


def test_every_intent_and_every_configured_gate_is_a_testcase(regression: Comparison) -> None:
    root = ET.fromstring(junit_xml(regression, THRESHOLDS))
    names = [c.get("name") for c in root.iter("testcase")]
    assert names == [
        "quality score",
        "intent billing",
        "intent shipping",
        "output length increase",
        "refusal rate increase",
        "hedging rate increase",
        "p95 latency increase",
        "cost per case increase",
        "error rate increase",
        "served model unchanged",
        "error budget",
    ]
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["intent billing"].find("failure") is not None
    assert cases["intent shipping"].find("failure") is None


def test_gates_that_are_not_configured_are_left_out(regression: Comparison) -> None:
    root = ET.fromstring(junit_xml(regression))  # default thresholds: behaviour/ops gates off
    names = {c.get("name") for c in root.iter("testcase")}
    assert "refusal rate increase" not in names
    # ...but an alert that fired keeps its testcase and its failure.
    assert "output length increase" in names
    assert len(root.findall(".//failure")) == 4


def test_a_passing_run_has_no_failures(passing: Comparison) -> None:
    root = ET.fromstring(junit_xml(passing, THRESHOLDS))
    assert root.findall(".//failure") == []
    assert root.get("failures") == "0"


def test_a_suspect_drop_is_told_in_system_out_but_does_not_fail(suspect: Comparison) -> None:
    root = ET.fromstring(junit_xml(suspect, THRESHOLDS))
    assert root.findall(".//failure") == []
    out = root.find(".//testcase[@name='quality score']/system-out")
    assert out is not None
    assert "warn: canary score fell" in (out.text or "")


def test_a_blown_error_budget_is_a_failure_of_its_own_gate(errored: Comparison) -> None:
    root = ET.fromstring(junit_xml(errored, THRESHOLDS))
    failing = [a for a in errored.alerts if a.failing]
    assert "error_budget" in {a.metric for a in failing}
    assert len(root.findall(".//failure")) == len(failing)
    budget = root.find(".//testcase[@name='error budget']/failure")
    assert budget is not None
    assert "allowed: 0.1" in (budget.text or "")


def test_alerts_of_layers_without_a_gate_row_get_their_own_testcase(
    regression: Comparison,
) -> None:
    drift = Alert("drift", "input_distribution", "inputs drifted", observed=0.4, allowed=0.2)
    with_drift = replace(regression, alerts=(*regression.alerts, drift))
    root = ET.fromstring(junit_xml(with_drift, THRESHOLDS))
    assert len(root.findall(".//failure")) == 5
    case = root.find(".//testcase[@name='drift input_distribution']")
    assert case is not None
    assert case.find("failure") is not None


def test_control_characters_in_messages_still_make_valid_xml(regression: Comparison) -> None:
    odd = Alert("intent", "score", "intent 'a\x00b\x1b' fell", intent="a\x00b\x1b")
    text = junit_xml(replace(regression, alerts=(odd,)), THRESHOLDS)
    root = ET.fromstring(text)
    assert len(root.findall(".//failure")) == 1
