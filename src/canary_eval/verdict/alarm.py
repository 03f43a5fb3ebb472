"""The quality alarms of a run: its paired changes, overall and per gated intent, fed to the
calibrated CUSUM (verdict/calibration.py) with the history of comparable runs, and the `page`
alerts of the series that pass their threshold and their relative-drop limit."""

from __future__ import annotations

import hashlib
import json
import statistics
from collections.abc import Mapping, Sequence

from canary_eval.models import Alert, CaseResult, RunResult
from canary_eval.suite.config import Alerting, Thresholds
from canary_eval.verdict.calibration import (
    Observation,
    PastRun,
    SeriesResult,
    reference,
    series_thresholds,
    update,
)
from canary_eval.verdict.policy import Policy

Pairs = Sequence[tuple[CaseResult, CaseResult]]


def reference_key(run: RunResult, baseline: RunResult, quarantine: frozenset[str]) -> str:
    """Runs are comparable (their changes against the baseline share one distribution) when
    the baseline, eval set, prompt, scorers and quarantine are the same."""
    parts = [
        baseline.info.created_at,
        run.info.evalset_hash,
        run.info.prompt_hash,
        run.info.scorers_hash,
        sorted(quarantine),
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def observe(pairs: Pairs) -> Observation:
    """One series' observation from its (current, baseline) pairs."""
    now = [c.score for c, _ in pairs if c.score is not None]
    before = [b.score for _, b in pairs if b.score is not None]
    diffs = [a - b for a, b in zip(now, before, strict=True)]
    repeats = {len(b.samples) for _, b in pairs}
    repeat_means: list[float] = []
    if len(repeats) == 1 and (r := repeats.pop()) >= 2:
        repeat_means = [statistics.fmean(b.samples[i] for _, b in pairs) for i in range(r)]
    runs = min(max(len(c.samples), 1) for c, _ in pairs)
    return Observation(
        x=statistics.fmean(diffs),
        baseline_score=statistics.fmean(before),
        n=len(diffs),
        diffs=diffs,
        repeat_means=repeat_means,
        runs=runs,
    )


def series_results(
    overall: Pairs,
    intents: Mapping[str, Pairs],
    thresholds: Thresholds,
    alerting: Alerting,
    past: Sequence[PastRun],
) -> tuple[SeriesResult, ...]:
    """The CUSUM step of every series; `intents` holds only the gated intents."""
    series: dict[str, Pairs] = {"overall": overall, **intents} if overall else {}
    h = series_thresholds(list(series), alerting.false_pages_per_month)
    previous = past[-1].series if past else {}
    results = []
    for name, pairs in series.items():
        obs = observe(pairs)
        ref = reference(name, obs, past, alerting.min_reference_runs, alerting.reference_runs)
        limit = (
            thresholds.max_relative_drop
            if name == "overall"
            else thresholds.per_intent.max_relative_drop
        )
        results.append(update(name, obs, previous.get(name), ref, h[name], limit))
    return tuple(results)


def alarm_alerts(results: Sequence[SeriesResult], policy: Policy) -> list[Alert]:
    """A page for every series in alarm (overall: gate `max_relative_drop`; intents:
    `per_intent`), naming the reference it was measured against."""
    alerts = []
    for r in results:
        if not r.alarm:
            continue
        ref = r.reference
        if ref.source == "this run":
            evidence = f"z={r.z:.1f} on this run alone, no history yet"
        else:
            basis = f"{ref.runs} healthy runs" if ref.source == "history" else ref.source
            evidence = (
                f"CUSUM {r.state.s:.1f} > {r.threshold:.1f} over {r.state.runs} run(s), "
                f"reference: {basis}"
            )
        detail = f"fell {r.drop:.1%} below its reference, above the {r.limit or 0:.1%} limit"
        detail = f"{detail} ({evidence})"
        overall = r.name == "overall"
        gate = "max_relative_drop" if overall else "per_intent"
        alerts.append(
            Alert(
                layer="quality" if overall else "intent",
                metric="score",
                intent=None if overall else r.name,
                gate=gate,
                severity=policy.severity(gate),
                observed=r.drop,
                allowed=r.limit,
                message=(f"canary score {detail}" if overall else f"intent '{r.name}' {detail}"),
            )
        )
    return alerts
