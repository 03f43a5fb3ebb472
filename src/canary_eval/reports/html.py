"""The HTML report: one self-contained page that works offline.

The verdict, the quality score against the baseline with its interval, the alerts, the score
trend and the per-intent changes as inline SVG, the behaviour and operational figures, and every
case whose score changed with its baseline and current output side by side.

Model output is untrusted: every string from a run or a config goes through `html.escape`, and
a Content-Security-Policy meta tag forbids scripts and every external resource, so even a
missed escape could not run code or call home.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from canary_eval.reports.changes import (
    ChangedCase,
    changed_cases,
    detectable,
    drop_or_never,
    num,
    percent_change,
)
from canary_eval.reports.charts import TrendPoint, delta_chart, interval_chart, trend_chart
from canary_eval.reports.destination import write_text
from canary_eval.store.history import HistoryRow, with_current
from canary_eval.verdict.compare import Comparison

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

# Colours are variables so one stylesheet serves light and dark schemes; the charts use them
# through their `c-*` classes. Tables scroll inside their own box, so a phone never scrolls the
# whole page sideways.
_CSS = """
:root{color-scheme:light dark;--fg:#212121;--bg:#fff;--muted:#616161;--rule:#e0e0e0;
--panel:#fafafa;--head:#f5f5f5;--bad:#c62828;--good:#2e7d32;--line:#1565c0;--warn:#a66f00;
--note:#fff8e1}
@media (prefers-color-scheme:dark){:root{--fg:#e8e8e8;--bg:#121212;--muted:#a8a8a8;
--rule:#3a3a3a;--panel:#1b1b1b;--head:#262626;--bad:#ef5350;--good:#66bb6a;--line:#64b5f6;
--warn:#ffb74d;--note:#2b2410}}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;
padding:16px 24px;color:var(--fg);background:var(--bg);line-height:1.4;overflow-wrap:break-word}
h1{margin:0;font-size:28px}h2{margin-top:32px;border-bottom:1px solid var(--rule);
padding-bottom:4px}
.verdict{padding:16px 20px;border-radius:6px;color:#fff}.verdict p{margin:4px 0 0}
.pass{background:#2e7d32}.suspect{background:#f9a825;color:#212121}.regression{background:#c62828}
.error{background:#6a1b9a}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid var(--rule);padding:4px 8px;
text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:var(--head)}.bad{color:var(--bad);font-weight:600}.warn{color:var(--warn)}
.info{color:var(--line)}
.case{border:1px solid var(--rule);border-radius:6px;margin:12px 0;padding:8px 12px}
.case h3{margin:0 0 6px;font-size:15px}.side{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.side h4{margin:0 0 4px;font-size:12px;color:var(--muted);text-transform:uppercase}
pre{white-space:pre-wrap;word-break:break-word;background:var(--panel);
border:1px solid var(--rule);padding:8px;margin:0;font-size:13px}
.why{color:var(--muted);font-size:13px;margin:6px 0 0}
.note{background:var(--note);padding:8px 12px;border-left:4px solid #f9a825}
footer{color:var(--muted);margin:32px 0 8px;font-size:12px}
svg.chart{display:block;width:100%;max-width:800px;height:auto;color:var(--fg)}
.c-plot{fill:var(--panel);stroke:var(--rule)}.c-text{fill:var(--muted)}
.c-line{fill:none;stroke:var(--line);stroke-width:2}.c-dot{fill:var(--line)}
.c-bad{fill:var(--bad)}.c-good{fill:var(--good)}.c-warn{fill:var(--warn)}
.c-err{fill:none;stroke:var(--bad);stroke-width:2.5}
.c-base{stroke:var(--muted);stroke-dasharray:5 4}.c-axis{stroke:var(--muted)}
.c-mark{stroke:var(--warn);stroke-dasharray:2 3}.c-marktext{fill:var(--warn)}
.c-track{stroke:var(--rule);stroke-width:6}.c-ci{stroke:var(--line);stroke-width:6}
.c-tick{stroke:var(--fg);stroke-width:2}
@media (max-width:600px){body{padding:12px}.side{grid-template-columns:1fr}h1{font-size:22px}}
"""


def render_html(comparison: Comparison, history: Sequence[HistoryRow] = ()) -> str:
    """The whole report as one HTML document."""
    c = comparison
    failing = sum(a.failing for a in c.alerts)
    title = f"canary {c.suite}: {c.verdict.upper()}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{escape(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f'<header class="verdict {escape(c.verdict)}"><h1>{escape(c.verdict.upper())}</h1>',
        f"<p>{escape(c.suite)} · exit {c.exit_code} · {failing} gate(s) breached · run "
        f"{escape(c.run.info.created_at)} against the baseline of "
        f"{escape(c.baseline.info.created_at)}</p></header>",
        _quality(c),
        _alerts(c),
        _trend(c, history),
        _intents(c),
        _figures(c),
        _changed(changed_cases(c)),
        _unscored(c),
        _notes(c),
        "<footer>canary-eval report · self-contained, no scripts</footer></body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Cells arrive escaped (or as markup this module built); headers are escaped here."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(rows_cell for rows_cell in row) + "</tr>" for row in rows)
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _td(text: str, numeric: bool = False, css: str = "") -> str:
    classes = " ".join(c for c in ("n" if numeric else "", css) if c)
    attr = f' class="{classes}"' if classes else ""
    return f"<td{attr}>{escape(text)}</td>"


def _quality(c: Comparison) -> str:
    q = c.quality
    model = c.served_model or "-"
    if c.model_changed:
        model = f"{c.baseline_model or '-'} → {model} (changed)"
    rows = [
        [_td("score"), _td(f"{num(q.score)}  (95 % CI {num(q.ci[0])} to {num(q.ci[1])})", True)],
        [_td("baseline"), _td(num(q.baseline_score), True)],
        [
            _td("change"),
            _td(
                f"{num(q.delta, '+.3f')} (95 % CI {num(q.delta_ci[0], '+.3f')} to "
                f"{num(q.delta_ci[1], '+.3f')}), {percent_change(q.relative_drop)}",
                True,
            ),
        ],
        [
            _td("test"),
            _td(
                f"{q.method}, p = {num(q.p_value, '.3g')}; {q.worse} worse, "
                f"{q.better} better of {q.n} paired"
            ),
        ],
        [_td("detectable"), _td(detectable(q))],
        [_td("served model"), _td(model, css="warn" if c.model_changed else "")],
    ]
    chart = interval_chart(q.score, q.ci, q.baseline_score)
    return f"<section><h2>Quality</h2>{_table(['', 'value'], rows)}{chart}</section>"


def _alerts(c: Comparison) -> str:
    if not c.alerts:
        return "<section><h2>Alerts</h2><p>No gate breached.</p></section>"
    rows = []
    for a in c.alerts:
        css = "bad" if a.failing else ("warn" if a.severity == "warn" else "info")
        status = "breached" if a.failing else a.severity
        rows.append(
            [
                _td(status, css=css),
                _td(a.layer),
                _td(a.metric),
                _td(a.intent or ""),
                _td(num(a.observed, ".4g"), True),
                _td(num(a.allowed, ".4g"), True),
                _td(a.message),
            ]
        )
    table = _table(["", "layer", "metric", "intent", "observed", "allowed", "message"], rows)
    return f"<section><h2>Alerts</h2>{table}</section>"


def _trend(c: Comparison, history: Sequence[HistoryRow]) -> str:
    rows = with_current(history, c)
    points = []
    for i, r in enumerate(rows):
        before = rows[i - 1] if i else None
        change = None
        if before is not None and r.served_model != before.served_model:
            change = f"model: {r.served_model or 'unknown'}"
        elif before is not None and r.prompt_hash and before.prompt_hash != r.prompt_hash:
            change = "prompt changed"
        points.append(TrendPoint(r.time, r.score, r.verdict, change))
    chart = trend_chart(
        points, baseline=c.quality.baseline_score, title=f"score trend over {len(rows)} run(s)"
    )
    failed = sum(r.verdict == "error" for r in rows)
    legend = (
        f'<p class="why">A cross on the axis: {failed} run(s) that could not be evaluated; '
        "dashed lines: served model or prompt changes.</p>"
        if failed
        else '<p class="why">Dashed vertical lines: served model or prompt changes.</p>'
    )
    return f"<section><h2>Score trend</h2>{chart}{legend}</section>"


def _intents(c: Comparison) -> str:
    rows = []
    for r in c.intents:
        mark = "regressed" if r.regressed else ("" if r.tested else "untested")
        rows.append(
            [
                _td(r.intent),
                _td(str(r.n), True),
                _td(num(r.score), True),
                _td(num(r.baseline_score), True),
                _td(percent_change(r.relative_drop), True),
                _td(num(r.p_adjusted, ".3g") if r.tested else "-", True),
                _td(drop_or_never(r.min_detectable_drop), True),
                _td(mark, css="bad" if r.regressed else ""),
            ]
        )
    header = ["intent", "n", "score", "baseline", "change", "p (Holm)", "pages from", ""]
    table = _table(header, rows)
    chart = delta_chart([(r.intent, r.delta) for r in c.intents], title="score change per intent")
    return f"<section><h2>Per intent</h2>{table}{chart}</section>"


def _figures(c: Comparison) -> str:
    b, bb, o, ob = c.behaviour, c.baseline_behaviour, c.ops, c.baseline_ops
    figures = [
        ("mean length (chars)", f"{b.mean_chars:.0f}", f"{bb.mean_chars:.0f}"),
        ("refusal rate", f"{b.refusal_rate:.1%}", f"{bb.refusal_rate:.1%}"),
        ("hedging rate", f"{b.hedging_rate:.1%}", f"{bb.hedging_rate:.1%}"),
        ("hedges / 100 words", f"{b.hedges_per_100_words:.2f}", f"{bb.hedges_per_100_words:.2f}"),
        ("latency p50 (ms)", f"{o.latency_p50_ms:.0f}", f"{ob.latency_p50_ms:.0f}"),
        ("latency p95 (ms)", f"{o.latency_p95_ms:.0f}", f"{ob.latency_p95_ms:.0f}"),
        ("latency p99 (ms)", f"{o.latency_p99_ms:.0f}", f"{ob.latency_p99_ms:.0f}"),
        ("error rate", f"{o.error_rate:.1%}", f"{ob.error_rate:.1%}"),
        ("429 answers", str(o.rate_limited), str(ob.rate_limited)),
        ("retries", str(o.retries), str(ob.retries)),
        ("cost per case (USD)", f"{o.cost_per_case_usd:.6f}", f"{ob.cost_per_case_usd:.6f}"),
        (
            "tokens in / out",
            f"{o.input_tokens} / {o.output_tokens}",
            f"{ob.input_tokens} / {ob.output_tokens}",
        ),
        ("fallback share", f"{o.fallback_share:.1%}", f"{ob.fallback_share:.1%}"),
    ]
    versions = ", ".join(f"{name}: {count}" for name, count in c.model_versions.items())
    rows = [[_td(name), _td(now, True), _td(base, True)] for name, now, base in figures]
    rows.append([_td("served models"), _td(versions or "-"), _td(c.baseline_model or "-")])
    return (
        f"<section><h2>Behaviour and operations</h2>"
        f"{_table(['metric', 'now', 'baseline'], rows)}</section>"
    )


def _changed(changed: Sequence[ChangedCase]) -> str:
    if not changed:
        return (
            "<section><h2>Cases that changed</h2><p>No paired case changed its score.</p></section>"
        )
    articles = []
    for ch in changed:
        cur, base = ch.current, ch.baseline
        css = "bad" if ch.delta < 0 else "info"
        why = f'<p class="why">{escape(ch.why)}</p>' if ch.why else ""
        before, now = escape(base.transcript or ""), escape(cur.transcript or "")
        articles.append(
            f'<article class="case"><h3>{escape(cur.id)} · {escape(cur.intent or "no intent")} · '
            f'<span class="{css}">{num(base.score, ".2f")} → {num(cur.score, ".2f")}</span></h3>'
            f'<div class="side"><div><h4>baseline</h4><pre>{before}</pre></div>'
            f"<div><h4>now</h4><pre>{now}</pre></div></div>{why}</article>"
        )
    return (
        f"<section><h2>Cases that changed ({len(changed)})</h2>" + "".join(articles) + "</section>"
    )


def _unscored(c: Comparison) -> str:
    errored = [case for case in c.run.cases if case.error is not None]
    if not errored:
        return ""
    rows = [
        [
            _td(case.id),
            _td(case.intent or ""),
            _td(case.error.kind if case.error else ""),
            _td(case.error.message if case.error else ""),
        ]
        for case in errored
    ]
    return (
        f"<section><h2>Cases without an answer ({len(errored)})</h2>"
        f"{_table(['case', 'intent', 'error', 'message'], rows)}</section>"
    )


def _notes(c: Comparison) -> str:
    p = c.pairing
    notes = list(c.notes)
    if p.added or p.removed or p.changed or p.quarantined:
        notes.append(
            f"not compared: {len(p.added)} added, {len(p.removed)} removed, "
            f"{len(p.changed)} changed since the baseline, {len(p.quarantined)} "
            "quarantined"
        )
    if c.flaky:
        notes.append(f"flaky in the baseline: {', '.join(c.flaky)}")
    if not notes:
        return ""
    return (
        "<section><h2>Notes</h2>"
        + "".join(f'<p class="note">{escape(n)}</p>' for n in notes)
        + "</section>"
    )


def write_html(comparison: Comparison, path: Path, history: Sequence[HistoryRow] = ()) -> None:
    """Write the report atomically."""
    write_text(path, render_html(comparison, history))
