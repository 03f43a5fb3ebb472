"""After the verdict, through the command line: history, alerts, CI output and report files."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import CliResult, right_answer, wrong_below
from factories import RecordingServer
from model_server import ModelServer

WEBHOOK_SECRET = "hooks-SECRET-token-42"


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingServer]:
    with RecordingServer() as server:
        monkeypatch.setenv("CANARY_TEST_SLACK", f"{server.url}/slack/{WEBHOOK_SECRET}")
        monkeypatch.setenv("CANARY_TEST_PD_KEY", "pd-routing-key-secret")
        yield server


def alerting_suite(write_suite: Callable[..., Path], base_url: str, receiver_url: str) -> Path:
    return write_suite(
        base_url,
        alerts={
            "slack": {"webhook_url_env": "CANARY_TEST_SLACK"},
            "pagerduty": {"routing_key_env": "CANARY_TEST_PD_KEY",
                          "url": f"{receiver_url}/pagerduty"},
            "retry": {"attempts": 2, "base_delay_s": 0.01},
        },
    )  # fmt: skip


def test_a_regression_pages_and_the_next_pass_resolves(
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
    receiver: RecordingServer,
) -> None:
    model_server.answer = right_answer
    suite = alerting_suite(write_suite, model_server.base_url, receiver.url)
    canary("baseline", suite)

    model_server.answer = wrong_below(30)
    assert canary("run", suite, "--quiet").exit_code == 1
    model_server.answer = right_answer
    assert canary("run", suite, "--quiet").exit_code == 0

    events = [r.json() for r in receiver.to("/pagerduty")]
    assert [e["event_action"] for e in events] == ["trigger", "resolve"]
    assert events[0]["dedup_key"] == events[1]["dedup_key"] == "canary-test-suite"
    assert events[0]["payload"]["severity"] == "critical"
    assert len(receiver.to(f"/slack/{WEBHOOK_SECRET}")) == 2


def test_hourly_failures_page_once_and_a_pass_resolves_even_with_the_history_gone(
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
    receiver: RecordingServer,
) -> None:
    model_server.answer = right_answer
    suite = alerting_suite(write_suite, model_server.base_url, receiver.url)
    canary("baseline", suite)

    model_server.answer = wrong_below(30)
    for _ in range(3):
        assert canary("run", suite, "--quiet").exit_code == 1
    state = suite.parent / ".canary" / "incident-test-suite.json"
    assert json.loads(state.read_text())["severity"] == "page"
    for path in state.parent.iterdir():  # an evicted CI cache: no history, no state
        if not path.name.endswith(".baseline.json"):
            path.unlink()
    model_server.answer = right_answer
    assert canary("run", suite, "--quiet").exit_code == 0

    events = [r.json()["event_action"] for r in receiver.to("/pagerduty")]
    assert events == ["trigger", "resolve"]
    assert len(receiver.to(f"/slack/{WEBHOOK_SECRET}")) == 1


def test_a_failed_delivery_is_reported_but_never_changes_the_exit_code(
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
    receiver: RecordingServer,
) -> None:
    model_server.answer = right_answer
    suite = alerting_suite(write_suite, model_server.base_url, receiver.url)
    canary("baseline", suite)
    model_server.answer = wrong_below(30)
    receiver.script(f"/slack/{WEBHOOK_SECRET}", 500, 500)

    result = canary("run", suite, "--quiet")

    assert result.exit_code == 1
    assert "alert to slack failed after 2 attempt(s)" in result.stderr
    assert WEBHOOK_SECRET not in result.output


def test_history_shows_every_run_and_reports_are_written(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite)
    for _ in range(2):
        canary("run", suite, "--quiet")
    model_server.fingerprint = "fp_updated"
    result = canary("run", suite, "--quiet", "--junit", "r.xml", "--markdown", "r.md", "--html",
                    "r.html", "--prometheus", "r.prom")  # fmt: skip

    history = canary("history", suite)

    assert result.exit_code == 0
    assert history.exit_code == 0
    assert history.stdout.count("pass") >= 3
    assert "fp_updated" in history.stdout
    assert ET.parse("r.xml").getroot().tag in ("testsuites", "testsuite")
    assert "|---" in Path("r.md").read_text() or "| ---" in Path("r.md").read_text()
    assert "<svg" in Path("r.html").read_text()
    assert 'canary_score_ratio{intent="all",suite="test-suite"} 1.0' in Path("r.prom").read_text()


def test_in_github_actions_breached_gates_become_annotations_and_a_step_summary(
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    model_server.answer = wrong_below(30)

    result = canary("run", suite, "--quiet")

    assert result.exit_code == 1
    assert "::error" in result.stdout
    assert "REGRESSION" in (tmp_path / "summary.md").read_text().upper()


def test_if_model_changed_runs_exactly_when_the_served_model_changes(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite)
    calls = len(model_server.requests)

    def run_if_changed() -> int:
        nonlocal calls
        canary("run", suite, "--if-model-changed", "--quiet", "--json", "report.json")
        suite_calls = len(model_server.requests) - calls
        calls = len(model_server.requests)
        return suite_calls

    first = run_if_changed()  # nothing probed yet: compared with the baseline's model
    unchanged = run_if_changed()
    model_server.fingerprint = "fp_new"
    changed = run_if_changed()
    again = run_if_changed()

    assert first <= 1
    assert unchanged <= 1
    assert changed >= 60
    assert again <= 1
    assert json.loads(Path("report.json").read_text())["model_changed"] is True


def test_watch_runs_the_suite_when_the_served_model_changes(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite)
    before = len(model_server.requests)

    quiet = canary("watch", suite, "--interval", "1s", "--max-checks", "2")
    probes = len(model_server.requests) - before
    model_server.fingerprint = "fp_new"
    changed = canary("watch", suite, "--interval", "1s", "--max-checks", "1", "--json",
                     "watch.json")  # fmt: skip

    assert quiet.exit_code == changed.exit_code == 0
    assert probes <= 2
    assert "served model unchanged" in quiet.stdout
    assert json.loads(Path("watch.json").read_text())["model_changed"] is True


def test_watch_rejects_a_bad_interval(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    result = canary("watch", write_suite(model_server.base_url), "--interval", "soon")
    assert result.exit_code == 2
    assert "not a duration" in result.output
