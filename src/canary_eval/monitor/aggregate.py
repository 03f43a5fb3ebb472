"""The monitor's figures from the engine: ops and signals per window and intent, the intent mix,
input lengths, served models and seeded samples of input texts.

Each function runs the shared queries (monitor.engine.queries) on whichever engine it is given
and turns their rows into the figure dataclasses the gates read (OpsFigures, SignalFigures).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from canary_eval.monitor.engine import queries
from canary_eval.monitor.engine.base import Engine
from canary_eval.monitor.engine.queries import Window
from canary_eval.monitor.ops import OpsFigures
from canary_eval.monitor.signals import Proportion, SignalFigures

Key = tuple[str, str | None]  # (window label, intent or None for all)


@dataclass(frozen=True)
class TextSample:
    """A seeded pseudo-random sample of one window's inputs, with their intents."""

    texts: tuple[str, ...]
    intents: tuple[str, ...]


@dataclass(frozen=True)
class SegmentFigures:
    """Every figure of one slice of traffic: overall (intent None) or one intent."""

    intent: str | None
    ops_reference: OpsFigures
    ops_current: OpsFigures
    signals_reference: SignalFigures
    signals_current: SignalFigures
    traffic_share: float  # share of current-window calls
    canary_share: float | None  # share of canary cases
    uncovered_share: float | None  # of its sampled current inputs


@dataclass(frozen=True)
class WindowFigures:
    """Every aggregated figure of a set of labelled windows."""

    ops: Mapping[Key, OpsFigures]
    signals: Mapping[Key, SignalFigures]
    intent_calls: Mapping[str, Mapping[str, int]]  # window -> intent -> calls
    lengths: Mapping[str, Any]  # window -> histogram of input lengths: (lengths, calls)
    models: Mapping[str, Mapping[str, int]]  # window -> served model -> calls
    model_rows: tuple[tuple[Any, ...], ...]  # (window, model, fallback, calls, first ts)
    tagged: tuple[int, int]  # calls whose intent came from the classifier, and of them `other`

    def ops_of(self, window: str, intent: str | None) -> OpsFigures:
        return self.ops.get((window, intent), EMPTY_OPS)

    def signals_of(self, window: str, intent: str | None) -> SignalFigures:
        return self.signals.get((window, intent), EMPTY_SIGNALS)


EMPTY_OPS = OpsFigures(0, 0, None, None, 0, 0, 0, None, None, None)
_NONE = Proportion.of(0, 0)
EMPTY_SIGNALS = SignalFigures(0, _NONE, _NONE, _NONE, _NONE, None, 0, None)


