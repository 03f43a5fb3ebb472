"""canary's own record shape (README: production logs), with `fields:` renaming and dotted paths.

A call: ts, task_id, input, latency_ms, input_tokens, output_tokens, status, and optionally
intent, cost_usd, fallback, model. A feedback event: ts, task_id, event, value (CSAT 1-5).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from canary_eval.monitor.readers import shape, values
from canary_eval.monitor.readers.shape import Item, ShapeOptions


def parse(row: Mapping[str, Any], options: ShapeOptions, stream: str) -> Iterator[Item]:
    fields = options.fields

    def get(name: str) -> Any:
        return shape.dig(row, fields.get(name, name))

    if stream == "feedback":
        yield shape.feedback(
            ts=get("ts"), task_id=get("task_id"), event=get("event"), value=get("value")
        )
        return
    try:
        latency = values.duration_ms(get("latency_ms"), "latency_ms", options.latency_unit)
        status = values.status(get("status"), options.statuses)
    except values.BadValue as bad:
        yield bad
        return
    yield shape.call(
        ts=get("ts"),
        task_id=get("task_id"),
        input=get("input"),
        intent=get("intent"),
        latency_ms=latency,
        input_tokens=get("input_tokens"),
        output_tokens=get("output_tokens"),
        cost_usd=get("cost_usd"),
        status=status,
        fallback=get("fallback"),
        model=get("model"),
    )
