"""The Markdown report, for pull-request comments and the GitHub Actions step summary.

GitHub-flavoured tables: the verdict, quality against the baseline, the alerts, per intent,
behaviour and operations, the score trend from history, and the cases that changed most.
Model output and config strings are escaped so they show as text: HTML is entity-escaped,
Markdown punctuation backslash-escaped, `|` cannot end a cell and a newline cannot end a row.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

from canary_eval.reports.changes import (
    changed_cases,
    detectable,
    drop_or_never,
    num,
    percent_change,
)
from canary_eval.reports.control import plain
from canary_eval.reports.destination import write_text
from canary_eval.reports.history import sparkline
from canary_eval.store.history import HistoryRow, with_current
from canary_eval.verdict.compare import Comparison

TOP_CHANGED = 10
CELL_CHARS = 200
VERDICT_MARK = {"pass": "✅", "suspect": "⚠️", "regression": "❌", "error": "🛑"}
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]~|])")
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")


def cell(text: str | None, limit: int = CELL_CHARS) -> str:
    """Any text made safe for one Markdown table cell."""
    if text is None:
        return ""
    flat = plain(text).strip()
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    escaped = _MARKDOWN_PUNCTUATION.sub(r"\\\1", flat)
    escaped = html.escape(escaped, quote=False)
    # `@someone` in a pull-request comment or step summary would notify them: break the mention.
    escaped = _MENTION.sub("@\u200b", escaped)
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> list[str]:
    """A GFM table; `align` has one letter per column, "r" for right-aligned."""
    marks = ["---:" if align[i : i + 1] == "r" else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def render_markdown(comparison: Comparison, history: Sequence[HistoryRow] = ()) -> str:
    c, q = comparison, comparison.quality
    failing = [a for a in c.alerts if a.failing]
    lines = [
        f"## {VERDICT_MARK[c.verdict]} canary {cell(c.suite)}: {c.verdict.upper()} "
        f"(exit {c.exit_code})",
        "",
        f"{len(failing)} gate(s) breached. Run {cell(c.run.info.created_at)} against the baseline "
        f"of {cell(c.baseline.info.created_at)}.",
        "",
    ]
    model = cell(c.served_model or "-")
    if c.model_changed:
        model = f"**changed**: {cell(c.baseline_model or '-')} → {model}"
    lines += table(
        ["", "now", "baseline", "change"],
        [
            [
                "quality score",
                f"{num(q.score)} (95 % CI {num(q.ci[0])} to {num(q.ci[1])})",
                num(q.baseline_score),
                f"{percent_change(q.relative_drop)} (p = {num(q.p_value, '.3g')}, {q.method}, "
                f"n = {q.n})",
            ],
            ["detectable", detectable(q), "", ""],
            ["served model", model, cell(c.baseline_model or "-"), ""],
            [
                "prompt hash",
                cell(c.run.info.prompt_hash),
                cell(c.baseline.info.prompt_hash),
                "**changed**" if c.prompt_changed else "",
            ],
        ],
        "lrrr",
    )
    if c.alerts:
        lines += ["### Alerts", ""]
        lines += table(
            ["", "layer", "metric", "intent", "message"],
            [
                [
                    "❌" if a.failing else ("⚠️" if a.severity == "warn" else "ℹ️"),  # noqa: RUF001
                    a.layer,
                    cell(a.metric),
                    cell(a.intent or ""),
                    cell(a.message),
                ]
                for a in c.alerts
            ],
        )
    if c.intents:
        lines += ["### Per intent", ""]
        lines += table(
            ["intent", "n", "score", "baseline", "change", "p (Holm)", "pages from", ""],
            [
                [
                    cell(r.intent),
                    str(r.n),
                    num(r.score),
                    num(r.baseline_score),
                    percent_change(r.relative_drop),
                    num(r.p_adjusted, ".3g") if r.tested else "-",
                    drop_or_never(r.min_detectable_drop),
                    "❌ regressed" if r.regressed else ("" if r.tested else "untested"),
                ]
                for r in c.intents
            ],
            "lrrrrrrl",
        )
    lines += ["### Behaviour and operations", ""]
    lines += table(["metric", "now", "baseline"], _figures(c), "lrr")
    if history:
        rows = with_current(history, c)
        lines += [
            f"**Trend** ({len(rows)} runs, oldest first): score "
            f"`{sparkline([r.score for r in rows])}`, p95 latency "
            f"`{sparkline([r.latency_p95_ms for r in rows])}`",
            "",
        ]
    changed = changed_cases(c)
    if changed:
        shown = sorted(changed, key=lambda ch: -abs(ch.delta))[:TOP_CHANGED]
        lines += [f"### Cases that changed (top {len(shown)} of {len(changed)})", ""]
        lines += table(
            ["case", "intent", "score", "output now", "baseline output"],
            [
                [
                    cell(ch.current.id),
                    cell(ch.current.intent or ""),
                    f"{num(ch.baseline.score, '.2f')} → {num(ch.current.score, '.2f')}",
                    cell(ch.current.transcript),
                    cell(ch.baseline.transcript),
                ]
                for ch in shown
            ],
        )
    for note in c.notes:
        lines += [f"> {cell(note, 1000)}", ""]
    return "\n".join(lines)


def _figures(c: Comparison) -> list[list[str]]:
    b, bb, o, ob = c.behaviour, c.baseline_behaviour, c.ops, c.baseline_ops
    return [
        ["mean length (chars)", f"{b.mean_chars:.0f}", f"{bb.mean_chars:.0f}"],
        ["refusal rate", f"{b.refusal_rate:.1%}", f"{bb.refusal_rate:.1%}"],
        ["hedging rate", f"{b.hedging_rate:.1%}", f"{bb.hedging_rate:.1%}"],
        [
            "latency p50 / p95 (ms)",
            f"{o.latency_p50_ms:.0f} / {o.latency_p95_ms:.0f}",
            f"{ob.latency_p50_ms:.0f} / {ob.latency_p95_ms:.0f}",
        ],
        ["error rate", f"{o.error_rate:.1%}", f"{ob.error_rate:.1%}"],
        [
            "429 answers / retries",
            f"{o.rate_limited} / {o.retries}",
            f"{ob.rate_limited} / {ob.retries}",
        ],
        ["cost per case (USD)", f"{o.cost_per_case_usd:.6f}", f"{ob.cost_per_case_usd:.6f}"],
    ]


def write_markdown(comparison: Comparison, path: Path, history: Sequence[HistoryRow] = ()) -> None:
    """Write the report atomically."""
    write_text(path, render_markdown(comparison, history))
