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

SuiteArg = Annotated[Path, typer.Argument(help="Suite config (YAML).", metavar="SUITE.yaml")]
ConcurrencyOpt = Annotated[
    int | None, typer.Option("--concurrency", min=1, help="Parallel calls (overrides the config).")
]
RepeatOpt = Annotated[int, typer.Option("--repeat", min=1, help="Run every case N times.")]
DeadlineOpt = Annotated[
    float | None,
    typer.Option("--deadline", min=0.1, help="Seconds for the whole run; unfinished cases error."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the verdict line.")]
BaselineOpt = Annotated[
    Path | None, typer.Option("--baseline", help="Baseline file (overrides the config).")
]
SaveRunOpt = Annotated[
    Path | None, typer.Option("--save-run", help="Also save the run here (baseline format).")
]
RunFileArg = Annotated[Path, typer.Argument(help="A saved run (--save-run) or baseline.")]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the JSON report here.")]
JunitOpt = Annotated[Path | None, typer.Option("--junit", help="Write a JUnit XML report here.")]
MarkdownOpt = Annotated[
    Path | None, typer.Option("--markdown", help="Write a Markdown report here.")
]
HtmlOpt = Annotated[
    Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")
]
PrometheusOpt = Annotated[
    Path | None,
    typer.Option("--prometheus", help="Write metrics in the node_exporter textfile format."),
]


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


def _load(suite: Path, *, check: bool = False) -> tuple[Any, Any]:
    """Config and eval set; with `check`, everything `validate` checks, before any model call."""
    from canary_eval.config import load_config
    from canary_eval.evalset import load_evalset
    from canary_eval.notify.config import parse_alerts_config
    from canary_eval.runner import check_suite

    config = load_config(suite)
    evalset = load_evalset(config.evalset_path)
    if check:
        check_suite(config, evalset)
        parse_alerts_config(config.alerts, config.path, config.line_of)
    return config, evalset


@command
def validate(suite: SuiteArg) -> None:
    """Check the config, eval set, prompt slots and scorers without calling any model."""
    config, evalset = _load(suite, check=True)
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

    config, evalset = _load(suite, check=True)
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
    baseline: BaselineOpt = None,
    json_path: JsonOpt = None,
    junit: JunitOpt = None,
    markdown: MarkdownOpt = None,
    html: HtmlOpt = None,
    prometheus: PrometheusOpt = None,
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
    quiet: QuietOpt = False,
) -> None:
    """Run the suite, compare with its baseline, report, and exit with the verdict's code."""
    from canary_eval.baseline import load_run
    from canary_eval.baseline import save_run as save
    from canary_eval.pipeline import evaluate
    from canary_eval.reports.writers import ReportPaths

    config, evalset = _load(suite, check=True)
    # The baseline is checked before any model is called: a missing one costs nothing.
    reference = load_run(baseline or config.baseline_path, suite=config.suite)
    if if_model_changed and not _model_changed(config, reference):
        return
    with _progress(not quiet, "canary") as progress, _saving_partial(config, save_run):
        comparison = evaluate(
            config, evalset, reference, _options(repeat, concurrency, deadline), progress
        )
    if save_run:
        save(save_run, comparison.run)
    paths = ReportPaths(json_path, junit, markdown, html, prometheus)
    _report(comparison, config, paths, quiet, record=True)


def _model_changed(config: Any, reference: Any) -> bool:
    """Ask the endpoint which model it serves; True when it differs from the last one seen
    (the last probe, else the last run, else the baseline)."""
    from canary_eval import history
    from canary_eval.metrics import served_model
    from canary_eval.probe import served_model_probe

    served = served_model_probe(config.provider)
    last = (
        history.last_checked_model(config.history_path, config.suite)
        or history.last_served_model(config.history_path, config.suite)
        or served_model(reference)
    )
    history.record_model_check(config.history_path, config.suite, served)
    if served is not None and served == last:
        typer.echo(f"served model unchanged ({served}): nothing to run")
        return False
    typer.echo(f"served model: {last or 'none recorded'} -> {served or 'unknown'}: running")
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
    quiet: QuietOpt = False,
) -> None:
    """Compare two saved runs with no model calls."""
    from canary_eval.baseline import load_run
    from canary_eval.compare import compare as compare_runs
    from canary_eval.config import Thresholds, load_config
    from canary_eval.reports.writers import ReportPaths

    config = load_config(suite) if suite else None
    current = load_run(run_file, what="run")
    reference = load_run(baseline_file, suite=current.info.suite)
    thresholds = config.thresholds if config else Thresholds()
    quarantine = config.quarantine if config else frozenset()
    comparison = compare_runs(current, reference, thresholds, quarantine)
    _report(comparison, config, ReportPaths(json_path, junit, markdown, html), quiet)


