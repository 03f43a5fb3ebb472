"""Inline SVG charts for the HTML report: the score trend over history, the per-intent score
changes and the score's interval against the baseline.

Plain SVG strings, no JavaScript and no external resources, so the report works offline and
under a Content-Security-Policy that forbids scripts. Every label is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH = 640
FONT = 'font-family="system-ui, sans-serif" font-size="11"'
RED, GREEN, BLUE, GREY = "#c62828", "#2e7d32", "#1565c0", "#9e9e9e"


def _svg(height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def _finite(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def trend_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    baseline: float | None = None,
    title: str = "score trend",
) -> str:
    """A line of `values` (oldest first) with a dashed baseline; gaps where a value is None."""
    height, left, right, top, bottom = 220, 48, 16, 16, 40
    known = _finite([*values, baseline])
    if not known:
        return _svg(60, title, [f'<text x="8" y="30" {FONT}>no scores recorded yet</text>'])
    low, high = min(known), max(known)
    pad = max((high - low) * 0.1, 0.02)
    low, high = low - pad, high + pad
    plot_w, plot_h = WIDTH - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + (plot_w * i / (len(values) - 1) if len(values) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (high - v) / (high - low)

    body = [
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" '
        f'stroke="#e0e0e0"/>'
    ]
    for tick in (low + pad, (low + high) / 2, high - pad):
        body.append(
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" {FONT}>{tick:.3f}</text>'
        )
    if baseline is not None and math.isfinite(baseline):
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(baseline):.1f}" '
            f'y2="{y(baseline):.1f}" stroke="{GREY}" stroke-dasharray="5 4"/>'
        )
        body.append(
            f'<text x="{left + plot_w - 4}" y="{y(baseline) - 4:.1f}" text-anchor="end" '
            f'fill="#616161" {FONT}>baseline {baseline:.3f}</text>'
        )
    segments: list[list[str]] = [[]]
    dots = []
    for i, v in enumerate(values):
        if v is None or not math.isfinite(v):
            segments.append([])
            continue
        segments[-1].append(f"{x(i):.1f},{y(v):.1f}")
        dots.append(
            f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{BLUE}">'
            f"<title>{escape(labels[i])}: {v:.3f}</title></circle>"
        )
    body += [
        f'<polyline points="{" ".join(points)}" fill="none" stroke="{BLUE}" stroke-width="2"/>'
        for points in segments
        if len(points) > 1
    ]
    body += dots  # after the lines, so the points stay on top
    if labels:
        body.append(f'<text x="{left}" y="{height - 14}" {FONT}>{escape(labels[0])}</text>')
        if len(labels) > 1:
            body.append(
                f'<text x="{left + plot_w}" y="{height - 14}" text-anchor="end" {FONT}>'
                f"{escape(labels[-1])}</text>"
            )
    return _svg(height, title, body)


def delta_chart(items: Sequence[tuple[str, float]], *, title: str = "per-intent change") -> str:
    """Horizontal bars of score changes around zero: drops red to the left, gains green."""
    row_h, top, label_w, value_w = 22, 8, 160, 70
    height = top * 2 + row_h * max(1, len(items))
    finite = [abs(d) for _, d in items if math.isfinite(d)]
    scale = max([*finite, 0.01])
    plot_w = WIDTH - label_w - value_w
    zero = label_w + plot_w / 2
    body = [f'<line x1="{zero}" x2="{zero}" y1="{top}" y2="{height - top}" stroke="{GREY}"/>']
    if not items:
        body.append(f'<text x="8" y="{top + 15}" {FONT}>no intents paired</text>')
    for i, (name, delta) in enumerate(items):
        y = top + i * row_h
        label = name if len(name) <= 24 else name[:23] + "…"
        body.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" {FONT}>{escape(label)}</text>'
        )
        if not math.isfinite(delta):
            continue
        span = (plot_w / 2 - 4) * abs(delta) / scale
        start = zero - span if delta < 0 else zero
        colour = RED if delta < 0 else GREEN
        body.append(
            f'<rect x="{start:.1f}" y="{y + 4}" width="{max(span, 1):.1f}" '
            f'height="{row_h - 8}" fill="{colour}"><title>{escape(name)}: '
            f"{delta:+.3f}</title></rect>"
        )
        body.append(f'<text x="{WIDTH - value_w + 6}" y="{y + 15}" {FONT}>{delta:+.3f}</text>')
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
        f'<line x1="{left}" x2="{left + plot_w}" y1="28" y2="28" stroke="#e0e0e0" '
        f'stroke-width="6"/>',
        f'<text x="{left}" y="52" {FONT}>0</text>',
        f'<text x="{left + plot_w}" y="52" text-anchor="end" {FONT}>1</text>',
    ]
    if all(math.isfinite(v) for v in ci):
        body.append(
            f'<line x1="{x(ci[0]):.1f}" x2="{x(ci[1]):.1f}" y1="28" y2="28" '
            f'stroke="{BLUE}" stroke-width="6"><title>95 % CI {ci[0]:.3f}-{ci[1]:.3f}'
            "</title></line>"
        )
    if math.isfinite(score):
        body.append(
            f'<circle cx="{x(score):.1f}" cy="28" r="6" fill="{BLUE}">'
            f"<title>score {score:.3f}</title></circle>"
        )
    if math.isfinite(baseline):
        body.append(
            f'<line x1="{x(baseline):.1f}" x2="{x(baseline):.1f}" y1="14" y2="42" '
            f'stroke="#212121" stroke-width="2"><title>baseline {baseline:.3f}</title>'
            "</line>"
        )
        anchor = "end" if baseline > 0.9 else ("start" if baseline < 0.1 else "middle")
        body.append(
            f'<text x="{x(baseline):.1f}" y="10" text-anchor="{anchor}" {FONT}>'
            f"baseline {baseline:.3f}</text>"
        )
    return _svg(height, title, body)
