"""Inline SVG charts for the HTML report: the score trend over history, the per-intent score
changes and the score's interval against the baseline.

Plain SVG strings, no JavaScript and no external resources, so the report works offline and
under a Content-Security-Policy that forbids scripts. Every label is escaped. The charts scale
with the page (a `viewBox`, width 100 %) and take their colours from CSS classes (`c-*`), which
the page defines for light and dark colour schemes.

The trend is drawn on a time axis. A run that could not be evaluated is drawn as such (a mark
on the axis, not a score: its score covers only the calls that answered), a regression in red,
and a change of served model or prompt as a labelled vertical line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

WIDTH = 640
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


@dataclass(frozen=True)
class TrendPoint:
    """One run on the trend."""

    time: str  # ISO 8601
    score: float | None
    verdict: str = "pass"
    change: str | None = None  # "model: X" or "prompt changed" when this run changed either


def _svg(height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'class="chart" role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", css: str = "c-text") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{css}" {FONT}>'
        f"{escape(text)}</text>"
    )


def _finite(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def _seconds(points: Sequence[TrendPoint]) -> list[float]:
    """Each run's time in seconds; runs whose time does not parse are spaced by index."""
    try:
        return [datetime.fromisoformat(p.time).timestamp() for p in points]
    except ValueError:
        return [float(i) for i in range(len(points))]


def trend_chart(
    points: Sequence[TrendPoint], *, baseline: float | None = None, title: str = "score trend"
) -> str:
    """Scores over time (oldest first) with a dashed baseline, marks for runs that could not
    be evaluated and lines where the served model or prompt changed."""
    height, left, right, top, bottom = 240, 48, 16, 28, 40
    scored = [p.score if p.verdict != "error" else None for p in points]
    known = _finite([*scored, baseline])
    if not points:
        return _svg(60, title, [_text(8, 30, "no runs recorded yet")])
    low, high = (min(known), max(known)) if known else (0.0, 1.0)
    pad = max((high - low) * 0.1, 0.02)
    low, high = low - pad, high + pad
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    when = _seconds(points)
    start, span = when[0], (when[-1] - when[0]) or 1.0

    def x(i: int) -> float:
        return left + (plot_w * (when[i] - start) / span if len(points) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (high - v) / (high - low)

    body = [f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="c-plot"/>']
    for tick in (low + pad, (low + high) / 2, high - pad):
        body.append(_text(left - 6, y(tick) + 4, f"{tick:.3f}", "end"))
    if baseline is not None and math.isfinite(baseline):
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(baseline):.1f}" '
            f'y2="{y(baseline):.1f}" class="c-base"/>'
        )
        body.append(_text(left + plot_w - 4, y(baseline) - 4, f"baseline {baseline:.3f}", "end"))
    for i, p in enumerate(points):
        if p.change and i:
            body.append(
                f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{top - 4}" y2="{top + plot_h}" '
                f'class="c-mark"><title>{escape(p.change)}</title></line>'
            )
            # Labels right of the middle end at their line, so none runs off the chart.
            right_half = x(i) > left + plot_w / 2
            at, anchor = (x(i) - 3, "end") if right_half else (x(i) + 3, "start")
            body.append(_text(at, top - 8, _short(p.change), anchor, "c-marktext"))
    segments: list[list[str]] = [[]]
    marks = []
    for i, (p, v) in enumerate(zip(points, scored, strict=True)):
        label = f"{p.time[:16].replace('T', ' ')}: {p.verdict}"
        if v is None or not math.isfinite(v):
            segments.append([])
            if p.verdict == "error":  # could not evaluate: on the axis, not on the scale
                marks.append(
                    f'<path d="M{x(i) - 4:.1f},{top + plot_h - 8} l8,8 m0,-8 l-8,8" '
                    f'class="c-err"><title>{escape(label)}, could not evaluate</title></path>'
                )
            continue
        segments[-1].append(f"{x(i):.1f},{y(v):.1f}")
        css = {"regression": "c-bad", "suspect": "c-warn"}.get(p.verdict, "c-dot")
        marks.append(
            f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5" class="{css}">'
            f"<title>{escape(label)}, score {v:.3f}</title></circle>"
        )
    body += [
        f'<polyline points="{" ".join(seg)}" class="c-line"/>' for seg in segments if len(seg) > 1
    ]
    body += marks  # after the lines, so the points stay on top
    body += _time_axis(points, x, height - 14)
    return _svg(height, title, body)


