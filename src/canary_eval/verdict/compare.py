"""A run against its baseline -> `Comparison`: quality (paired test, intervals, the smallest
drop this run can detect), per intent (Holm-corrected), behaviour, operations and the served
model, every breached gate an `Alert`, and one verdict.

Cases pair by id and content hash: a case whose content changed since the baseline, and cases
added or removed, are listed and left out of every paired figure.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from canary_eval.models import (
    VERDICT_EXIT_CODES,
    Alert,
    CaseResult,
    RunResult,
    Severity,
    Verdict,
)
from canary_eval.suite.config import Alerting, Thresholds
from canary_eval.verdict import stats
from canary_eval.verdict.alarm import alarm_alerts, reference_key, series_results
from canary_eval.verdict.calibration import PastRun, SeriesResult
from canary_eval.verdict.critical import CriticalFlip, critical_alerts
from canary_eval.verdict.gates import (
    behaviour_alerts,
    error_budget_alert,
    model_alerts,
    ops_alerts,
    paired_test_alerts,
    prompt_alerts,
)
from canary_eval.verdict.limits import Limit, limit_notes, paired_limits
from canary_eval.verdict.metrics import (
    BehaviourFigures,
    OpsFigures,
    behaviour_figures,
    call_cost_usd,
    model_versions,
    ops_figures,
    served_model,
)
from canary_eval.verdict.policy import Policy


@dataclass(frozen=True)
class Pairing:
    pairs: tuple[tuple[CaseResult, CaseResult], ...]  # (current, baseline), both scored
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    unscored: tuple[str, ...] = ()  # errored or unscorable on either side
    quarantined: tuple[str, ...] = ()


@dataclass(frozen=True)
class Quality:
    score: float
    baseline_score: float
    ci: tuple[float, float]
    delta: float
    delta_ci: tuple[float, float]
    relative_drop: float
    p_value: float
    method: str
    n: int
    worse: int
    better: int
    min_detectable_drop: float  # relative to the baseline score, at 80 % power
    # the smallest relative drop the calibrated overall series pages on (verdict/limits.py)
    min_paged_drop: float = math.inf


@dataclass(frozen=True)
class IntentResult:
    intent: str
    n: int
    score: float
    baseline_score: float
    delta: float
    relative_drop: float
    p_value: float
    p_adjusted: float
    tested: bool
    regressed: bool
    tool_call_rate: float = 0.0  # share of this intent's answers that called a tool
    wrong_tool_rate: float = 0.0  # share of its tool-expecting answers that called another
    # the smallest relative drop its gate pages on (verdict/limits.py); inf: it never pages
    min_detectable_drop: float = math.inf
    pages_reliably: bool = False
    cases_needed: int | None = None  # when it cannot page (reliably): for a drop of the limit


@dataclass(frozen=True)
class Comparison:
    suite: str
    verdict: Verdict
    quality: Quality
    intents: tuple[IntentResult, ...]
    alerts: tuple[Alert, ...]
    pairing: Pairing
    ops: OpsFigures
    baseline_ops: OpsFigures
    behaviour: BehaviourFigures
    baseline_behaviour: BehaviourFigures
    model_versions: dict[str, int]
    served_model: str | None
    baseline_model: str | None
    run: RunResult
    baseline: RunResult
    flaky: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    calibration: tuple[SeriesResult, ...] = ()  # the CUSUM step of every gated series
    reference_key: str = ""

    @property
    def exit_code(self) -> int:
        return VERDICT_EXIT_CODES[self.verdict]

    @property
    def severity(self) -> Severity | None:
        """The highest severity among the run's alerts (page > warn > info); None without any."""
        levels: tuple[Severity, ...] = ("page", "warn", "info")
        return next((s for s in levels if any(a.severity == s for a in self.alerts)), None)

    @property
    def model_changed(self) -> bool:
        return self.baseline_model is not None and self.served_model != self.baseline_model

    @property
    def prompt_changed(self) -> bool:
        before = self.baseline.info.prompt_hash
        return bool(before) and self.run.info.prompt_hash != before


