"""The `canary` command line: the only place that talks to the person and turns errors and
verdicts into exit codes (0 pass, 1 regression, 2 bad input, 3 could not evaluate, 130 Ctrl-C).

Imports of the core happen inside the commands, so `canary --help` starts fast.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec

import typer

from canary_eval.errors import CanaryError

if TYPE_CHECKING:
    from rich.console import Console

    from canary_eval.compare import Comparison
    from canary_eval.engine import Progress
    from canary_eval.runner import RunOptions

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Canary evals for production LLM features: catch silent regressions before users do.",
)
_state = {"debug": False}
P = ParamSpec("P")

SuiteArg = Annotated[Path, typer.Argument(help="Suite config (YAML).", show_default=False)]
ConcurrencyOpt = Annotated[
    int | None, typer.Option("--concurrency", min=1, help="Parallel calls (overrides the config).")
]
RepeatOpt = Annotated[int, typer.Option("--repeat", min=1, help="Run every case N times.")]
DeadlineOpt = Annotated[
    float | None,
    typer.Option("--deadline", min=0.1, help="Seconds for the whole run; unfinished cases error."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the verdict line.")]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the JSON report here.")]


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    _state["debug"] = debug


def main() -> None:
    """Console-script entry point."""
    app()


def command(fn: Callable[P, None]) -> Callable[P, None]:
    """Register a command whose errors become one line on stderr and the error's exit code."""

    @functools.wraps(fn)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            fn(*args, **kwargs)
        except CanaryError as error:
            _fail(error, error.exit_code)
        except KeyboardInterrupt as error:
            _fail(error, 130, "interrupted")

    app.command()(guarded)
    return guarded


def _fail(error: BaseException, code: int, message: str | None = None) -> None:
    if _state["debug"]:
        import traceback

        traceback.print_exception(error)
    typer.echo(f"error: {message or error}", err=True)
    raise typer.Exit(code)


def _console(quiet: bool = False) -> Console:
    from rich.console import Console

    return Console(highlight=False, quiet=False, soft_wrap=quiet)


