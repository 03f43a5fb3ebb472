"""The terminal report: the verdict first, then the score against the baseline, the alerts,
a table per intent, the behaviour and operational figures, and the cases that got worse."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from canary_eval.reports.changes import detectable, drop_or_never
from canary_eval.reports.control import shown
from canary_eval.reports.failures import failed_calls, failures_table
from canary_eval.reports.quiet import VERDICT_COLOURS, number, verdict_details
from canary_eval.verdict.compare import Comparison

WORST_CASES = 8


def verdict_line(c: Comparison) -> Text:
    text = Text(c.verdict.upper(), style=f"bold {VERDICT_COLOURS[c.verdict]}")
    return text.append(f"  {verdict_details(c)}")


def render(c: Comparison, console: Console) -> None:
    failed = failed_calls(c.run.cases)
    console.print(Panel(verdict_line(c), expand=False))
    console.print(_quality(c))
    if c.alerts:
        console.print(_alerts(c))
    if failed:
        console.print(failures_table(failed))
    console.print(_intents(c))
    console.print(_behaviour_and_ops(c))
    worst = _worst(c)
    if worst is not None:
        console.print(worst)
    if c.flaky:
        ids = ", ".join(c.flaky[:8]) + (", ..." if len(c.flaky) > 8 else "")
        console.print(
            f"[yellow]flaky:[/] {len(c.flaky)} case(s) flip between baseline repeats "
            f"({shown(ids)}); quarantine them in the config if they should not count"
        )
    for note in c.notes:
        console.print(f"[yellow]note:[/] {shown(note)}")
    p = c.pairing
    if p.added or p.removed or p.changed:
        console.print(
            f"[dim]not compared: {len(p.added)} added, {len(p.removed)} removed, "
            f"{len(p.changed)} changed since the baseline[/]"
        )


def _quality(c: Comparison) -> Table:
    q = c.quality
    table = Table(title="Quality", show_header=False, title_justify="left")
    table.add_row("score", f"{number(q.score)}  (95 % CI {number(q.ci[0])}-{number(q.ci[1])})")
    table.add_row("baseline", number(q.baseline_score))
    table.add_row(
        "change",
        f"{number(q.delta, '+.3f')}  (95 % CI {number(q.delta_ci[0], '+.3f')} to "
        f"{number(q.delta_ci[1], '+.3f')}), relative drop {q.relative_drop:.1%}",
    )
    table.add_row(
        "test",
        f"{q.method}, p = {q.p_value:.3g}  ({q.worse} worse, {q.better} better of {q.n} paired)",
    )
    table.add_row("detectable", detectable(q))
    model = shown(c.served_model or "-")
    if c.model_changed:
        model = f"[bold yellow]{shown(c.baseline_model or '-')} -> {model}[/]"
    table.add_row("served model", model)
    if c.prompt_changed:
        before, now = c.baseline.info.prompt_hash, c.run.info.prompt_hash
        table.add_row("prompt", f"[bold yellow]changed since the baseline ({before} -> {now})[/]")
    return table


def _alerts(c: Comparison) -> Table:
    table = Table(title="Alerts", title_justify="left")
    for column in ("layer", "metric", "intent", "severity", "message"):
        table.add_column(column)
    for a in c.alerts:
        style = "red" if a.failing else ("yellow" if a.severity == "warn" else "cyan")
        table.add_row(
            a.layer, a.metric, shown(a.intent or ""), f"[{style}]{a.severity}[/]", shown(a.message)
        )
    return table


def _intents(c: Comparison) -> Table:
    table = Table(title="Per intent", title_justify="left")
    for column in ("intent", "n", "score", "baseline", "change", "p (Holm)", "pages from", ""):
        table.add_column(column, justify="right" if column not in ("intent", "") else "left")
    for row in c.intents:
        mark = (
            "[bold red]REGRESSED[/]"
            if row.regressed
            else ("" if row.tested else "[dim]untested[/]")
        )
        table.add_row(
            shown(row.intent),
            str(row.n),
            number(row.score),
            number(row.baseline_score),
            f"{-row.relative_drop:+.1%}",
            number(row.p_adjusted, ".3g") if row.tested else "-",
            drop_or_never(row.min_detectable_drop),
            mark,
        )
    return table


def _behaviour_and_ops(c: Comparison) -> Group:
    b, bb, o, ob = c.behaviour, c.baseline_behaviour, c.ops, c.baseline_ops
    behaviour = Table(title="Behaviour", title_justify="left")
    ops = Table(title="Operations", title_justify="left")
    for table in (behaviour, ops):
        for column in ("metric", "now", "baseline"):
            table.add_column(column, justify="left" if column == "metric" else "right")
    behaviour.add_row("mean length (chars)", f"{b.mean_chars:.0f}", f"{bb.mean_chars:.0f}")
    behaviour.add_row("refusal rate", f"{b.refusal_rate:.1%}", f"{bb.refusal_rate:.1%}")
    behaviour.add_row("hedging rate", f"{b.hedging_rate:.1%}", f"{bb.hedging_rate:.1%}")
    behaviour.add_row(
        "malformed JSON outputs", f"{b.format_failure_rate:.1%}", f"{bb.format_failure_rate:.1%}"
    )
    behaviour.add_row(
        "hedges / 100 words", f"{b.hedges_per_100_words:.2f}", f"{bb.hedges_per_100_words:.2f}"
    )
    if b.tool_calling or bb.tool_calling:
        behaviour.add_row("tool-call rate", f"{b.tool_call_rate:.1%}", f"{bb.tool_call_rate:.1%}")
        behaviour.add_row(
            "wrong-tool rate", f"{b.wrong_tool_rate:.1%}", f"{bb.wrong_tool_rate:.1%}"
        )
    ops.add_row(
        "latency p50 / p95 (ms)",
        f"{o.latency_p50_ms:.0f} / {o.latency_p95_ms:.0f}",
        f"{ob.latency_p50_ms:.0f} / {ob.latency_p95_ms:.0f}",
    )
    ops.add_row("error rate", f"{o.error_rate:.1%}", f"{ob.error_rate:.1%}")
    ops.add_row(
        "429 answers / retries",
        f"{o.rate_limited} / {o.retries}",
        f"{ob.rate_limited} / {ob.retries}",
    )
    ops.add_row("cost per case (USD)", f"{o.cost_per_case_usd:.6f}", f"{ob.cost_per_case_usd:.6f}")
    ops.add_row(
        "tokens in / out",
        f"{o.input_tokens} / {o.output_tokens}",
        f"{ob.input_tokens} / {ob.output_tokens}",
    )
    if o.cached_input_tokens or o.reasoning_tokens or ob.cached_input_tokens or ob.reasoning_tokens:
        ops.add_row(
            "of which cached / reasoning",
            f"{o.cached_input_tokens} / {o.reasoning_tokens}",
            f"{ob.cached_input_tokens} / {ob.reasoning_tokens}",
        )
    ops.add_row("fallback share", f"{o.fallback_share:.1%}", f"{ob.fallback_share:.1%}")
    return Group(behaviour, ops)


def _worst(c: Comparison) -> Table | None:
    worse = sorted(
        ((cur, base) for cur, base in c.pairing.pairs if (cur.score or 0) < (base.score or 0)),
        key=lambda pair: (pair[0].score or 0) - (pair[1].score or 0),
    )[:WORST_CASES]
    if not worse:
        return None
    table = Table(title=f"Cases that got worse (top {len(worse)})", title_justify="left")
    for column in ("case", "intent", "score", "output now", "why"):
        table.add_column(column, overflow="fold")
    for cur, base in worse:
        why = "; ".join(s.explanation for s in cur.scores if not s.passed and s.explanation)
        table.add_row(
            shown(cur.id),
            shown(cur.intent or ""),
            f"{number(base.score, '.2f')} -> {number(cur.score, '.2f')}",
            shown(_clip(cur.transcript or "")),
            shown(_clip(why, 100)),
        )
    return table


def _clip(text: str, width: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
