"""The canary check end to end: run the suite, re-run any critical case that failed where the
baseline passed, compare with the baseline under the history's calibration and, when
configured, confirm a page on a whole re-run before anyone is paged.

Only what sends the calls is imported with this module: the verdict and the history are
imported where they are used, after the calls (while they are in flight, `RunOptions`'s
`warm_imports` loads them on another thread), so nothing delays the first request.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from canary_eval.errors import EvaluationError, OutputError
from canary_eval.models import EvalSet, RunResult
from canary_eval.run.engine import ProgressCallback
from canary_eval.run.runner import RunOptions, run_suite
from canary_eval.suite.config import SuiteConfig

if TYPE_CHECKING:
    from canary_eval.verdict.calibration import PastRun
    from canary_eval.verdict.compare import Comparison
    from canary_eval.verdict.critical import CriticalFlip


def evaluate(
    config: SuiteConfig,
    evalset: EvalSet,
    baseline: RunResult,
    options: RunOptions = RunOptions(),
    on_progress: ProgressCallback | None = None,
) -> Comparison:
    """Run the suite and decide against the baseline, calibrated by the suite's history.

    With `confirm_repeats: K`, a run that would page is re-run whole K more times and decided
    again on every case's mean: all cases are pooled alike, and the alarms standardise the
    pooled change for K + 1 runs, so confirmation neither biases the score nor loosens the
    calibration."""
    run = run_suite(config, evalset, options, on_progress)
    from canary_eval.store.history import past_runs

    try:
        past = past_runs(config.history_path, config.suite)
    except OutputError as error:
        # An unusable history costs the calibration, never the verdict (publish warns of it).
        past, lost = [], f"calibration without history: {error.message}"
    else:
        lost = ""
    critical = _critical(config, evalset, run, baseline, options, on_progress)
    result = _decide(run, baseline, config, past, critical)
    if lost:
        result = replace(result, notes=(*result.notes, lost))
    repeats = config.thresholds.confirm_repeats
    # A critical case's page was confirmed on its own re-runs already.
    unconfirmed = ("error_budget", "critical_case")
    pages = [a for a in result.alerts if a.failing and a.metric not in unconfirmed]
    if not pages or repeats == 0 or result.verdict == "error":
        return result
    rerun = run_suite(config, evalset, replace(options, repeats=repeats), on_progress)
    confirmed = _decide(pool(run, rerun), baseline, config, past, critical)
    note = (
        f"confirmation: {len(pages)} paging alert(s); every case re-run {repeats} more "
        f"time(s); verdict on the pooled evidence: {confirmed.verdict}"
    )
    return replace(confirmed, notes=(*confirmed.notes, note))


def _critical(
    config: SuiteConfig,
    evalset: EvalSet,
    run: RunResult,
    baseline: RunResult,
    options: RunOptions,
    on_progress: ProgressCallback | None,
) -> tuple[CriticalFlip, ...]:
    """The critical cases that failed where the baseline passed, each re-run through the same
    run path (fresh calls, fresh noise) until it has the calls a majority vote needs."""
    from canary_eval.verdict.compare import pair
    from canary_eval.verdict.critical import confirm, critical_flips

    marked = frozenset(c.id for c in evalset.cases if c.critical)
    if not marked:
        return ()
    flips = critical_flips(pair(run, baseline, config.quarantine).pairs, marked)
    short = [f for f in flips if f.reruns_needed]
    if not short:  # none, or `--repeat 3` already made the calls
        return flips
    again = replace(
        options,
        repeats=max(f.reruns_needed for f in short),
        case_ids=frozenset(f.case_id for f in short),
    )
    return confirm(flips, run_suite(config, evalset, again, on_progress).cases)


def _decide(
    run: RunResult,
    baseline: RunResult,
    config: SuiteConfig,
    past: Sequence[PastRun],
    critical: Sequence[CriticalFlip] = (),
) -> Comparison:
    from canary_eval.verdict.compare import compare

    return compare(
        run,
        baseline,
        config.thresholds,
        config.quarantine,
        alerting=config.alerting,
        past=past,
        critical=critical,
    )


def pool(run: RunResult, rerun: RunResult) -> RunResult:
    """Every case's score becomes the mean of its first sample and its re-run samples; a case
    that failed either time keeps its first result."""
    extra = rerun.by_id()
    cases = []
    for case in run.cases:
        again = extra.get(case.id)
        if again is None or case.score is None or again.score is None:
            cases.append(case)
            continue
        samples = (case.score, *(again.samples or (again.score,)))
        cases.append(replace(case, score=statistics.fmean(samples), samples=samples))
    return replace(run, cases=tuple(cases))


def record_baseline(
    config: SuiteConfig,
    evalset: EvalSet,
    options: RunOptions = RunOptions(),
    on_progress: ProgressCallback | None = None,
) -> RunResult:
    """Run the suite for a baseline; a run over the error budget is refused, never saved."""
    from canary_eval.verdict.metrics import ops_figures

    run = run_suite(config, evalset, options, on_progress)
    ops = ops_figures(run)
    if ops.error_rate > config.thresholds.max_error_rate:
        kinds = ", ".join(f"{k} {v}" for k, v in ops.errors_by_kind.items())
        raise EvaluationError(
            f"{ops.error_rate:.0%} of calls failed ({kinds}), above max_error_rate "
            f"{config.thresholds.max_error_rate:.0%}: no baseline written",
            path=config.path,
        )
    return run
