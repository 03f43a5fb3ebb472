"""Quality paging calibrated at the hourly cadence: the CUSUM's threshold follows the false-page
budget, its reference comes from the best evidence there is, and a run's history carries it."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from canary_eval.store.history import past_runs
from canary_eval.verdict.calibration import (
    K,
    Observation,
    PastRun,
    SeriesState,
    arl_of,
    reference,
    series_thresholds,
    standardise,
    threshold,
    update,
)

from conftest import CliResult, right_answer
from model_server import ModelServer


def test_the_threshold_gives_the_in_control_run_length_asked_for() -> None:
    for arl in (100.0, 1440.0, 50_000.0):
        assert arl_of(threshold(arl)) == pytest.approx(arl, rel=1e-6)


def test_a_smaller_false_page_budget_raises_every_threshold_and_intents_share_half() -> None:
    strict = series_thresholds(["overall", "billing", "faq"], 0.1)
    loose = series_thresholds(["overall", "billing", "faq"], 2.0)
    assert all(strict[name] > loose[name] for name in strict)
    # each intent gets a quarter of the budget here, the overall score half: a higher bar
    assert strict["billing"] == strict["faq"] > strict["overall"]


def history(xs: list[float]) -> list[PastRun]:
    return [PastRun(True, "k", {"overall": SeriesState(x=x, spread=0.01)}) for x in xs]


def test_the_reference_is_the_history_once_it_has_enough_healthy_runs() -> None:
    obs = Observation(x=-0.05, baseline_score=0.8, n=100, diffs=[0.0] * 100)
    rng = random.Random(1)
    xs = [rng.gauss(0.01, 0.02) for _ in range(30)]
    unhealthy = [
        PastRun(False, "k", {"overall": SeriesState(x=-0.5)}),  # an outage
        PastRun(True, "k", {"overall": SeriesState(x=-0.4, paged=True)}),
    ]

    ref = reference("overall", obs, history(xs) + unhealthy, min_runs=12, max_runs=168)
    assert (ref.source, ref.runs, ref.df) == ("history", 30, 29)
    assert ref.mean == pytest.approx(sum(xs) / 30)

    few = reference("overall", obs, history(xs[:3]), min_runs=12, max_runs=168)
    assert (few.source, few.runs, few.sd) == ("history spread", 3, 0.01)
    assert few.mean == pytest.approx(sum(xs[:3]) / 3)  # not the one baseline draw

    repeats = Observation(x=-0.05, baseline_score=0.8, n=100, repeat_means=[0.80, 0.82, 0.81])
    ref = reference("overall", repeats, [], min_runs=12, max_runs=168)
    assert (ref.source, ref.runs) == ("baseline repeats", 3)
    assert ref.sd == pytest.approx(0.01)


def test_a_sustained_deficit_accumulates_until_it_pages_and_noise_does_not() -> None:
    ref = reference("overall", Observation(0.0, 0.8, 100), history([0.0, 0.02] * 10), 12, 168)
    h = threshold(1000.0)
    state = None
    for hours in range(1, 10):  # noqa: B007
        obs = Observation(x=-1.5 * ref.sd, baseline_score=0.8, n=100)
        result = update("overall", obs, state, ref, h, limit=0.01)
        state = result.state
        if result.alarm:
            break
    assert result.alarm
    assert hours > 1  # one run 1.5 sd low is not enough on its own
    assert result.drop == pytest.approx((ref.mean + 1.5 * ref.sd) / (0.8 + ref.mean))
    quiet = update("overall", Observation(x=ref.mean, baseline_score=0.8, n=100), None, ref, h, 0)
    assert (quiet.state.s, quiet.alarm) == (0.0, False)
    assert standardise(Observation(x=ref.mean - ref.sd, baseline_score=0.8, n=100), ref) < 1
    assert K > 0


def test_a_page_needs_the_drop_limit_too() -> None:
    many = Observation(0.0, 0.8, 100_000)
    ref = reference("overall", many, history([0.0, 0.0001] * 10), 12, 168)
    tiny = Observation(x=-0.002, baseline_score=0.8, n=100_000)  # 0.25 %: many sd, below 3 %
    result = update("overall", tiny, None, ref, threshold(1000.0), limit=0.03)
    assert result.state.s > result.threshold
    assert not result.alarm


def test_history_rows_carry_the_alarm_state_and_an_old_database_gains_the_columns(
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
    tmp_path: Path,
) -> None:
    db = tmp_path / ".canary" / "history.sqlite"
    db.parent.mkdir()
    with sqlite3.connect(db) as old:  # the table as the first release created it
        old.execute(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, suite TEXT NOT NULL, "
            "time TEXT NOT NULL, verdict TEXT NOT NULL, exit_code INTEGER NOT NULL, score REAL, "
            "baseline_score REAL, relative_drop REAL, p_value REAL, intents TEXT NOT NULL, "
            "latency_p50_ms REAL, latency_p95_ms REAL, error_rate REAL, cost_per_case_usd REAL, "
            "rate_limited INTEGER, mean_chars REAL, refusal_rate REAL, hedging_rate REAL, "
            "served_model TEXT, breached INTEGER NOT NULL DEFAULT 0)"
        )
    assert past_runs(db, "test-suite") == []
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite)

    assert canary("run", suite, "--quiet").exit_code == 0
    assert canary("run", suite, "--json", "report.json").exit_code == 0

    first, second = past_runs(db, "test-suite")
    assert first.key == second.key != ""
    assert first.healthy
    assert first.series["overall"].x == 0.0
    report = json.loads(Path("report.json").read_text())
    overall, *intents = report["calibration"]
    assert [overall["name"], *(i["name"] for i in intents)] == ["overall", "billing", "faq"]
    assert overall["reference"]["source"] == "history spread"


def test_a_lost_history_falls_back_to_the_baseline_and_still_decides(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite, "--repeat", "10")  # no history: the repeats give the spread
    model_server.answer = lambda u: "wrong" if int(u.split()[-1]) % 10 == 0 else right_answer(u)

    result = canary("run", suite, "--json", "report.json")

    report = json.loads(Path("report.json").read_text())
    assert report["calibration"][0]["reference"]["source"] == "baseline repeats"
    assert (result.exit_code, report["verdict"]) == (1, "regression")


def test_a_drop_past_the_limit_warns_only_while_the_calibrated_deficit_builds() -> None:
    from dataclasses import replace as changed

    from canary_eval.store.history import past_run, summary_row
    from canary_eval.suite.config import Thresholds
    from canary_eval.verdict.alarm import reference_key
    from canary_eval.verdict.compare import compare

    from factories import baseline_cases, run

    baseline = run(baseline_cases())  # 40 right answers
    two_wrong = {"billing-00", "shipping-00"}
    now = run([changed(c, score=0.0) if c.id in two_wrong else c for c in baseline_cases()])
    key = reference_key(now, baseline, frozenset())
    thresholds = Thresholds(max_relative_drop=0.03)

    def hourly(mean: float) -> list[tuple[list[str], str]]:
        rng = random.Random(3)
        past = [
            PastRun(True, key, {"overall": SeriesState(x=rng.gauss(mean, 0.02), spread=0.03)})
            for _ in range(30)
        ]
        seen: list[tuple[list[str], str]] = []
        for _ in range(3):
            result = compare(now, baseline, thresholds, past=past)
            seen.append(([a.severity for a in result.alerts], result.verdict))
            past.append(past_run(summary_row(result)))
        return seen

    # Healthy hours score like the baseline: the same 5 % drop hour after hour builds a
    # deficit; it warns from the hour the CUSUM passes half its threshold.
    assert hourly(0.0)[:2] == [([], "pass"), (["warn"], "suspect")]
    # Healthy hours score 5 % below a lucky baseline: the drop is theirs, not the model's.
    assert hourly(-0.05) == [([], "pass")] * 3
    # fail_on_suspect restores the per-run test's page, history or not.
    strict = compare(now, baseline, changed(thresholds, fail_on_suspect=True))
    assert [a.severity for a in strict.alerts] == ["page"]
