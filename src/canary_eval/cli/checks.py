"""The canary itself: validate a suite, record a baseline, run and compare, re-score."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from canary_eval.cli import command
from canary_eval.cli.common import (
    BaselineOpt,
    ConcurrencyOpt,
    DeadlineOpt,
    HtmlOpt,
    JsonOpt,
    JunitOpt,
    MarkdownOpt,
    OutputFormatOpt,
    OutputOpt,
    PrometheusOpt,
    QuietOpt,
    RepeatOpt,
    RunFileArg,
    SaveRunOpt,
    SetOpt,
    SuiteArg,
    load_baseline,
    load_suite,
    make_console,
    output_paths,
    progress_bar,
    run_options,
    saving_partial,
    warn_failed,
)

if TYPE_CHECKING:
    from canary_eval.verdict.compare import Comparison


@command
def validate(suite: SuiteArg, set_: SetOpt = None) -> None:
    """Check the config, eval set, prompt slots and scorers without calling any model."""
    from collections import Counter

    from canary_eval.cli.limits import limits_section
    from canary_eval.verdict.policy import Policy

    config, evalset = load_suite(suite, check=True, overrides=set_)
    intents = sorted({c.intent or "(none)" for c in evalset.cases})
    typer.echo(
        f"ok: {config.suite}: {len(evalset.cases)} cases, {len(intents)} intents "
        f"({', '.join(intents)}), {len(config.scorers)} default scorer(s)"
    )
    prompt = config.prompt
    if prompt.messages or prompt.tools:
        source = f" from {prompt.file}" if prompt.file else ""
        tools = ", ".join(t["function"]["name"] for t in prompt.tools) or "none"
        conversations = sum(bool(c.messages) for c in evalset.cases)
        looped = sum(bool(c.tool_results) for c in evalset.cases)
        typer.echo(
            f"prompt: {len(prompt.turns)} messages{source}; tools: {tools}; "
            f"{conversations} conversation case(s), {looped} with tool results"
        )
    custom = sorted({s.type for s in config.scorers if ":" in s.type})
    if custom:
        typer.echo(f"custom scorers imported (allow_custom_scorers: true): {', '.join(custom)}")
    typer.echo("gates (severity: page decides exit 1, warn and info are reported):")
    for gate, setting, severity in Policy(config.thresholds, config.alerting).effective():
        typer.echo(f"  {severity:<5} {gate.name:<28} {setting:<26} {gate.what}")
    for line in limits_section(config, Counter(c.intent or "(none)" for c in evalset.cases)):
        typer.echo(line)


@command
def baseline(
    suite: SuiteArg,
    repeat: RepeatOpt = 1,
    concurrency: ConcurrencyOpt = None,
    deadline: DeadlineOpt = None,
    output: Annotated[
        Path | None,
        typer.Option("--baseline", "--output", "-o", help="Where to save (overrides the config)."),
    ] = None,
    set_: SetOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Run the suite and save the result as its baseline.

    Record it once, when quality is known to be good, to a path you commit (for CI:
    `canary baseline configs/bot.yaml --baseline baselines/bot.json`, then `git add` it and
    point the config's `baseline:` or `canary run --baseline` at it).
    """
    from collections import Counter

    from canary_eval.cli.limits import limits_section
    from canary_eval.pipeline import record_baseline
    from canary_eval.store.baseline import save_run
    from canary_eval.verdict.metrics import ops_figures, served_model

    config, evalset = load_suite(suite, check=True, overrides=set_)
    with progress_bar(not quiet, "baseline") as progress, saving_partial(config, None):
        run = record_baseline(
            config, evalset, run_options(repeat, concurrency, deadline, quiet=quiet), progress
        )
    path = output or config.baseline_path
    save_run(path, run)
    if path == config.baseline_path:  # numpy is loaded: state the limits for `validate` now
        limits_section(config, Counter(c.intent or "(none)" for c in evalset.cases))
    scored = [c.score for c in run.cases if c.score is not None]
    mean = sum(scored) / len(scored) if scored else float("nan")
    ops = ops_figures(run)
    typer.echo(
        f"baseline saved: {path} ({len(run.cases)} cases x {repeat}, mean score {mean:.3f}, "
        f"served model {served_model(run)}, error rate {ops.error_rate:.1%})"
    )