@contextmanager
def _progress(enabled: bool, label: str) -> Iterator[Callable[[Progress], None] | None]:
    """A live progress bar on a terminal; nothing in cron logs or with --quiet."""
    from rich.console import Console

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    with Bar(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def update(p: Progress) -> None:
            bar.update(
                task,
                total=p.total,
                completed=p.done,
                description=f"errors {p.errors}  retries {p.retries}  "
                f"429s {p.rate_limited}  concurrency {p.concurrency}",
            )

        yield update


@contextmanager
def _saving_partial(config: Any, path: Path | None) -> Iterator[None]:
    """On Ctrl-C, save the cases that finished (never as the baseline), then exit 130."""
    from canary_eval.baseline import save_run
    from canary_eval.errors import Interrupted
    from canary_eval.models import RunResult

    try:
        yield
    except Interrupted as stop:
        if isinstance(stop.partial, RunResult) and stop.partial.cases:
            target = path or config.baseline_path.with_name(f"{config.suite}.interrupted.json")
            save_run(target, stop.partial)
            stop.message += f"; saved to {target}"
        raise


def _options(repeat: int, concurrency: int | None, deadline: float | None) -> RunOptions:
    from canary_eval.runner import RunOptions

    return RunOptions(repeats=repeat, concurrency=concurrency, deadline_s=deadline)


def _load(suite: Path) -> tuple[Any, Any]:
    from canary_eval.config import load_config
    from canary_eval.evalset import load_evalset

    config = load_config(suite)
    return config, load_evalset(config.evalset_path)


@command
def validate(suite: SuiteArg) -> None:
    """Check the config, eval set, prompt slots and scorers without calling any model."""
    from canary_eval.runner import check_suite

    config, evalset = _load(suite)
    check_suite(config, evalset)
    intents = sorted({c.intent or "(none)" for c in evalset.cases})
    print(
        f"ok: {config.suite}: {len(evalset.cases)} cases, {len(intents)} intents "
        f"({', '.join(intents)}), {len(config.scorers)} default scorer(s)"
    )


@command
def baseline(
    suite: SuiteArg,
    repeat: RepeatOpt = 1,
    concurrency: ConcurrencyOpt = None,
    deadline: DeadlineOpt = None,
    output: Annotated[
        Path | None,
        typer.Option("--baseline", "--output", help="Where to save (overrides the config)."),
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Run the suite and save the result as its baseline."""
    from canary_eval.baseline import save_run
    from canary_eval.metrics import ops_figures, served_model
    from canary_eval.pipeline import record_baseline
    from canary_eval.runner import check_suite

    config, evalset = _load(suite)
    check_suite(config, evalset)
    with _progress(not quiet, "baseline") as progress, _saving_partial(config, None):
        run = record_baseline(config, evalset, _options(repeat, concurrency, deadline), progress)
    path = output or config.baseline_path
    save_run(path, run)
    scored = [c.score for c in run.cases if c.score is not None]
    mean = sum(scored) / len(scored) if scored else float("nan")
    ops = ops_figures(run)
    print(
        f"baseline saved: {path} ({len(run.cases)} cases x {repeat}, mean score {mean:.3f}, "
        f"served model {served_model(run)}, error rate {ops.error_rate:.1%})"
    )


@command
def run(
    suite: SuiteArg,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Baseline file (overrides the config).")
    ] = None,
    json_path: JsonOpt = None,
    save_run: Annotated[
        Path | None, typer.Option("--save-run", help="Also save this run (baseline format).")
    ] = None,
    concurrency: ConcurrencyOpt = None,
    repeat: RepeatOpt = 1,
    deadline: DeadlineOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Run the suite, compare with its baseline, report, and exit with the verdict's code."""
    from canary_eval.baseline import load_run
    from canary_eval.baseline import save_run as save
    from canary_eval.pipeline import evaluate
    from canary_eval.runner import check_suite

    config, evalset = _load(suite)
    check_suite(config, evalset)
    # The baseline is checked before any model is called: a missing one costs nothing.
    reference = load_run(baseline or config.baseline_path, suite=config.suite)
    with _progress(not quiet, "canary") as progress, _saving_partial(config, save_run):
        comparison = evaluate(
            config, evalset, reference, _options(repeat, concurrency, deadline), progress
        )
    if save_run:
        save(save_run, comparison.run)
    _report(comparison, json_path, quiet)


@command
def compare(
    run_file: Annotated[Path, typer.Argument(help="A saved run (--save-run) or baseline.")],
    baseline_file: Annotated[Path, typer.Argument(help="The baseline to compare with.")],
    suite: Annotated[
        Path | None, typer.Option("--config", help="Suite config for thresholds.")
    ] = None,
    json_path: JsonOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Compare two saved runs with no model calls."""
    from canary_eval.baseline import load_run
    from canary_eval.compare import compare as compare_runs
    from canary_eval.config import Thresholds, load_config

    config = load_config(suite) if suite else None
    current = load_run(run_file, what="run")
    reference = load_run(baseline_file, suite=current.info.suite)
    thresholds = config.thresholds if config else Thresholds()
    quarantine = config.quarantine if config else frozenset()
    _report(compare_runs(current, reference, thresholds, quarantine), json_path, quiet)


@command
def rescore(
    run_file: Annotated[Path, typer.Argument(help="A saved run (--save-run) or baseline.")],
    suite: SuiteArg,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Baseline file (overrides the config).")
    ] = None,
    json_path: JsonOpt = None,
    save_run: Annotated[
        Path | None, typer.Option("--save-run", help="Save the re-scored run here.")
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Re-score a saved run with the suite's current scorers and compare it; no model calls."""
    from canary_eval.baseline import load_run
    from canary_eval.baseline import save_run as save
    from canary_eval.compare import compare as compare_runs
    from canary_eval.runner import rescore as rescore_run

    config, evalset = _load(suite)
    reference = load_run(baseline or config.baseline_path, suite=config.suite)
    current = rescore_run(config, evalset, load_run(run_file, suite=config.suite, what="run"))
    if reference.info.scorers_hash != current.info.scorers_hash:
        # Scores from different scorers do not compare: the baseline is re-scored the same way.
        reference = rescore_run(config, evalset, reference)
    if save_run:
        save(save_run, current)
    _report(
        compare_runs(current, reference, config.thresholds, config.quarantine), json_path, quiet
    )


def _report(comparison: Comparison, json_path: Path | None, quiet: bool) -> None:
    from canary_eval.reports.json import write_json
    from canary_eval.reports.terminal import render

    render(comparison, _console(quiet), quiet=quiet)
    if json_path:
        write_json(comparison, json_path)
    raise typer.Exit(comparison.exit_code)
