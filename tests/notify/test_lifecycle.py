"""The incident lifecycle over hourly runs, against a recording server on 127.0.0.1: one message
per incident, reminders at most every `repeat_after`, a new message when the incident changes, and
a resolve on every passing run, state file or not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from canary_eval.notify import AlertsConfig, deliver_all
from canary_eval.notify.delivery import DeliveryResult
from canary_eval.notify.lifecycle import load_state, state_path
from canary_eval.verdict.compare import Comparison

from .conftest import HOOK_SECRET, SLACK_SECRET
from factories import RecordingServer, comparison

SLACK = f"/services/{SLACK_SECRET}"
PD = "/v2/enqueue"
HOOK = f"/hooks/{HOOK_SECRET}"
START = datetime(2024, 5, 7, 14, 0, tzinfo=UTC)


class Hourly:
    """Runs of one suite an hour apart, sharing a state file as cron runs next to a history."""

    def __init__(
        self, alerts: AlertsConfig, env: dict[str, str], folder: Path, client: httpx.Client
    ) -> None:
        self.alerts, self.env, self.client = alerts, env, client
        self.state = state_path(folder / ".canary", "support-bot")
        self.hour = 0

    def run(self, c: Comparison, previous: str | None = None) -> list[DeliveryResult]:
        results = deliver_all(
            c,
            self.alerts,
            previous_verdict=previous,
            env=self.env,
            sleep=lambda _: None,
            client=self.client,
            state_file=self.state,
            now=START + timedelta(hours=self.hour),
        )
        self.hour += 1
        return results


@pytest.fixture
def hourly(alerts: AlertsConfig, env: dict[str, str], tmp_path: Path) -> Iterator[Hourly]:
    with httpx.Client() as client:  # one for every run: building one costs 0.1 s
        yield Hourly(alerts, env, tmp_path, client)


def _pd_actions(server: RecordingServer) -> list[str]:
    return [r.json()["event_action"] for r in server.to(PD)]


def test_one_incident_is_one_page_and_one_message_however_many_runs_fail(
    regression: Comparison, hourly: Hourly, server: RecordingServer
) -> None:
    for _ in range(6):
        hourly.run(regression, previous="regression")
    assert _pd_actions(server) == ["trigger"]
    assert len(server.to(SLACK)) == len(server.to(HOOK)) == 1
    state = load_state(hourly.state)
    assert state is not None
    assert state.opened_at == "2024-05-07T14:00:00Z"
    assert state.severity == "page"


def test_reminders_come_no_more_often_than_repeat_after(
    regression: Comparison, hourly: Hourly, server: RecordingServer
) -> None:
    for _ in range(50):  # hours 0..49 with the default repeat_after of 24 h
        hourly.run(regression, previous="regression")
    texts = [r.json()["text"] for r in server.to(SLACK)]
    assert len(texts) == 3  # hours 0, 24 and 48
    assert not texts[0].startswith("Still failing")
    assert texts[1].startswith("Still failing since 2024-05-07T14:00:00Z: canary support-bot")
    assert [r.json()["event"] for r in server.to(HOOK)] == ["trigger", "remind", "remind"]
    assert _pd_actions(server) == ["trigger"] * 3  # re-opens a page someone resolved by hand


def test_a_shorter_repeat_after_reminds_more_often(
    regression: Comparison, hourly: Hourly, server: RecordingServer
) -> None:
    hourly.alerts = replace(hourly.alerts, repeat_after=timedelta(hours=2))
    for _ in range(5):
        hourly.run(regression)
    assert len(server.to(SLACK)) == 3  # hours 0, 2 and 4


def test_resolve_is_sent_with_no_history_and_no_state(
    passing: Comparison, hourly: Hourly, server: RecordingServer
) -> None:
    assert not hourly.state.exists()
    results = hourly.run(passing, previous=None)
    assert [(r.channel, r.action, r.ok) for r in results] == [("pagerduty", "resolve", True)]
    assert server.to(PD)[0].json()["dedup_key"] == "canary-support-bot"


def test_a_lost_state_file_fails_safe(
    regression: Comparison, passing: Comparison, hourly: Hourly, server: RecordingServer
) -> None:
    hourly.run(regression)
    hourly.state.write_text("{not json", encoding="utf-8")  # an evicted or broken cache
    hourly.run(regression)  # sent again rather than missed
    hourly.state.unlink()
    hourly.run(passing)  # nothing remembered: PagerDuty still hears the resolve
    assert _pd_actions(server) == ["trigger", "trigger", "resolve"]
    assert not hourly.state.exists()


def test_a_recovery_closes_the_incident_and_the_next_failure_is_new(
    regression: Comparison, passing: Comparison, hourly: Hourly, server: RecordingServer
) -> None:
    hourly.run(regression)
    hourly.run(passing)
    hourly.run(regression)
    slack = [r.json() for r in server.to(SLACK)]
    assert [m["text"].split(":")[1].strip() for m in slack] == [
        "REGRESSION (exit 1)",
        "recovered, PASS (was unknown)",
        "REGRESSION (exit 1)",
    ]
    assert (
        "Resolved: support-bot: the served model changed" in slack[1]["blocks"][0]["text"]["text"]
    )
    assert _pd_actions(server) == ["trigger", "resolve", "trigger"]


def test_a_changed_incident_is_a_new_message(
    regression: Comparison, hourly: Hourly, server: RecordingServer
) -> None:
    hourly.run(regression)
    hourly.run(regression)
    outage = comparison("error")
    hourly.run(outage)
    hourly.run(outage)
    slack = [r.json() for r in server.to(SLACK)]
    assert len(slack) == 2
    assert slack[1]["text"].startswith("Changed: canary support-bot: ERROR (exit 3)")
    cause = next(
        b for b in slack[1]["blocks"] if "Likely cause" in b.get("text", {}).get("text", "")
    )
    assert "*Likely cause*: the provider failed" in cause["text"]["text"]
    assert "*Was*: support-bot: the served model changed" in cause["text"]["text"]
    assert _pd_actions(server) == ["trigger", "trigger"]


def test_warnings_go_to_chat_never_to_pagerduty(hourly: Hourly, server: RecordingServer) -> None:
    suspect = comparison("suspect")  # a drop past the threshold, not significant: a warning
    for _ in range(3):
        hourly.run(suspect)
    assert len(server.to(SLACK)) == 1
    assert _pd_actions(server) == ["resolve"] * 3


def test_a_message_that_did_not_get_through_is_sent_again(
    regression: Comparison, hourly: Hourly, server: RecordingServer
) -> None:
    server.script(SLACK, 500, 500, 500)  # every attempt of the first run fails
    hourly.run(regression)
    assert not hourly.state.exists()
    hourly.run(regression)
    assert len(server.to(SLACK)) == 3 + 1  # three failed attempts, then the retry's one
    assert load_state(hourly.state) is not None


def test_the_state_file_is_small_json_and_leaves_no_temporary_files(
    regression: Comparison, hourly: Hourly
) -> None:
    hourly.run(regression)
    assert [p.name for p in hourly.state.parent.iterdir()] == ["incident-support-bot.json"]
    data = json.loads(hourly.state.read_text(encoding="utf-8"))
    assert set(data) == {"key", "title", "severity", "opened_at", "notified_at"}
    assert data["key"].startswith("page/model_change/sim-drift (fp_b)/")
