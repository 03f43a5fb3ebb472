"""One monitor run: read the logs once, compare the current window with the reference, decide.

`run_monitor` returns a `MonitorResult` (verdict, exit code, alerts and every figure overall and
per intent); `canary_eval.monitor.report` turns it into the JSON, terminal, Markdown and HTML
reports. Nothing here prints or exits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from canary_eval.models import VERDICT_EXIT_CODES, Alert, Verdict
from canary_eval.monitor.config import MonitorConfig, load_monitor_config
from canary_eval.monitor.drift import (
    DriftFigures,
    coverage,
    domain_classifier_test,
    drift_alerts,
    intent_mix_shift,
    length_shift,
)
from canary_eval.monitor.intents import (
    ClassifierReport,
    IntentTagger,
    LabelledExamples,
    load_examples,
    train_intent_classifier,
)
from canary_eval.monitor.ops import OpsFigures, WindowOps, ops_alerts
from canary_eval.monitor.records import Malformed, Tally, read_calls, read_feedback, resolve_paths
from canary_eval.monitor.signals import SignalFigures, WindowSignals, signal_alerts
from canary_eval.monitor.windows import LogAccumulator, LogData


@dataclass(frozen=True)
class SegmentFigures:
    """Every figure of one slice of traffic: overall (intent None) or one intent."""

    intent: str | None
    ops_reference: OpsFigures
    ops_current: OpsFigures
    signals_reference: SignalFigures
    signals_current: SignalFigures
    traffic_share: float  # share of current-window calls
    canary_share: float | None  # share of canary cases
    uncovered_share: float | None  # of its sampled current inputs


@dataclass(frozen=True)
class MalformedFigures:
    calls_read: int
    calls_malformed: int
    feedback_read: int
    feedback_malformed: int
    max_share: float
    examples: tuple[Malformed, ...]


@dataclass(frozen=True)
class MonitorWindows:
    reference_start: str  # ISO 8601, UTC
    current_start: str
    end: str
    window_s: float
    reference_s: float


@dataclass(frozen=True)
class MonitorResult:
    name: str
    verdict: Verdict
    exit_code: int
    alerts: tuple[Alert, ...]
    overall: SegmentFigures
    intents: tuple[SegmentFigures, ...]
    drift: DriftFigures
    malformed: MalformedFigures
    classifier: ClassifierReport
    windows: MonitorWindows
    models: Mapping[str, int]  # served model -> calls in the current window


def run_monitor(
    config_path: Path, *, until: datetime | None = None, stdin: TextIO | None = None
) -> MonitorResult:
    """Run the monitor a config describes; raises ConfigError / LogError (exit 2) on bad input."""
    config = load_monitor_config(Path(config_path))
    call_paths = resolve_paths(config.calls)
    feedback_paths = resolve_paths(config.feedback)
    examples = load_examples(config.evalset, config.extra_examples)
    classifier, base_report = train_intent_classifier(
        examples, min_confidence=config.min_confidence, seed=config.seed
    )
    tagger = IntentTagger(classifier)
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    accumulator = LogAccumulator(
        window_s=config.window.total_seconds(),
        reference_s=config.reference.total_seconds(),
        tag=tagger,
        until=until.timestamp() if until is not None else None,
        sample_size=config.sample_size,
        seed=config.seed,
    )
    calls_tally, feedback_tally = Tally("call"), Tally("feedback")
    accumulator.add_calls(
        read_calls(call_paths, config.call_fields, config.pricing, calls_tally, stdin)
    )
    calls_tally.check(config.max_malformed_share)
    accumulator.add_feedback(
        read_feedback(feedback_paths, config.feedback_fields, feedback_tally, stdin)
    )
    feedback_tally.check(config.max_malformed_share)
    data = accumulator.finish(", ".join(config.calls))
    return _evaluate(
        config, data, examples, tagger.report(base_report), calls_tally, feedback_tally
    )


def _evaluate(
    config: MonitorConfig,
    data: LogData,
    examples: LabelledExamples,
    classifier: ClassifierReport,
    calls_tally: Tally,
    feedback_tally: Tally,
) -> MonitorResult:
    calls, feedback = data.calls, data.feedback
    current, reference = data.current(calls), data.reference(calls)
    ops = {
        "ref": WindowOps(calls, reference, data.task_intent),
        "cur": WindowOps(calls, current, data.task_intent),
    }
    signals = {
        "ref": WindowSignals(
            calls["task"][reference], feedback, data.reference(feedback), data.task_intent
        ),
        "cur": WindowSignals(
            calls["task"][current], feedback, data.current(feedback), data.task_intent
        ),
    }
    counts_cur = Counter(
        dict(zip(*np.unique(calls["intent"][current], return_counts=True), strict=True))
    )
    counts_ref = Counter(
        dict(zip(*np.unique(calls["intent"][reference], return_counts=True), strict=True))
    )
    total_cur = sum(counts_cur.values())
    traffic = {data.intents[int(k)]: v / total_cur for k, v in counts_cur.items()}
    drift = _drift(config, data, examples, counts_ref, counts_cur)
    cov = drift.coverage

    def segment(code: int | None) -> SegmentFigures:
        name = data.intents[code] if code is not None else None
        canary = uncovered = None
        if cov is not None:
            canary = cov.canary_share.get(name, 0.0) if name is not None else 1.0
            uncovered = cov.per_intent.get(name) if name is not None else cov.uncovered_share
        return SegmentFigures(
            name,
            ops["ref"].figures(code),
            ops["cur"].figures(code),
            signals["ref"].figures(code),
            signals["cur"].figures(code),
            traffic.get(name, 0.0) if name is not None else 1.0,
            canary,
            uncovered,
        )

    codes = sorted({int(c) for c in (*counts_cur, *counts_ref)}, key=data.intents.__getitem__)
    segments = [segment(None), *(segment(code) for code in codes)]
    pairs_ops = [(s.intent, s.ops_reference, s.ops_current) for s in segments]
    pairs_signals = [(s.intent, s.signals_reference, s.signals_current) for s in segments]
    alerts = (
        *ops_alerts(pairs_ops, config.ops),
        *signal_alerts(pairs_signals, config.signals),
        *drift_alerts(drift, traffic, config.drift),
    )
    verdict: Verdict = "regression" if any(a.failing for a in alerts) else "pass"
    bounds = data.bounds
    served, served_calls = np.unique(calls["model"][current], return_counts=True)
    models = Counter(
        {data.models[int(m)]: int(n) for m, n in zip(served, served_calls, strict=True)}
    )
    return MonitorResult(
        name=config.name,
        verdict=verdict,
        exit_code=VERDICT_EXIT_CODES[verdict],
        alerts=alerts,
        overall=segments[0],
        intents=tuple(segments[1:]),
        drift=drift,
        malformed=MalformedFigures(
            calls_tally.total,
            calls_tally.malformed,
            feedback_tally.total,
            feedback_tally.malformed,
            config.max_malformed_share,
            tuple(calls_tally.examples + feedback_tally.examples),
        ),
        classifier=classifier,
        windows=MonitorWindows(
            bounds.iso("reference_start"),
            bounds.iso("current_start"),
            bounds.iso("end"),
            config.window.total_seconds(),
            config.reference.total_seconds(),
        ),
        models=dict(models.most_common()),
    )


def _drift(
    config: MonitorConfig,
    data: LogData,
    examples: LabelledExamples,
    counts_ref: Mapping[Any, int],
    counts_cur: Mapping[Any, int],
) -> DriftFigures:
    t = config.drift
    cur, ref = data.current_sample, data.reference_sample
    lengths = data.calls["length"]
    return DriftFigures(
        domain=domain_classifier_test(
            ref.texts, cur.texts, alpha=t.auc_alpha or 0.05, seed=config.seed
        ),
        intent_mix=intent_mix_shift(
            {data.intents[int(k)]: int(v) for k, v in counts_ref.items()},
            {data.intents[int(k)]: int(v) for k, v in counts_cur.items()},
        ),
        length=length_shift(lengths[data.reference(data.calls)], lengths[data.current(data.calls)]),
        coverage=coverage(
            examples.canary_texts,
            examples.canary_intents,
            cur.texts,
            cur.intents,
            ref.texts,
            floor=t.coverage_floor,
        ),
    )