@command
def run(
    suite: SuiteArg,
    baseline: BaselineOpt = None,
    json_path: JsonOpt = None,
    junit: JunitOpt = None,
    markdown: MarkdownOpt = None,
    html: HtmlOpt = None,
    prometheus: PrometheusOpt = None,
    output: OutputOpt = None,
    output_format: OutputFormatOpt = None,
    save_run: SaveRunOpt = None,
    concurrency: ConcurrencyOpt = None,
    repeat: RepeatOpt = 1,
    deadline: DeadlineOpt = None,
    if_model_changed: Annotated[
        bool,
        typer.Option(
            "--if-model-changed", help="Run only when the served model differs from the last run."
        ),
    ] = False,
    set_: SetOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Run the suite, compare with its baseline, report, and exit with the verdict's code."""
    from canary_eval.pipeline import evaluate
    from canary_eval.reports.writers import ReportPaths

    given = {"json": json_path, "junit": junit, "markdown": markdown, "html": html}
    paths = ReportPaths(**output_paths({**given, "prometheus": prometheus}, output, output_format))
    config, evalset = load_suite(suite, check=True, overrides=set_)
    # The baseline is checked before any model is called: a missing one costs nothing.
    reference = load_baseline(suite, config, baseline)
    if if_model_changed and not model_changed(config, reference, err=paths.to_stdout):
        return
    with progress_bar(not quiet, "canary") as progress, saving_partial(config, save_run):
        comparison = evaluate(
            config,
            evalset,
            reference,
            run_options(repeat, concurrency, deadline, quiet=quiet),
            progress,
        )
    _report(comparison, config, paths, quiet, record=True, warnings=_saved(save_run, comparison))


def model_changed(config: Any, reference: Any, *, err: bool = False) -> bool:
    """Ask the endpoint which model it serves; True when it differs from the last one seen
    (the last probe, else the last run, else the baseline)."""
    from canary_eval.run.probe import served_model_probe
    from canary_eval.store import history
    from canary_eval.verdict.metrics import served_model

    served = served_model_probe(config.provider)
    last = (
        history.last_checked_model(config.history_path, config.suite)
        or history.last_served_model(config.history_path, config.suite)
        or served_model(reference)
    )
    history.record_model_check(config.history_path, config.suite, served)
    if served is not None and served == last:
        typer.echo(f"served model unchanged ({served}): nothing to run", err=err)
        return False
    typer.echo(
        f"served model: {last or 'none recorded'} -> {served or 'unknown'}: running", err=err
    )
    return True


@command
def compare(
    run_file: RunFileArg,
    baseline_file: Annotated[Path, typer.Argument(help="The baseline to compare with.")],
    suite: Annotated[
        Path | None, typer.Option("--config", help="Suite config for thresholds.")
    ] = None,
    json_path: JsonOpt = None,
    junit: JunitOpt = None,
    markdown: MarkdownOpt = None,
    html: HtmlOpt = None,
    output: OutputOpt = None,
    output_format: OutputFormatOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Compare two saved runs with no model calls."""
    from canary_eval.reports.writers import ReportPaths
    from canary_eval.store.baseline import load_run
    from canary_eval.suite.config import Alerting, Thresholds, load_config
    from canary_eval.verdict.compare import compare as compare_runs

    given = {"json": json_path, "junit": junit, "markdown": markdown, "html": html}
    paths = ReportPaths(**output_paths(given, output, output_format, _SAVED_FORMATS))
    config = load_config(suite) if suite else None
    current = load_run(run_file, what="run")
    reference = load_run(baseline_file, suite=current.info.suite)
    thresholds = config.thresholds if config else Thresholds()
    quarantine = config.quarantine if config else frozenset()
    alerting = config.alerting if config else Alerting()
    comparison = compare_runs(current, reference, thresholds, quarantine, alerting=alerting)
    _report(comparison, config, paths, quiet)


_SAVED_FORMATS = ("json", "junit", "markdown", "html")


@command
def rescore(
    run_file: RunFileArg,
    suite: SuiteArg,
    baseline: BaselineOpt = None,
    json_path: JsonOpt = None,
    junit: JunitOpt = None,
    markdown: MarkdownOpt = None,
    html: HtmlOpt = None,
    output: OutputOpt = None,
    output_format: OutputFormatOpt = None,
    save_run: SaveRunOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Re-score a saved run with the suite's current scorers and compare it; no model calls."""
    from canary_eval.reports.writers import ReportPaths
    from canary_eval.run.runner import rescore as rescore_run
    from canary_eval.store.baseline import load_run
    from canary_eval.verdict.compare import compare as compare_runs

    given = {"json": json_path, "junit": junit, "markdown": markdown, "html": html}
    paths = ReportPaths(**output_paths(given, output, output_format, _SAVED_FORMATS))
    config, evalset = load_suite(suite)
    reference = load_run(baseline or config.baseline_path, suite=config.suite)
    current = rescore_run(config, evalset, load_run(run_file, suite=config.suite, what="run"))
    if reference.info.scorers_hash != current.info.scorers_hash:
        # Scores from different scorers do not compare: the baseline is re-scored the same way.
        reference = rescore_run(config, evalset, reference)
    comparison = compare_runs(
        current, reference, config.thresholds, config.quarantine, alerting=config.alerting
    )
    _report(comparison, config, paths, quiet, warnings=_saved(save_run, comparison))


def _saved(path: Path | None, comparison: Comparison) -> list[str]:
    """Save the run with `--save-run`; a failure is a warning, the verdict still gets out."""
    from canary_eval.errors import OutputError
    from canary_eval.store.baseline import save_run

    if path is None:
        return []
    try:
        save_run(path, comparison.run)
    except OutputError as error:
        return [str(error)]
    return []


def _report(
    comparison: Comparison,
    config: Any,
    paths: Any,
    quiet: bool,
    *,
    record: bool = False,
    warnings: list[str] | None = None,
) -> None:
    publish_report(comparison, config, paths, quiet=quiet, record=record, warnings=warnings or [])
    raise typer.Exit(comparison.exit_code)


def publish_report(
    comparison: Comparison,
    config: Any,
    paths: Any,
    *,
    quiet: bool,
    record: bool,
    warnings: list[str] | None = None,
) -> None:
    """Show the report, write the files, tell CI and the alert channels. Whatever cannot be
    saved is a warning on stderr; the verdict's exit code stands."""
    from canary_eval.redaction import redact
    from canary_eval.reports.writers import write_reports

    # With a report on stdout (`--json -`) the person's lines go to stderr.
    err = paths.to_stdout
    if quiet:
        _echo_verdict(comparison, err)
    else:
        from canary_eval.reports.terminal import render

        render(comparison, make_console(stderr=err))
    problems = list(warnings or [])
    if config is None:
        problems += write_reports(comparison, paths).failures
    else:
        from canary_eval.publish import publish

        published = publish(
            comparison, config, paths, record=record, notify=record, warnings=problems
        )
        problems = published.warnings
        _tell(published, err)
    for problem in problems:
        typer.echo(redact(f"warning: not saved: {problem}"), err=True)


def _echo_verdict(comparison: Comparison, err: bool) -> None:
    """`--quiet`'s report, with the verdict's colour on a terminal unless NO_COLOR is set."""
    import os

    from canary_eval.reports.quiet import VERDICT_COLOURS, failure_notes, verdict_details

    verdict = comparison.verdict
    word = typer.style(verdict.upper(), fg=VERDICT_COLOURS[verdict], bold=True)
    colour = False if os.environ.get("NO_COLOR") else None  # None: on a terminal only
    typer.echo(f"{word}  {verdict_details(comparison)}", err=err, color=colour)
    for line in failure_notes(comparison):
        typer.echo(line, err=err)


def _tell(published: Any, err: bool) -> None:
    from canary_eval.redaction import redact

    for line in published.annotations:
        typer.echo(redact(line), err=err)
    warn_failed(published.deliveries)
