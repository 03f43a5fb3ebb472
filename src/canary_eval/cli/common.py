"""What the commands share: their options, the console, the progress bar, loading a suite."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from canary_eval.models import EvalSet
    from canary_eval.run.engine import Progress
    from canary_eval.run.runner import RunOptions
    from canary_eval.suite.config import SuiteConfig

SuiteArg = Annotated[Path, typer.Argument(help="Suite config (YAML).", metavar="SUITE.yaml")]
ConcurrencyOpt = Annotated[
    int | None, typer.Option("--concurrency", min=1, help="Parallel calls (overrides the config).")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Override a config key, e.g. provider.model=gpt-4o-2026-01 (repeatable; "
        "recorded in the run).",
    ),
]
RepeatOpt = Annotated[int, typer.Option("--repeat", min=1, help="Run every case N times.")]
DeadlineOpt = Annotated[
    float | None,
    typer.Option(
        "--deadline",
        min=0.1,
        callback=lambda value: _finite("--deadline", value),
        help="Seconds for the whole run, scoring included; unfinished cases error. Default 1800.",
    ),
]


def _finite(option: str, value: float | None) -> float | None:
    """NaN passes click's `min` (no comparison with NaN is true): refuse it, and infinity."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"must be a finite number, not {value}", param_hint=option)
    return value


QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the verdict line.")]
BaselineOpt = Annotated[
    Path | None, typer.Option("--baseline", help="Baseline file (overrides the config).")
]
SaveRunOpt = Annotated[
    Path | None, typer.Option("--save-run", help="Also save the run here (baseline format).")
]
RunFileArg = Annotated[Path, typer.Argument(help="A saved run (--save-run) or baseline.")]
JsonOpt = Annotated[
    Path | None, typer.Option("--json", help="Write the JSON report here ('-': stdout).")
]
JunitOpt = Annotated[
    Path | None, typer.Option("--junit", help="Write a JUnit XML report here ('-': stdout).")
]
MarkdownOpt = Annotated[
    Path | None, typer.Option("--markdown", help="Write a Markdown report here ('-': stdout).")
]
HtmlOpt = Annotated[
    Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")
]
PrometheusOpt = Annotated[
    Path | None,
    typer.Option("--prometheus", help="Write metrics in the node_exporter textfile format."),
]


OutputOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--output",
        "-o",
        help="Write a report here; the format from --output-format or the extension "
        "(.json, .xml, .md, .html, .prom). Repeatable; '-' is stdout.",
    ),
]
OutputFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--output-format", help="Format of the -o reports: json, junit, markdown, html, prometheus."
    ),
]
FORMATS = ("json", "junit", "markdown", "html", "prometheus")
EXTENSIONS = {".json": "json", ".xml": "junit", ".md": "markdown", ".markdown": "markdown",
              ".html": "html", ".htm": "html", ".prom": "prometheus"}  # fmt: skip


def output_paths(
    given: dict[str, Path | None],
    outputs: list[Path] | None,
    output_format: str | None,
    allowed: tuple[str, ...] = FORMATS,
) -> dict[str, Path | None]:
    """Merge `-o PATH` (format from --output-format, else the extension) into the per-format
    options; a format given twice, an unknown one or two reports on stdout is a usage error."""
    paths = dict(given)
    if output_format is not None and output_format not in allowed:
        raise typer.BadParameter(
            f"'{output_format}' is not one of {', '.join(allowed)}", param_hint="--output-format"
        )
    for path in outputs or []:
        kind = output_format or EXTENSIONS.get(path.suffix.lower())
        if kind is None or kind not in allowed:
            raise typer.BadParameter(
                f"cannot tell the format of '{path}': use --output-format or one of "
                + ", ".join(e for e, k in EXTENSIONS.items() if k in allowed),
                param_hint="-o/--output",
            )
        if paths.get(kind) is not None:
            raise typer.BadParameter(f"two {kind} reports: '{paths[kind]}' and '{path}'")
        paths[kind] = path
    if sum(p == Path("-") for p in paths.values()) > 1:
        raise typer.BadParameter("only one report can go to stdout ('-')")
    return paths


