"""One monitor run: read the logs, aggregate them on the engine, compare the windows, decide.

`run_monitor` returns a `MonitorResult` (verdict, exit code, alerts and every figure overall and
per intent); `canary_eval.monitor.report` turns it into the JSON, terminal, Markdown and HTML
reports. Nothing here prints or exits.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from canary_eval.errors import LogError
from canary_eval.models import VERDICT_EXIT_CODES, Alert, Verdict
from canary_eval.monitor import aggregate, model_change
from canary_eval.monitor.aggregate import SegmentFigures, TextSample, WindowFigures
from canary_eval.monitor.budget import PassBudget, pass_alerts
from canary_eval.monitor.config import MonitorConfig, load_monitor_config
from canary_eval.monitor.coverage import coverage
from canary_eval.monitor.drift import (
    DriftFigures,
    domain_classifier_test,
    intent_mix_shift,
    length_shift,
)
from canary_eval.monitor.engine import Engine, open_engine, queries
from canary_eval.monitor.engine.base import TAG_SCHEMA, load
from canary_eval.monitor.intents import (
    ClassifierReport,
    IntentTagger,
    LabelledExamples,
    load_examples,
    train_intent_classifier,
)
from canary_eval.monitor.readers import Malformed, ShapeOptions, Tally, read_logs

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")


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
    engine: str = "duckdb"
    time_units: Mapping[str, Mapping[str, int]] | None = None  # stream -> unit -> records
    model_change: model_change.ModelChangeFigures | None = None
    current_sample: TextSample | None = None
    budget: PassBudget | None = None


# Up to this many call records, the calls of the analysed span are copied into the engine's
# memory once (about 250 MB a million) rather than read again by every query: at 1,000,000
# records the figures take 0.8 s, not 1.15 s. Larger logs are read in place: at 10,000,000 the
# copy spilled to disk and the monitor took 25 s instead of 17 s.
IN_MEMORY_CALLS = 2_000_000


def run_monitor(
    config_path: Path,
    *,
    until: datetime | None = None,
    stdin: TextIO | None = None,
    engine: str | None = None,
) -> MonitorResult:
    """Run the monitor a config describes; raises ConfigError / LogError (exit 2) on bad input."""
    (result,) = monitor_passes(config_path, [until], stdin=stdin, engine=engine)
    return result


def monitor_passes(
    config_path: Path,
    untils: Sequence[datetime | None],
    *,
    stdin: TextIO | None = None,
    engine: str | None = None,
) -> Iterator[MonitorResult]:
    """One pass for each `until`, as `run_monitor` would run it then, over logs read and loaded
    once: each pass aggregates its own windows, tags, tests and decides (a month of hourly
    passes replays in minutes, not hours)."""
    config = load_monitor_config(Path(config_path))
    if engine is not None:
        config = replace(config, engine=engine)
    examples = load_examples(config.evalset, config.extra_examples)
    # The classifier trains (scikit-learn takes most of a second to import) while the logs are
    # read and loaded: the engine works outside the GIL, on another core.
    training = _in_background(
        train_intent_classifier, examples, min_confidence=config.min_confidence, seed=config.seed
    )
    with tempfile.TemporaryDirectory(prefix="canary-monitor-") as staging:
        options = [
            ShapeOptions(fields, config.status_values, config.latency_unit, config.task_key)
            for fields in (config.call_fields, config.feedback_fields)
        ]
        db = open_engine(config.engine, master=config.spark_master, conf=config.spark_conf)
        try:
            logs = read_logs(
                config.calls,
                config.feedback,
                formats=(config.format, config.feedback_format),
                options=(options[0], options[1]),
                staging=Path(staging),
                stdin=stdin,
                jsonl_in_place=db.reads_jsonl,
            )
            logs.calls_tally.check(config.max_malformed_share)
            logs.feedback_tally.check(config.max_malformed_share)
            load(
                db,
                logs,
                config.pricing,
                statuses=config.status_values,
                latency_unit=config.latency_unit,
            )
            logs.calls_tally.check(config.max_malformed_share)
            logs.feedback_tally.check(config.max_malformed_share)
            in_memory = len(untils) > 1 or logs.calls_tally.total <= IN_MEMORY_CALLS
            if len(untils) > 1:  # checked once for every pass; one pass copies just its span
                db.materialise("calls_all")
                db.materialise("feedback_all")
            classifier, base_report = training.result()
            tagger = IntentTagger(classifier)
            for until in untils:
                if until is not None and until.tzinfo is None:
                    until = until.replace(tzinfo=UTC)
                yield _run(
                    config,
                    db,
                    Path(staging),
                    examples,
                    tagger,
                    base_report,
                    logs.calls_tally,
                    logs.feedback_tally,
                    until,
                    in_memory,
                )
        finally:
            db.close()


def _run(
    config: MonitorConfig,
    db: Engine,
    staging: Path,
    examples: LabelledExamples,
    tagger: IntentTagger,
    base_report: ClassifierReport,
    calls_tally: Tally,
    feedback_tally: Tally,
    until: datetime | None,
    in_memory: bool,
) -> MonitorResult:
    source = ", ".join(config.calls)
    newest_call, newest_feedback, total = db.rows(
        queries.newest(until.timestamp() if until else None)
    )[0]
    if not total:
        raise LogError("no valid call records to monitor", path=source)
    if newest_call is None:  # records exist, but --until is before every one of them
        assert until is not None
        later = f"every call record is later than --until {_iso(until.timestamp())}"
        raise LogError(later, path=source)
    window, span = config.window.total_seconds(), (config.window + config.reference).total_seconds()
    end = until.timestamp() if until else max(newest_call, newest_feedback or newest_call)
    start, middle = end - span, end - window
    untagged = [str(r[0]) for r in db.rows(queries.untagged(start, end))]
    tags = staging / "tags.jsonl"
    with tags.open("w", encoding="utf-8") as out:
        for text, intent in zip(untagged, tagger(untagged, count=False), strict=True):
            out.write(json.dumps({"input": text, "intent": intent}) + "\n")
    db.json_view("tags", str(tags), TAG_SCHEMA)
    windows = [("reference", start, middle), ("current", middle, end)]
    figures = aggregate.aggregate(db, windows, in_memory=in_memory)
    bounds = MonitorWindows(_iso(start), _iso(middle), _iso(end), window, span - window)
    for name, key in (("current", "window"), ("reference", "reference")):
        if not figures.ops_of(name, None).calls:
            frm, to = (
                (bounds.current_start, bounds.end)
                if name == "current"
                else (bounds.reference_start, bounds.current_start)
            )
            raise LogError(
                f"no call records in the {name} window ({frm} to {to}); the logs must "
                "cover the window and the reference period before it",
                path=source,
                key=key,
            )
    classifier = replace(base_report, tagged=figures.tagged[0], other=figures.tagged[1])
    samples = {
        name: aggregate.text_sample(db, name, config.sample_size, config.seed)
        for name in ("current", "reference")
    }
    change = model_change.split_at_change(config, db, figures, start, end, in_memory=in_memory)
    result = _evaluate(
        config, figures, samples, examples, classifier, calls_tally, feedback_tally, bounds
    )
    return replace(
        result,
        engine=db.name,
        time_units={
            "calls": dict(calls_tally.time_units),
            "feedback": dict(feedback_tally.time_units),
        },
        model_change=change,
        current_sample=samples["current"],
    )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _evaluate(
    config: MonitorConfig,
    figures: WindowFigures,
    samples: Mapping[str, TextSample],
    examples: LabelledExamples,
    classifier: ClassifierReport,
    calls_tally: Tally,
    feedback_tally: Tally,
    bounds: MonitorWindows,
) -> MonitorResult:
    counts_cur = figures.intent_calls.get("current", {})
    counts_ref = figures.intent_calls.get("reference", {})
    total_cur = sum(counts_cur.values())
    traffic = {name: n / total_cur for name, n in counts_cur.items()}
    drift = _drift(config, figures, samples, examples, counts_ref, counts_cur)
    cov = drift.coverage

    def segment(name: str | None) -> SegmentFigures:
        canary = uncovered = None
        if cov is not None:
            canary = cov.canary_share.get(name, 0.0) if name is not None else 1.0
            uncovered = cov.per_intent.get(name) if name is not None else cov.uncovered_share
        return SegmentFigures(
            name,
            figures.ops_of("reference", name),
            figures.ops_of("current", name),
            figures.signals_of("reference", name),
            figures.signals_of("current", name),
            traffic.get(name, 0.0) if name is not None else 1.0,
            canary,
            uncovered,
        )

    names = sorted({*counts_cur, *counts_ref})
    segments = [segment(None), *(segment(name) for name in names)]
    pairs_ops = [(s.intent, s.ops_reference, s.ops_current) for s in segments]
    pairs_signals = [(s.intent, s.signals_reference, s.signals_current) for s in segments]
    alerts = pass_alerts(config, pairs_ops, pairs_signals, drift, counts_cur)
    verdict: Verdict = "regression" if any(a.failing for a in alerts) else "pass"
    served = figures.models.get("current", {})
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
        windows=bounds,
        models=dict(sorted(served.items(), key=lambda kv: (-kv[1], kv[0]))),
        budget=PassBudget.of(config),
    )


def _drift(
    config: MonitorConfig,
    figures: WindowFigures,
    samples: Mapping[str, TextSample],
    examples: LabelledExamples,
    counts_ref: Mapping[str, int],
    counts_cur: Mapping[str, int],
) -> DriftFigures:
    t = config.drift
    cur, ref = samples["current"], samples["reference"]
    empty: Any = ((), ())
    return DriftFigures(
        domain=domain_classifier_test(
            ref.texts, cur.texts, alpha=t.auc_alpha or t.alpha or config.alpha, seed=config.seed
        ),
        intent_mix=intent_mix_shift(counts_ref, counts_cur),
        length=length_shift(
            figures.lengths.get("reference", empty), figures.lengths.get("current", empty)
        ),
        coverage=coverage(
            examples.canary_texts,
            examples.canary_intents,
            cur.texts,
            cur.intents,
            ref.texts,
            floor=t.coverage_floor,
        ),
    )


def _in_background(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
    """`fn(*args, **kwargs)` on a thread of its own; its result (or error) is the future's."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="canary-monitor")
    try:
        return pool.submit(fn, *args, **kwargs)
    finally:
        pool.shutdown(wait=False)
