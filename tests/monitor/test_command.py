"""`canary monitor` as a user runs it, over logs the simulator writes for the bundled bot."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from canary_eval.demo import prepare
from canary_eval.simulator import write_production_logs
from imports import command_imports

from conftest import CliResult
from factories import RecordingServer


@pytest.fixture
def bundled(tmp_path: Path) -> Path:
    prepare(tmp_path)
    return tmp_path / "configs" / "support-bot-monitor.yaml"


def _configure(config: Path, **sections: dict[str, Any]) -> None:
    """Merge `sections` into the config's top-level mappings, as a user would edit it."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    for key, values in sections.items():
        data.setdefault(key, {}).update(values)
    config.write_text(yaml.safe_dump(data), encoding="utf-8")


@pytest.mark.parametrize(
    ("drift", "severity", "exit_code", "failing"),
    [
        (False, {}, 0, set()),
        (True, {}, 0, set()),  # ops, signals and drift warn unless configured to page
        (True, {"signals": "page", "min_auc": "page"}, 1, {"signals", "drift"}),
    ],
)
def test_monitor_alerts_on_drift_by_default_and_exits_1_only_for_a_page(
    canary: Callable[..., CliResult],
    bundled: Path,
    drift: bool,
    severity: dict[str, str],
    exit_code: int,
    failing: set[str],
) -> None:
    write_production_logs(bundled.parent.parent / "logs", drift=drift, seed=3)
    _configure(bundled, alerting={"severity": severity})

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
        _configure(
            bundled,
            alerting={"severity": {"signals": "page"}},
            alerts={
                "slack": {"webhook_url_env": "MONITOR_SLACK"},
                "pagerduty": {"routing_key_env": "MONITOR_PD_KEY", "url": f"{server.url}/pd"},
            },
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


@pytest.mark.parametrize("drift", [False, True])
def test_a_minimal_config_catches_the_seeded_scenarios_and_stays_quiet_without_them(
    canary: Callable[..., CliResult], bundled: Path, drift: bool
) -> None:
    # Only where the logs and the canary set are: every gate and the budget at their defaults.
    minimal = bundled.parent / "minimal.yaml"
    minimal.write_text(
        "calls: ../logs/calls.jsonl\nfeedback: ../logs/feedback.jsonl\n"
        "evalset: ../evalsets/support-bot.yaml\n",
        encoding="utf-8",
    )
    args = ["simulate", "--logs", str(bundled.parent.parent / "logs")]
    assert canary(*args, *(["--drift"] if drift else [])).exit_code == 0

    result = canary("monitor", minimal, "--json", "monitor.json")

    assert result.exit_code == 0, result.output  # alerts warn by default
    report = json.loads(Path("monitor.json").read_text())
    assert report["budget"]["source"] == "alerting.false_alerts_per_month"
    assert report["budget"]["alpha"] == pytest.approx(1 / 720)
    alerted = {(a["metric"], a["intent"]) for a in report["alerts"]}
    if not drift:
        assert alerted == set()
        return
    assert ("thumbs_down_rate", "disputes") in alerted  # disputes' thumbs-down doubled
    assert ("latency_p95_ms", None) in alerted  # p95 doubled
    assert {("uncovered_share", None), ("domain_auc", None)} <= alerted  # a new topic
    assert "crypto" in next(
        a["message"] for a in report["alerts"] if a["metric"] == "uncovered_share"
    )


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


def test_monitor_imports_neither_scikit_learn_nor_scipy_stats(bundled: Path) -> None:
    # They cost a second of CPU on every hourly pass: the monitor's classifiers and tests need
    # only numpy and scipy.sparse (scipy.special alone would cost 0.15 s).
    write_production_logs(bundled.parent.parent / "logs", drift=True, seed=3)
    modules = command_imports("monitor", str(bundled))
    assert "duckdb" in modules  # the hook saw the monitor's imports
    assert {"sklearn", "scipy.stats", "scipy.special", "scipy.optimize"} & modules == set()
