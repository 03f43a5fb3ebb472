"""The JUnit report: valid against Jenkins xunit's junit-10.xsd, one testcase per gate and per
intent, one failure per breached gate, an error for a run that could not be evaluated."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from canary_eval.models import Alert
from canary_eval.reports.junit import junit_xml, write_junit
from canary_eval.suite.config import Thresholds
from canary_eval.verdict.compare import Comparison
from validators import check_junit

from factories import THRESHOLDS, comparison, run


def parse(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    return root


def test_the_file_parses_and_counts_one_failure_per_failing_alert(
    regression: Comparison, tmp_path: Path
) -> None:
    path = tmp_path / "out" / "junit.xml"
    write_junit(regression, path, THRESHOLDS)
    check_junit(path, required=False)
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
    out = latency.find("system-out")
    assert out is not None
    assert (out.text or "").splitlines()[:2] == ["observed: 2", "allowed: 0.5"]


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
    off = Thresholds(max_refusal_rate_increase=None, max_length_increase=None)
    root = ET.fromstring(junit_xml(regression, off))
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


def test_a_run_that_could_not_be_evaluated_is_an_error_not_a_failure(
    errored: Comparison,
) -> None:
    root = ET.fromstring(junit_xml(errored, THRESHOLDS))
    budget = root.find(".//testcase[@name='error budget']/error")
    assert budget is not None
    assert budget.get("type") == "ops.error_budget"
    assert "allowed: 0.1" in (budget.text or "")
    assert root.find(".//testcase[@name='error budget']/failure") is None
    failing = [a for a in errored.alerts if a.failing and a.metric != "error_budget"]
    assert len(root.findall(".//failure")) == len(failing)
    assert root.get("errors") == root.findall("testsuite")[0].get("errors") == "1"


def test_every_verdict_validates_against_junit_10_xsd(
    regression: Comparison,
    passing: Comparison,
    suspect: Comparison,
    errored: Comparison,
    tmp_path: Path,
) -> None:
    for kind, c in zip("rpse", (regression, passing, suspect, errored), strict=True):
        write_junit(c, tmp_path / f"{kind}.xml", THRESHOLDS)
        check_junit(tmp_path / f"{kind}.xml")


def test_suite_carries_time_timestamp_hostname_and_the_runs_facts() -> None:
    c = comparison("regression")
    timed = replace(c, run=replace(c.run, info=replace(c.run.info, duration_s=12.0)))
    root = ET.fromstring(junit_xml(timed, THRESHOLDS))
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("time") == root.get("time") == "12.000"
    # When the run started (it ended at 14:00:00+00:00), in UTC without an offset.
    assert suite.get("timestamp") == "2024-05-07T13:59:48"
    assert suite.get("hostname")
    assert suite.get("id") == "0"
    assert suite.get("package") == "canary.support-bot"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["verdict"] == "regression"
    assert props["served_model"] == "sim-drift (fp_b)"
    assert c.notes
    assert [props[f"note.{i}"] for i in range(1, len(c.notes) + 1)] == list(c.notes)
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["quality score"].get("time") == "12.000"
    assert cases["intent billing"].get("time") == "6.000"  # 20 calls of 300 ms


def test_a_saved_run_without_a_measured_duration_uses_its_summed_latency() -> None:
    c = comparison("pass")
    root = ET.fromstring(junit_xml(replace(c, run=run(c.run.cases)), THRESHOLDS))
    assert root.get("time") == "4.000"  # 40 calls of 100 ms


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