def pair(run: RunResult, baseline: RunResult, quarantine: frozenset[str] = frozenset()) -> Pairing:
    before = baseline.by_id()
    now = run.by_id()
    pairs, changed, unscored, quarantined = [], [], [], []
    for case in run.cases:
        base = before.get(case.id)
        if base is None:
            continue
        if case.id in quarantine:
            quarantined.append(case.id)
        elif base.content_hash != case.content_hash:
            changed.append(case.id)
        elif case.score is None or base.score is None:
            unscored.append(case.id)
        else:
            pairs.append((case, base))
    return Pairing(
        pairs=tuple(pairs),
        added=tuple(c.id for c in run.cases if c.id not in before),
        removed=tuple(c.id for c in baseline.cases if c.id not in now),
        changed=tuple(changed),
        unscored=tuple(unscored),
        quarantined=tuple(quarantined),
    )


def flaky_cases(baseline: RunResult, max_flip_rate: float | None) -> tuple[str, ...]:
    """Cases whose repeated baseline samples disagree on pass/fail more often than allowed."""
    limit = 0.0 if max_flip_rate is None else max_flip_rate
    flaky = []
    for case in baseline.cases:
        if len(case.samples) < 2:
            continue
        passes = sum(s >= 0.5 for s in case.samples)
        flip_rate = min(passes, len(case.samples) - passes) / len(case.samples)
        if flip_rate > limit:
            flaky.append(case.id)
    return tuple(flaky)


def compare(
    run: RunResult,
    baseline: RunResult,
    thresholds: Thresholds,
    quarantine: frozenset[str] = frozenset(),
    seed: int = 0,
    alerting: Alerting | None = None,
    past: Sequence[PastRun] = (),
    critical: Sequence[CriticalFlip] = (),
) -> Comparison:
    """`past` is the suite's recorded runs, oldest first; those comparable with this one (same
    baseline, eval set, prompt, scorers) calibrate the quality alarms. `critical` is the critical
    cases that failed where the baseline passed, with their confirmation re-runs (see
    `pipeline.evaluate`)."""
    alerting = alerting or Alerting()
    policy = Policy(thresholds, alerting)
    pairing = pair(run, baseline, quarantine)
    current = [c for c, _ in pairing.pairs]
    before = [b for _, b in pairing.pairs]
    quality = _quality(current, before, thresholds.alpha, seed)
    key = reference_key(run, baseline, quarantine)
    groups = _groups(pairing)
    gated = {i: p for i, p in groups.items() if thresholds.per_intent.gates(len(p))}
    comparable = [r for r in past if r.key == key]
    calibration = series_results(pairing.pairs, gated, thresholds, alerting, comparable)
    alarmed = {r.name for r in calibration if r.alarm}
    limits = paired_limits({"overall": pairing.pairs, **groups}, calibration, thresholds, alerting)
    if "overall" in limits:
        quality = replace(quality, min_paged_drop=limits["overall"].drop)
    intents = _intents(groups, thresholds, alarmed, limits, seed)
    ops, baseline_ops = ops_figures(run), ops_figures(baseline)
    behaviour, baseline_behaviour = behaviour_figures(current), behaviour_figures(before)
    now_model, base_model = served_model(run), served_model(baseline)
    alerts = error_budget_alert(ops, thresholds)
    alerts += alarm_alerts(calibration, policy)
    if "overall" not in alarmed:  # the page already says it
        overall = next((r for r in calibration if r.name == "overall"), None)
        alerts += paired_test_alerts(quality, policy, overall)
    alerts += critical_alerts(critical, policy)
    alerts += behaviour_alerts(pairing, behaviour, baseline_behaviour, policy)
    latencies = (_latencies(run), _latencies(baseline))
    costs = [
        (call_cost_usd(c, run.info.pricing), call_cost_usd(b, baseline.info.pricing))
        for c, b in pairing.pairs
    ]
    alerts += ops_alerts(ops, baseline_ops, policy, latencies, costs)
    alerts += model_alerts(now_model, base_model, policy)
    alerts += prompt_alerts(run.info.prompt_hash, baseline.info.prompt_hash, policy)
    notes = limit_notes(list(limits.values()), thresholds)
    if quality.min_detectable_drop > thresholds.max_relative_drop:
        notes.append(
            f"This run can only reliably detect a drop of {quality.min_detectable_drop:.1%} "
            f"(80 % power, n={quality.n}); the threshold is {thresholds.max_relative_drop:.1%}. "
            "Add cases or use --repeat to see smaller drops."
        )
    return Comparison(
        suite=run.info.suite,
        verdict=_verdict(alerts),
        quality=quality,
        intents=intents,
        alerts=tuple(alerts),
        pairing=pairing,
        ops=ops,
        baseline_ops=baseline_ops,
        behaviour=behaviour,
        baseline_behaviour=baseline_behaviour,
        model_versions=model_versions(run),
        served_model=now_model,
        baseline_model=base_model,
        run=run,
        baseline=baseline,
        flaky=flaky_cases(baseline, thresholds.max_flip_rate),
        notes=tuple(notes),
        calibration=calibration,
        reference_key=key,
    )


