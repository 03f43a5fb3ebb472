"""The canary check end to end: run the suite, compare with the baseline and, when the first
pass is only suspect, confirm on the discordant cases before anyone is paged."""

from __future__ import annotations

import statistics
from dataclasses import replace

from canary_eval.errors import EvaluationError
from canary_eval.models import EvalSet, RunResult
from canary_eval.run.engine import ProgressCallback
from canary_eval.run.runner import RunOptions, run_suite
from canary_eval.suite.config import SuiteConfig
from canary_eval.verdict.compare import Comparison, compare
from canary_eval.verdict.metrics import ops_figures


def evaluate(
    config: SuiteConfig,
    evalset: EvalSet,
    baseline: RunResult,
    options: RunOptions = RunOptions(),
    on_progress: ProgressCallback | None = None,
) -> Comparison:
    run = run_suite(config, evalset, options, on_progress)
    result = compare(run, baseline, config.thresholds, config.quarantine, alerting=config.alerting)
    repeats = config.thresholds.confirm_repeats
    if result.verdict != "suspect" or repeats == 0:
        return result
    discordant = frozenset(
        current.id for current, base in result.pairing.pairs if current.score != base.score
    )
    rerun = run_suite(
        config, evalset, replace(options, repeats=repeats, case_ids=discordant), on_progress
    )
    pooled = pool(run, rerun)
    confirmed = compare(
        pooled, baseline, config.thresholds, config.quarantine, alerting=config.alerting
    )
    note = (
        f"confirmation: {len(discordant)} discordant case(s) re-run {repeats} more time(s); "
        f"verdict on the pooled evidence: {confirmed.verdict}"
    )
    return replace(confirmed, notes=(*confirmed.notes, note))


def pool(run: RunResult, rerun: RunResult) -> RunResult:
    """Each re-run case's score becomes the mean of its first sample and its re-run samples."""
    extra = rerun.by_id()
    cases = []
    for case in run.cases:
        again = extra.get(case.id)
        if again is None or case.score is None:
            cases.append(case)
            continue
        samples = (
            case.score,
            *(again.samples or ([again.score] if again.score is not None else [])),
        )
        cases.append(replace(case, score=statistics.fmean(samples), samples=samples))
    return replace(run, cases=tuple(cases))


def record_baseline(
    config: SuiteConfig,
    evalset: EvalSet,
    options: RunOptions = RunOptions(),
    on_progress: ProgressCallback | None = None,
) -> RunResult:
    """Run the suite for a baseline; a run over the error budget is refused, never saved."""
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