def to_stdout(paths: dict[str, Path | None]) -> bool:
    from canary_eval.reports.destination import is_stdout

    return any(is_stdout(p) for p in paths.values() if p is not None)


def warn_failed(deliveries: Any) -> None:
    """One warning line per alert delivery that failed; it never changes the exit code."""
    for delivery in deliveries:
        if not delivery.ok:
            typer.echo(
                f"warning: alert to {delivery.channel} failed after {delivery.attempts} "
                f"attempt(s): {delivery.error}",
                err=True,
            )


# Width of the plain layout when stdout is not a terminal (cron logs, CI) and COLUMNS is unset:
# wide enough that no table cell wraps or is cut; lines are as long as their content.
PLAIN_WIDTH = 1000


def make_console(*, stderr: bool = False) -> Console:
    """The person's console; on stderr when stdout carries a report (`--json -`)."""
    import os

    from rich.console import Console

    console = Console(highlight=False, stderr=stderr)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = PLAIN_WIDTH
    return console


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[Callable[[Progress], None] | None]:
    """A live progress bar on a terminal; nothing in cron logs or with --quiet."""
    if not enabled:  # before rich is imported: a quiet run needs it only for the verdict line
        yield None
        return
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
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
def saving_partial(config: Any, path: Path | None) -> Iterator[None]:
    """On Ctrl-C, save the cases that finished (never as the baseline), then exit 130."""
    from canary_eval.errors import Interrupted
    from canary_eval.models import RunResult
    from canary_eval.store.baseline import save_run

    try:
        yield
    except Interrupted as stop:
        if isinstance(stop.partial, RunResult) and stop.partial.cases:
            target = path or config.baseline_path.with_name(f"{config.suite}.interrupted.json")
            save_run(target, stop.partial)
            stop.message += f"; saved to {target}"
        raise


# What a command needs once the calls are done, imported while they are in flight.
AFTER_THE_CALLS = (
    "numpy",
    "numpy.random",
    "canary_eval.verdict.compare",
    "canary_eval.verdict.critical",
    "canary_eval.store.history",
    "canary_eval.reports.json",
    "canary_eval.publish",
    "canary_eval.store.baseline",
)


def run_options(
    repeat: int, concurrency: int | None, deadline: float | None, *, quiet: bool = False
) -> RunOptions:
    from canary_eval.run.runner import DEFAULT_DEADLINE_S, RunOptions

    # `--quiet` prints the verdict in one plain line; the full report draws rich's tables
    after = AFTER_THE_CALLS if quiet else (*AFTER_THE_CALLS, "canary_eval.reports.terminal")
    return RunOptions(
        repeats=repeat,
        concurrency=concurrency,
        deadline_s=DEFAULT_DEADLINE_S if deadline is None else deadline,
        warm_imports=after,
    )


def load_suite(
    suite: Path, *, check: bool = False, overrides: list[str] | None = None
) -> tuple[SuiteConfig, EvalSet]:
    """Config (with `--set` overrides) and eval set; with `check`, everything `validate` checks,
    before any model call."""
    from canary_eval.notify.config import parse_alerts_config
    from canary_eval.run.scoring import check_suite
    from canary_eval.suite.config import load_config
    from canary_eval.suite.evalset import load_evalset
    from canary_eval.suite.overrides import parse_assignments
    from canary_eval.suite.preflight import check_keys

    try:
        assignments = parse_assignments(overrides or [])
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--set") from None
    config = load_config(suite, assignments)
    evalset = load_evalset(config.evalset_path)
    if check:
        check_keys(config)
        check_suite(config, evalset)
        parse_alerts_config(config.alerts, config.path, config.line_of)
    return config, evalset


def load_baseline(suite: Path, config: SuiteConfig, given: Path | None = None) -> Any:
    """The suite's baseline (`given` overrides the config's); when it is missing or unusable
    the error gives the exact command that records it at that path, to be committed."""
    from canary_eval.store.baseline import load_run

    path = given or config.baseline_path
    where = f" --baseline {path}" if given else ""
    hint = (
        f"record it when quality is known good with `canary baseline {suite}{where}` "
        "(commit it when CI runs the canary)"
    )
    return load_run(path, suite=config.suite, hint=hint)