@command
def rescore(
    run_file: RunFileArg,
    suite: SuiteArg,
    baseline: BaselineOpt = None,
    json_path: JsonOpt = None,
    junit: JunitOpt = None,
    markdown: MarkdownOpt = None,
    html: HtmlOpt = None,
    save_run: SaveRunOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Re-score a saved run with the suite's current scorers and compare it; no model calls."""
    from canary_eval.baseline import load_run
    from canary_eval.baseline import save_run as save
    from canary_eval.compare import compare as compare_runs
    from canary_eval.reports.writers import ReportPaths
    from canary_eval.runner import rescore as rescore_run

    config, evalset = _load(suite)
    reference = load_run(baseline or config.baseline_path, suite=config.suite)
    current = rescore_run(config, evalset, load_run(run_file, suite=config.suite, what="run"))
    if reference.info.scorers_hash != current.info.scorers_hash:
        # Scores from different scorers do not compare: the baseline is re-scored the same way.
        reference = rescore_run(config, evalset, reference)
    if save_run:
        save(save_run, current)
    comparison = compare_runs(current, reference, config.thresholds, config.quarantine)
    _report(comparison, config, ReportPaths(json_path, junit, markdown, html), quiet)


@command
def history(
    suite: SuiteArg,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many runs to show.")] = 30,
) -> None:
    """Show the suite's trend: verdicts, scores, latency and served-model changes."""
    from canary_eval import history as store
    from canary_eval.config import load_config

    config = load_config(suite)
    rows = store.recent(config.history_path, config.suite, limit)
    if not rows:
        typer.echo(f"no runs recorded yet in {config.history_path}")
        return
    store.render_history(rows, _console())


@command
def watch(
    suite: SuiteArg,
    interval: Annotated[
        str, typer.Option("--interval", help="How often to ask: 90s, 15m, 1h.")
    ] = "15m",
    json_path: JsonOpt = None,
    html: HtmlOpt = None,
    max_checks: Annotated[
        int | None, typer.Option("--max-checks", min=1, help="Stop after N checks (for tests).")
    ] = None,
) -> None:
    """Ask the endpoint which model it serves every interval; run the suite when it changes."""
    import time

    from canary_eval.baseline import load_run
    from canary_eval.pipeline import evaluate
    from canary_eval.reports.writers import ReportPaths

    seconds = _duration(interval)
    config, evalset = _load(suite, check=True)
    reference = load_run(config.baseline_path, suite=config.suite)
    checks = 0
    while max_checks is None or checks < max_checks:
        checks += 1
        if _model_changed(config, reference):
            comparison = evaluate(config, evalset, reference)
            _publish(
                comparison, config, ReportPaths(json=json_path, html=html), quiet=False, record=True
            )
        if max_checks is None or checks < max_checks:
            time.sleep(seconds)


def _duration(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        if text[-1:] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text)
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not a duration like 90s, 15m or 1h") from None


@command
def simulate(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1.")
    ] = 8787,
    model_version: Annotated[
        str, typer.Option("--model-version", help="stable, drifted, outage or verbose.")
    ] = "stable",
    fault: Annotated[
        list[str] | None,
        typer.Option("--fault", help="rpm=120, error_rate=0.2, script=429*3@0.1,ok, ... (repeat)"),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for the model's decisions.")] = 0,
    noise: Annotated[float, typer.Option("--noise", min=0, max=1, help="Per-request flips.")] = 0.0,
    latency_scale: Annotated[float, typer.Option("--latency-scale", min=0)] = 1.0,
    logs: Annotated[
        Path | None,
        typer.Option("--logs", help="Instead of serving, write a week of production logs here."),
    ] = None,
    drift: Annotated[
        bool, typer.Option("--drift", help="With --logs: drift in the last 24 hours.")
    ] = False,
) -> None:
    """Serve the OpenAI-compatible vendor simulator on 127.0.0.1 until interrupted."""
    from canary_eval.simulator import (
        VERSIONS,
        SimulatorConfig,
        serve_forever,
        write_production_logs,
    )

    if logs is not None:
        calls, feedback = write_production_logs(logs, drift=drift, seed=seed)
        typer.echo(f"wrote {calls} and {feedback}")
        return

    config = SimulatorConfig(
        version=model_version, seed=seed, noise=noise, latency_scale=latency_scale
    ).with_faults(fault or [])

    def ready(sim: Any) -> None:
        typer.echo(f"simulator serving '{model_version}' ({VERSIONS[model_version]})")
        typer.echo(f"  base_url: {sim.base_url}    (Ctrl-C to stop)")
        typer.echo(f"  try: CANARY_BASE_URL={sim.base_url} canary run configs/support-bot.yaml")

    try:
        serve_forever(config, port, on_ready=ready)
    except KeyboardInterrupt:
        typer.echo("simulator stopped")
    except OSError as error:
        raise typer.BadParameter(f"cannot serve on 127.0.0.1:{port}: {error.strerror}") from None


@command
def demo(
    output: Annotated[
        Path, typer.Option("--output", help="Where the demo writes its suite and reports.")
    ] = Path("canary-demo"),
    keep_server: Annotated[
        bool, typer.Option("--keep-server", help="Leave the simulator up to try by hand.")
    ] = False,
    latency_scale: Annotated[
        float, typer.Option("--latency-scale", min=0, help="Multiply the simulated latency.")
    ] = 0.25,
) -> None:
    """The whole story offline: baseline, a silent vendor update, the regression caught."""
    from canary_eval.demo import run_demo

    console = _console()

    def hold(sim: Any, suite: Path) -> None:
        console.print(f"\nThe simulator stays up on {sim.base_url}, serving 'stable'. Try:")
        console.print(f"  export CANARY_BASE_URL={sim.base_url} SUPPORT_BOT_API_KEY=demo")
        console.print(f"  canary run {suite}                  # stable: exit 0")
        console.print(f'  curl -s -XPOST {sim.url}/admin/version -d \'{{"version": "drifted"}}\'')
        console.print(f"  canary run {suite} --html report.html   # drifted: exit 1")
        console.print("Ctrl-C to stop.")
        try:
            import threading

            threading.Event().wait()
        except KeyboardInterrupt:
            console.print("simulator stopped")

    outcome = run_demo(
        output,
        console,
        latency_scale=latency_scale,
        progress=lambda label: _progress(True, label),
        on_server=hold if keep_server else None,
    )
    c = outcome.comparison
    console.print()
    console.print(
        f"Reports written to [bold]{outcome.reports}[/]: "
        + ", ".join(p.name for p in sorted(outcome.reports.iterdir()))
    )
    console.print(
        f"In cron, `canary run` would have exited [bold]{c.exit_code}[/] ({c.verdict}); "
        f"`canary monitor` would have exited [bold]{outcome.monitor_exit_code}[/]."
    )
    if not outcome.as_designed:
        console.print("[red]The demo did not catch the drift as designed.[/]")
        raise typer.Exit(1)


@command
def monitor(
    config_path: Annotated[Path, typer.Argument(help="Monitor config (YAML).")],
    json_path: JsonOpt = None,
    markdown: MarkdownOpt = None,
    html: HtmlOpt = None,
    until: Annotated[
        str | None, typer.Option("--until", help="End of the current window (ISO 8601).")
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Operations, user signals and input drift from production logs, per intent."""
    import json
    import sys
    from datetime import datetime

    from canary_eval.baseline import write_atomic
    from canary_eval.monitor import monitor_report_dict, run_monitor
    from canary_eval.monitor.report import render_html, render_markdown, render_terminal

    try:
        end = datetime.fromisoformat(until) if until else None
    except ValueError:
        raise typer.BadParameter(f"--until '{until}' is not an ISO 8601 time") from None
    result = run_monitor(config_path, until=end, stdin=sys.stdin)
    console = _console()
    if quiet:
        console.print(f"{result.verdict.upper()}  monitor {config_path}: exit {result.exit_code}")
    else:
        render_terminal(result, console)
    if json_path:
        write_atomic(json_path, json.dumps(monitor_report_dict(result), indent=2) + "\n")
    if markdown:
        write_atomic(markdown, render_markdown(result))
    if html:
        write_atomic(html, render_html(result))
    raise typer.Exit(result.exit_code)


def _report(
    comparison: Comparison,
    config: Any,
    paths: Any,
    quiet: bool,
    *,
    record: bool = False,
) -> None:
    _publish(comparison, config, paths, quiet=quiet, record=record)
    raise typer.Exit(comparison.exit_code)


def _publish(comparison: Comparison, config: Any, paths: Any, *, quiet: bool, record: bool) -> None:
    """Show the report, write the files, tell CI and the alert channels."""
    from canary_eval.reports.terminal import render
    from canary_eval.reports.writers import write_reports

    render(comparison, _console(quiet), quiet=quiet)
    if config is None:
        write_reports(comparison, paths)
        return
    from canary_eval.publish import publish

    published = publish(comparison, config, paths, record=record, notify=record)
    for line in published.annotations:
        typer.echo(line)
    for delivery in published.deliveries:
        if not delivery.ok:
            typer.echo(
                f"warning: alert to {delivery.channel} failed after {delivery.attempts} "
                f"attempt(s): {delivery.error}",
                err=True,
            )
