"""`canary monitor` as a user runs it, over logs the simulator writes for the bundled bot."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from canary_eval.demo import prepare
from canary_eval.simulator import write_production_logs

from conftest import CliResult
from factories import RecordingServer


@pytest.fixture
def bundled(tmp_path: Path) -> Path:
    prepare(tmp_path)
    return tmp_path / "configs" / "support-bot-monitor.yaml"


@pytest.mark.parametrize(
    ("drift", "severity", "exit_code", "failing"),
    [
        (False, "", 0, set()),
        (True, "", 0, set()),  # ops, signals and drift warn unless configured to page
        (True, "alerting: {severity: {signals: page, min_auc: page}}\n", 1, {"signals", "drift"}),
    ],
)
def test_monitor_alerts_on_drift_by_default_and_exits_1_only_for_a_page(
    canary: Callable[..., CliResult],
    bundled: Path,
    drift: bool,
    severity: str,
    exit_code: int,
    failing: set[str],
) -> None:
    write_production_logs(bundled.parent.parent / "logs", drift=drift, seed=3)
    with bundled.open("a", encoding="utf-8") as config:
        config.write(severity)

    result = canary("monitor", bundled, "--json", "monitor.json", "--html", "monitor.html")

    assert result.exit_code == exit_code, result.output
    report = json.loads(Path("monitor.json").read_text())
    layers = {a["layer"] for a in report["alerts"]}
    assert layers == ({"ops", "signals", "drift"} if drift else set())
    assert {a["layer"] for a in report["alerts"] if a["failing"]} == failing
    assert {a["severity"] for a in report["alerts"] if not a["failing"]} <= {"warn"}
    if drift:  # every alert of the pass is one incident, the new topic its likely cause
        assert report["incident"]["severity"] == ("page" if failing else "warn")
        assert report["incident"]["causes"][0]["kind"] == "input_drift"
        assert report["incident"]["alerts"] == len(report["alerts"])
    else:
        assert report["incident"] is None
    assert "<script" not in Path("monitor.html").read_text().lower()


def test_a_paging_pass_is_one_incident_then_a_clean_pass_resolves_it(
    canary: Callable[..., CliResult],
    bundled: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logs = bundled.parent.parent / "logs"
    with RecordingServer() as server:
        monkeypatch.setenv("MONITOR_SLACK", f"{server.url}/slack")
        monkeypatch.setenv("MONITOR_PD_KEY", "pd-key")
        with bundled.open("a", encoding="utf-8") as config:
            config.write(
                "alerting: {severity: {signals: page}}\n"
                f"alerts: {{slack: {{webhook_url_env: MONITOR_SLACK}}, pagerduty: "
                f"{{routing_key_env: MONITOR_PD_KEY, url: '{server.url}/pd'}}}}\n"
            )
        write_production_logs(logs, drift=True, seed=3)
        assert canary("monitor", bundled, "--quiet").exit_code == 1
        assert canary("monitor", bundled, "--quiet").exit_code == 1  # the same incident
        write_production_logs(logs, drift=False, seed=3)
        assert canary("monitor", bundled, "--quiet").exit_code == 0

        pagerduty = [r.json() for r in server.to("/pd")]
        slack = [r.json() for r in server.to("/slack")]
    assert [e["event_action"] for e in pagerduty] == ["trigger", "resolve"]
    assert {e["dedup_key"] for e in pagerduty} == {"canary-monitor-support-bot"}
    assert "likely cause: production inputs drifted" in pagerduty[0]["payload"]["summary"]
    assert [m["text"].split(":")[0] for m in slack] == ["canary monitor support-bot"] * 2
    assert slack[1]["text"] == "canary monitor support-bot: recovered"
    assert not (bundled.parent / ".canary" / "incident-monitor-support-bot.json").exists()


def test_monitor_without_logs_is_an_input_error(
    canary: Callable[..., CliResult], bundled: Path
) -> None:
    result = canary("monitor", bundled)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert "calls" in result.stderr


def test_suggest_cases_proposes_the_new_topic_of_the_drifted_demo_logs(
    canary: Callable[..., CliResult], bundled: Path
) -> None:
    write_production_logs(bundled.parent.parent / "logs", drift=True, seed=3, fmt="otlp")

    result = canary("monitor", bundled, "--suggest-cases", "suggested.yaml", "--quiet")

    assert result.exit_code == 0, result.output  # drift warns unless configured to page
    cases = yaml.safe_load(Path("suggested.yaml").read_text())["cases"]
    assert 5 <= len(cases) <= 50
    new_topic = [
        c
        for c in cases
        if re.search(r"payroll|crypto|usdc|bitcoin|w-2|stablecoin|wallet", c["input"], re.I)
    ]
    assert len(new_topic) >= len(cases) / 2
    assert all("reference" not in c for c in cases)
    assert len({c["input"].lower() for c in cases}) == len(cases)
    assert f"wrote {len(cases)} suggested cases" in result.output


def test_pii_like_strings_are_masked_in_suggestions() -> None:
    from canary_eval.monitor.suggest import mask

    text = (
        "I am jane.doe+x@example.co.uk, card 4111 1111 1111 1111, call +1 (415) 555-0100, "
        "order 48213"
    )
    assert mask(text) == "I am <email>, card <card>, call <phone>, order 48213"


def test_suggestions_and_their_topic_terms_carry_no_pii() -> None:
    from canary_eval.monitor.suggest import suggest

    texts = [
        f"My payroll for jane{i}@example.com failed, card 4111 1111 1111 111{i}" for i in range(9)
    ]
    found = suggest(texts, ["other"] * 9, ["Where is my parcel?"], floor=0.25)
    assert found
    for case in found:
        assert "@" not in case.input
        assert "4111" not in case.input
        assert not any("example" in term or "jane" in term for term in case.topic)