def _verdict(alerts: Sequence[Alert]) -> Verdict:
    if any(a.metric == "error_budget" for a in alerts):
        return "error"
    if any(a.failing for a in alerts):
        return "regression"
    if any(a.layer == "quality" for a in alerts):
        return "suspect"
    return "pass"


def _latencies(run: RunResult) -> list[float]:
    return [c.latency_ms for c in run.cases if c.error is None]


def _scores(cases: Sequence[CaseResult]) -> list[float]:
    return [c.score for c in cases if c.score is not None]


def _quality(
    current: Sequence[CaseResult], before: Sequence[CaseResult], alpha: float, seed: int
) -> Quality:
    now, base = _scores(current), _scores(before)
    n = len(now)
    if n == 0:
        nan = math.nan
        return Quality(nan, nan, (nan, nan), nan, (nan, nan), 0.0, 1.0, "none", 0, 0, 0, math.inf)
    score, baseline_score = statistics.fmean(now), statistics.fmean(base)
    test = stats.paired_drop_test(now, base, seed=seed)
    diffs = [a - b for a, b in zip(now, base, strict=True)]
    if test.method == "mcnemar":
        mde = stats.minimum_detectable_drop(
            n, discordance=(test.worse + test.better) / n, alpha=alpha
        )
    else:
        sd = statistics.stdev(diffs) if n > 1 else 0.0
        mde = stats.minimum_detectable_drop(n, sd_diff=sd or 1 / n, alpha=alpha)
    ci, delta_ci = stats.bootstrap_mean_cis(now, diffs, seed=seed)
    return Quality(
        score=score,
        baseline_score=baseline_score,
        ci=ci,
        delta=score - baseline_score,
        delta_ci=delta_ci,
        relative_drop=stats.relative_drop(score, baseline_score),
        p_value=test.p_value,
        method=test.method,
        n=n,
        worse=test.worse,
        better=test.better,
        min_detectable_drop=mde / baseline_score if baseline_score else math.inf,
    )


def _groups(pairing: Pairing) -> dict[str, list[tuple[CaseResult, CaseResult]]]:
    groups: dict[str, list[tuple[CaseResult, CaseResult]]] = defaultdict(list)
    for pair_ in pairing.pairs:
        groups[pair_[0].intent or "(none)"].append(pair_)
    return dict(sorted(groups.items()))


def _intents(
    groups: dict[str, list[tuple[CaseResult, CaseResult]]],
    thresholds: Thresholds,
    alarmed: set[str],
    limits: dict[str, Limit],
    seed: int,
) -> tuple[IntentResult, ...]:
    """Every intent's paired test (Holm-corrected across the gated ones, for the report);
    an intent regressed when its calibrated alarm pages."""
    tested = {intent for intent, pairs in groups.items() if thresholds.per_intent.gates(len(pairs))}
    scores = {
        intent: (_scores([c for c, _ in pairs]), _scores([b for _, b in pairs]))
        for intent, pairs in groups.items()
    }
    p_values = {
        intent: stats.paired_drop_test(now, before, seed=seed).p_value if intent in tested else 1.0
        for intent, (now, before) in scores.items()
    }
    figures = {intent: behaviour_figures(c for c, _ in pairs) for intent, pairs in groups.items()}
    order = sorted(tested)
    adjusted = dict(zip(order, stats.holm([p_values[i] for i in order]), strict=True))
    results = []
    for intent, (now, before) in scores.items():
        score, base_score = statistics.fmean(now), statistics.fmean(before)
        results.append(
            IntentResult(
                intent=intent,
                n=len(now),
                score=score,
                baseline_score=base_score,
                delta=score - base_score,
                relative_drop=stats.relative_drop(score, base_score),
                p_value=p_values[intent],
                p_adjusted=adjusted.get(intent, 1.0),
                tested=intent in tested,
                regressed=intent in alarmed,
                tool_call_rate=figures[intent].tool_call_rate,
                wrong_tool_rate=figures[intent].wrong_tool_rate,
                min_detectable_drop=limits[intent].drop,
                pages_reliably=limits[intent].reliable,
                cases_needed=limits[intent].cases_needed,
            )
        )
    return tuple(results)