def aggregate(
    engine: Engine, windows: Sequence[Window], *, in_memory: bool = False
) -> WindowFigures:
    """Define the span views for `windows` and compute every figure over them; slow calls are
    counted against the first (earliest) window's p95. `in_memory`: the windows' calls fit in
    the engine's memory, so the span views are computed once (else each query reads the logs)."""
    import numpy as np

    w, f, ti, pt = queries.span_view(windows)
    for statement in (w, f):
        engine.execute(statement)
    if in_memory:  # the tags joined and the windows labelled once, not by every query
        engine.materialise("w")
        engine.materialise("f")
    engine.execute(ti)
    engine.materialise("ti")  # one row a task, read by three queries
    engine.execute(pt)
    engine.materialise("pt")
    calls = _keyed(engine.rows(queries.ops_calls(engine.dialect)))
    reference_p95 = {i: _float(row[5]) for (w, i), row in calls.items() if w == windows[0][0]}
    slow = _keyed(engine.rows(queries.slow_calls(reference_p95)))
    per_task = _keyed(engine.rows(queries.tasks()))
    tasks = {key: row[:9] for key, row in per_task.items() if row[0]}  # tasks with a call
    ops = {}
    tagged = [0, 0]
    for key in [*calls, *(k for k in tasks if k not in calls)]:
        n, errors, limited, fallbacks, p50, p95, by_classifier, other = calls.get(
            key, (0, 0, 0, 0, None, None, 0, 0)
        )  # no calls: tasks whose first call had another intent than any of theirs here
        if key[1] is None:
            tagged[0] += int(by_classifier or 0)
            tagged[1] += int(other or 0)
        t_n, costed, cost, cost_mean, tokens, *sums = tasks.get(key, (0, 0, None, None, None))
        cost_sd = tokens_sd = None
        if sums:
            cost_sd = _mean_sd(int(costed), sums[0], sums[1])[1]
            tokens_sd = _mean_sd(int(t_n), sums[2], sums[3])[1]
        timed_in, slower_in, timed_all, slower_all = slow.get(key, (0, 0, 0, 0))
        timed, slower = (timed_all, slower_all) if key[1] is None else (timed_in, slower_in)
        ops[key] = OpsFigures(
            calls=int(n),
            tasks=int(t_n),
            latency_p50_ms=_float(p50),
            latency_p95_ms=_float(p95),
            errors=int(errors),
            rate_limited=int(limited),
            fallbacks=int(fallbacks),
            cost_usd=_float(cost) if costed else None,
            cost_per_task_usd=_float(cost_mean) if costed else None,
            tokens_per_task=_float(tokens) if t_n else None,
            timed_calls=int(timed or 0),
            slow_calls=int(slower or 0),
            costed_tasks=int(costed or 0),
            cost_per_task_sd=cost_sd,
            tokens_per_task_sd=tokens_sd,
        )
    events = _keyed(engine.rows(queries.signal_events()))
    signals = {}
    for (w, i), row in per_task.items():
        n, accepted, edited, escalated = row[9:]
        down, up, csat_n, csat_sum, csat_squares = events.get((w, i), (0, 0, 0, None, None))
        down, up = int(down or 0), int(up or 0)
        csat_mean, csat_sd = _mean_sd(int(csat_n), csat_sum, csat_squares)
        signals[(w, i)] = SignalFigures(
            tasks=int(n),
            acceptance=Proportion.of(int(accepted or 0), int(n)),
            edit=Proportion.of(int(edited or 0), int(n)),
            escalation=Proportion.of(int(escalated or 0), int(n)),
            thumbs_down=Proportion.of(down, down + up),
            csat_mean=csat_mean,
            csat_n=int(csat_n),
            csat_sd=csat_sd,
        )
    intent_calls: dict[str, dict[str, int]] = {}
    for (w, i), row in calls.items():
        if i is not None:
            intent_calls.setdefault(w, {})[i] = int(row[0])
    counts: dict[str, tuple[list[int], list[int]]] = {}
    for w, chars, n in engine.rows(queries.lengths()):
        values, repeats = counts.setdefault(w, ([], []))
        values.append(int(chars))
        repeats.append(int(n))
    lengths = {w: (np.asarray(v), np.asarray(r)) for w, (v, r) in counts.items()}
    model_rows = tuple(engine.rows(queries.models()))
    models: dict[str, dict[str, int]] = {}
    for w, model, _, n, _ in model_rows:
        by_model = models.setdefault(w, {})
        by_model[model] = by_model.get(model, 0) + int(n)
    return WindowFigures(
        ops, signals, intent_calls, lengths, models, model_rows, (tagged[0], tagged[1])
    )


def text_sample(engine: Engine, window: str, size: int, seed: int) -> TextSample:
    """Up to `size` of the window's inputs in time order (the span views must be defined)."""
    rows = sorted(engine.rows(queries.sample(window, size, seed)), key=lambda r: r[0])
    return TextSample(tuple(str(r[1]) for r in rows), tuple(str(r[2]) for r in rows))


def _keyed(rows: list[tuple[Any, ...]]) -> dict[Key, tuple[Any, ...]]:
    """Rows of a per-(window, intent)-and-overall query by key; intent None is overall, and a
    NULL intent of a per-intent row (tasks without a call) belongs to no intent."""
    out: dict[Key, tuple[Any, ...]] = {}
    for window, intent, *values, overall in rows:
        if overall:
            out[(str(window), None)] = tuple(values)
        elif intent is not None:
            out[(str(window), str(intent))] = tuple(values)
    return out


def _mean_sd(n: int, total: Any, squares: Any) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation from exact decimal sums (the same on every run)."""
    if not n or total is None or squares is None:
        return None, None
    total, squares = Decimal(str(total)), Decimal(str(squares))
    mean = total / n
    if n < 2:
        return float(mean), None
    variance = max((squares - total * mean) / (n - 1), Decimal(0))
    return float(mean), float(variance.sqrt())


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
