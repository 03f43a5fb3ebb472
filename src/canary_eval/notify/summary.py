"""The short account of a run that every alert carries: a headline, the breached gates and the
figures a person on call looks at first."""

from __future__ import annotations

import math
import re

from canary_eval.verdict.compare import Comparison

MAX_GATES = 10
_PARTIAL_ENTITY = re.compile(r"&[a-z]*$")


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, with an ellipsis when cut (never in the middle
    of an HTML entity such as `&amp;`): the channels reject longer fields."""
    if len(text) <= limit:
        return text
    return _PARTIAL_ENTITY.sub("", text[: limit - 1]) + "\u2026"


def headline(comparison: Comparison) -> str:
    c = comparison
    failing = sum(a.failing for a in c.alerts)
    text = f"canary {c.suite}: {c.verdict.upper()} (exit {c.exit_code})"
    if c.verdict == "error":
        return f"{text}: could not evaluate, {c.ops.error_rate:.0%} of calls failed"
    if failing:
        return f"{text}: {failing} gate(s) breached"
    warnings = sum(a.severity == "warn" for a in c.alerts)
    if warnings:
        return f"{text}: {warnings} warning(s)"
    return text


def recovery(comparison: Comparison, previous_verdict: str | None) -> str:
    return (
        f"canary {comparison.suite}: recovered, {comparison.verdict.upper()} "
        f"(was {previous_verdict or 'unknown'})"
    )


def breached_gates(comparison: Comparison) -> list[str]:
    """The failing alerts' messages, then the warnings, at most MAX_GATES."""
    alerts = sorted(comparison.alerts, key=lambda a: not a.failing)
    lines = [a.message for a in alerts if a.failing or a.severity == "warn"]
    if len(lines) > MAX_GATES:
        lines = [*lines[:MAX_GATES], f"... and {len(lines) - MAX_GATES} more"]
    return lines


def score_line(comparison: Comparison) -> str:
    q = comparison.quality
    if q.n == 0 or math.isnan(q.score):
        return "score: no paired cases"
    return (
        f"score {q.score:.3f} vs baseline {q.baseline_score:.3f} "
        f"({0.0 - q.relative_drop:+.1%}, p={q.p_value:.3g}, n={q.n})"
    )


def model_line(comparison: Comparison) -> str:
    c = comparison
    if c.model_changed:
        return f"served model changed: {c.baseline_model} -> {c.served_model}"
    return f"served model: {c.served_model or 'unknown'}"