def _short(change: str) -> str:
    return change if len(change) <= 28 else change[:27] + "…"


def _time_axis(
    points: Sequence[TrendPoint], x: Callable[[int], float], baseline_y: float
) -> list[str]:
    """The times of the first, a middle and the last run, where they fall on the axis."""
    labels = [(0, "start")]
    if len(points) > 2:
        labels.append((len(points) // 2, "middle"))
    if len(points) > 1:
        labels.append((len(points) - 1, "end"))
    out = []
    for i, anchor in labels:
        stamp = points[i].time[:16].replace("T", " ")
        out.append(_text(x(i), baseline_y, stamp, anchor))
    return out


def delta_chart(items: Sequence[tuple[str, float]], *, title: str = "per-intent change") -> str:
    """Horizontal bars of score changes around zero: drops red to the left, gains green."""
    row_h, top, label_w, value_w = 22, 8, 160, 70
    height = top * 2 + row_h * max(1, len(items))
    finite = [abs(d) for _, d in items if math.isfinite(d)]
    scale = max([*finite, 0.01])
    plot_w = WIDTH - label_w - value_w
    zero = label_w + plot_w / 2
    body = [f'<line x1="{zero}" x2="{zero}" y1="{top}" y2="{height - top}" class="c-axis"/>']
    if not items:
        body.append(_text(8, top + 15, "no intents paired"))
    for i, (name, delta) in enumerate(items):
        y = top + i * row_h
        label = name if len(name) <= 24 else name[:23] + "…"
        body.append(_text(label_w - 8, y + 15, label, "end"))
        if not math.isfinite(delta):
            continue
        span = (plot_w / 2 - 4) * abs(delta) / scale
        start = zero - span if delta < 0 else zero
        css = "c-bad" if delta < 0 else "c-good"
        body.append(
            f'<rect x="{start:.1f}" y="{y + 4}" width="{max(span, 1):.1f}" '
            f'height="{row_h - 8}" class="{css}"><title>{escape(name)}: '
            f"{delta:+.3f}</title></rect>"
        )
        body.append(_text(WIDTH - value_w + 6, y + 15, f"{delta:+.3f}"))
    return _svg(height, title, body)


def interval_chart(
    score: float, ci: tuple[float, float], baseline: float, *, title: str = "score vs baseline"
) -> str:
    """The score with its confidence interval as a bar on a 0-1 axis, the baseline as a tick."""
    height, left, right = 56, 16, 16
    plot_w = WIDTH - left - right

    def x(v: float) -> float:
        return left + plot_w * min(max(v, 0.0), 1.0)

    body = [
        f'<line x1="{left}" x2="{left + plot_w}" y1="28" y2="28" class="c-track"/>',
        _text(left, 52, "0"),
        _text(left + plot_w, 52, "1", "end"),
    ]
    if all(math.isfinite(v) for v in ci):
        body.append(
            f'<line x1="{x(ci[0]):.1f}" x2="{x(ci[1]):.1f}" y1="28" y2="28" class="c-ci">'
            f"<title>95 % CI {ci[0]:.3f}-{ci[1]:.3f}</title></line>"
        )
    if math.isfinite(score):
        body.append(
            f'<circle cx="{x(score):.1f}" cy="28" r="6" class="c-dot">'
            f"<title>score {score:.3f}</title></circle>"
        )
    if math.isfinite(baseline):
        body.append(
            f'<line x1="{x(baseline):.1f}" x2="{x(baseline):.1f}" y1="14" y2="42" '
            f'class="c-tick"><title>baseline {baseline:.3f}</title></line>'
        )
        anchor = "end" if baseline > 0.9 else ("start" if baseline < 0.1 else "middle")
        body.append(_text(x(baseline), 10, f"baseline {baseline:.3f}", anchor))
    return _svg(height, title, body)
