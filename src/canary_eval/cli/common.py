"""What the commands share: their options, the console, the progress bar, loading a suite."""

from __future__ import annotations

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


def make_console(quiet: bool = False) -> Console:
    from rich.console import Console

    return Console(highlight=False, quiet=False, soft_wrap=quiet)


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[Callable[[Progress], None] | None]:
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


def run_options(repeat: int, concurrency: int | None, deadline: float | None) -> RunOptions:
    from canary_eval.run.runner import RunOptions

    return RunOptions(repeats=repeat, concurrency=concurrency, deadline_s=deadline)


def load_suite(suite: Path, *, check: bool = False) -> tuple[SuiteConfig, EvalSet]:
    """Config and eval set; with `check`, everything `validate` checks, before any model call."""
    from canary_eval.notify.config import parse_alerts_config
    from canary_eval.run.scoring import check_suite
    from canary_eval.suite.config import load_config
    from canary_eval.suite.evalset import load_evalset

    config = load_config(suite)
    evalset = load_evalset(config.evalset_path)
    if check:
        check_suite(config, evalset)
        parse_alerts_config(config.alerts, config.path, config.line_of)
    return config, evalset
