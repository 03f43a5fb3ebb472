"""The canary on a schedule: its history, and watching for a new served model."""

from __future__ import annotations

import math
from typing import Annotated

import typer

from canary_eval.cli import command
from canary_eval.cli.checks import model_changed, publish_report
from canary_eval.cli.common import (
    HtmlOpt,
    JsonOpt,
    SetOpt,
    SuiteArg,
    load_baseline,
    load_suite,
    make_console,
)


@command
def history(
    suite: SuiteArg,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many runs to show.")] = 30,
) -> None:
    """Show the suite's trend: verdicts, scores, latency and served-model changes."""
    from canary_eval.reports.history import render_history
    from canary_eval.store import history as store
    from canary_eval.suite.config import load_config

    config = load_config(suite)
    rows = store.recent(config.history_path, config.suite, limit)
    if not rows:
        typer.echo(f"no runs recorded yet in {config.history_path}")
        return
    render_history(rows, make_console())


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
    set_: SetOpt = None,
) -> None:
    """Ask the endpoint which model it serves every interval; run the suite when it changes."""
    import time

    from canary_eval.pipeline import evaluate
    from canary_eval.reports.writers import ReportPaths

    seconds = _duration(interval)
    config, evalset = load_suite(suite, check=True, overrides=set_)
    reference = load_baseline(suite, config)
    checks = 0
    while max_checks is None or checks < max_checks:
        checks += 1
        if model_changed(config, reference):
            comparison = evaluate(config, evalset, reference)
            publish_report(
                comparison, config, ReportPaths(json=json_path, html=html), quiet=False, record=True
            )
        if max_checks is None or checks < max_checks:
            time.sleep(seconds)


MIN_INTERVAL_S = 1.0
MAX_INTERVAL_S = 7 * 24 * 3600.0


def _duration(text: str) -> float:
    """`90s`, `15m`, `1h` or plain seconds, between a second (no busy loop) and a week."""
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        seconds = float(text[:-1]) * units[text[-1]] if text[-1:] in units else float(text)
    except ValueError:
        seconds = math.nan
    if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:  # NaN fails both sides
        raise typer.BadParameter(
            f"'{text}' is not a duration between 1s and 7 days, like 90s, 15m or 1h",
            param_hint="'--interval'",
        )
    return seconds
