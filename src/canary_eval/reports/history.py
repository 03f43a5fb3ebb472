"""The run history as a person reads it: sparklines of the score and p95 latency, and the
recent runs as a table with a marker where the served model changed (`canary history`, the
Markdown report)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from canary_eval.reports.quiet import VERDICT_COLOURS, number
from canary_eval.store.history import HistoryRow

if TYPE_CHECKING:
    from rich.console import Console

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | None]) -> str:
    """One block character per value, scaled between the smallest and largest; a gap for None."""
    known = [v for v in values if v is not None and math.isfinite(v)]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    span = high - low
    chars = []
    for v in values:
        if v is None or not math.isfinite(v):
            chars.append(" ")
        else:
            level = round((v - low) / span * (len(BLOCKS) - 1)) if span else len(BLOCKS) // 2
            chars.append(BLOCKS[level])
    return "".join(chars)


def render_history(rows: Sequence[HistoryRow], console: Console) -> None:
    """The trend as a table, oldest first: sparklines of score and p95 latency on top, one
    block per row beside each figure, and a marker where the served model changed."""
    from rich.markup import escape  # here: the Markdown report's sparklines need no rich
    from rich.table import Table

    if not rows:
        console.print("no runs recorded yet")
        return
    scores = [r.score for r in rows]
    p95 = [r.latency_p95_ms for r in rows]
    console.print(
        f"{escape(rows[-1].suite)}: {len(rows)} run(s)  "
        f"score {sparkline(scores)}  p95 {sparkline(p95)}"
    )
    table = Table(title_justify="left")
    for column in (
        "time",
        "verdict",
        "score",
        "",
        "vs baseline",
        "p95 ms",
        "",
        "errors",
        "served model",
    ):
        table.add_column(
            column,
            justify="left" if column in ("time", "verdict", "", "served model") else "right",
            # Times and model names are what a reader greps for: folded, never cut.
            no_wrap=column == "time",
            overflow="fold",
        )
    score_blocks, p95_blocks = sparkline(scores), sparkline(p95)
    previous: str | None = None
    for i, row in enumerate(rows):
        model = escape(row.served_model or "-")
        if i and row.served_model != previous:
            model = f"[bold yellow]▲ {model} (changed)[/]"
        previous = row.served_model
        style = VERDICT_COLOURS.get(row.verdict, "magenta")
        drop = "-" if row.relative_drop is None else f"{-row.relative_drop:+.1%}"
        table.add_row(
            escape(row.time[:16].replace("T", " ")),  # to the minute, as cron runs it
            f"[{style}]{escape(row.verdict)}[/]",
            number(row.score),
            score_blocks[i],
            drop,
            number(row.latency_p95_ms, ".0f"),
            p95_blocks[i],
            number(row.error_rate, ".1%"),
            model,
        )
    console.print(table)
