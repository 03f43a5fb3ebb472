"""What every log shape reader shares: its options and the canonical records it yields.

A shape reader turns one raw row (one JSON line, CSV row or Parquet row) into zero or more
canonical records: `("call", {...})` or `("feedback", {...})`, or a `BadValue` for a record it
could not use (an OTLP batch can hold good and bad spans). Canonical calls carry ts (epoch
seconds), task_id, input, intent, latency_ms, input_tokens, output_tokens, cost_usd (None when
not logged), status, fallback and model; feedback ts, task_id, event and value. `ts_unit` says
how the time was written and is counted, not stored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from canary_eval.monitor.readers import values
from canary_eval.monitor.readers.values import BadValue

Record = dict[str, Any]
Item = tuple[str, Record] | BadValue


@dataclass(frozen=True)
class ShapeOptions:
    fields: Mapping[str, str] = field(default_factory=dict)  # canonical -> source (dotted)
    statuses: Mapping[str, str] = field(default_factory=dict)  # source status -> canonical
    latency_unit: str = "ms"  # of a logged latency: ms | s | us | ns
    task_key: str | None = None  # OTLP: the attribute that groups spans into tasks


def dig(row: Mapping[str, Any], path: str) -> Any:
    """A dotted path into nested mappings; a flat key with dots (CSV columns) wins."""
    if path in row:
        return row[path]
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def call(
    *,
    ts: Any,
    task_id: Any,
    input: Any,
    latency_ms: float,
    input_tokens: Any,
    output_tokens: Any,
    status: str,
    model: Any,
    intent: Any = None,
    cost_usd: Any = None,
    fallback: Any = None,
) -> Item:
    """A validated canonical call, or the BadValue that stopped it."""
    try:
        when, unit = values.timestamp(ts)
        return "call", {
            "ts": when,
            "ts_unit": unit,
            "task_id": values.identifier(task_id),
            "input": values.text(input, "input"),
            "intent": values.optional_text(intent),
            "latency_ms": latency_ms,
            "input_tokens": values.count(input_tokens, "input_tokens"),
            "output_tokens": values.count(output_tokens, "output_tokens"),
            "cost_usd": None if cost_usd is None else values.number(cost_usd, "cost_usd"),
            "status": status,
            "fallback": values.flag(fallback),
            "model": values.optional_text(model) or "",
        }
    except BadValue as bad:
        return bad


def feedback(*, ts: Any, task_id: Any, event: Any, value: Any = None) -> Item:
    try:
        when, unit = values.timestamp(ts)
        name = values.event(event)
        score = None
        if name == "csat":
            score = values.number(value, "value")
            if not 1 <= score <= 5:
                raise BadValue(f"value: csat {score:g} is outside 1-5")
        return "feedback", {
            "ts": when,
            "ts_unit": unit,
            "task_id": values.identifier(task_id),
            "event": name,
            "value": score,
        }
    except BadValue as bad:
        return bad


def guarded(items: Iterator[Item]) -> Iterator[Item]:
    """Items of a reader, with a BadValue raised mid-record turned into a yielded one."""
    try:
        yield from items
    except BadValue as bad:
        yield bad


def pick(row: Mapping[str, Any], options: ShapeOptions, name: str, *paths: str) -> Any:
    """A canonical field's value from a vendor record: the `fields:` mapping first, then the
    documented places of that vendor's export shape, in order."""
    mapped = options.fields.get(name)
    for path in (mapped,) if mapped else paths:
        value = dig(row, path)
        if value is not None and value != "":
            return value
    return None
