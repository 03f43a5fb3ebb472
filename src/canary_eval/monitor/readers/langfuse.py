"""Langfuse exports: observations (GET /api/public/observations) and scores (/api/public/scores).

A `GENERATION` observation is a call: `startTime` / `endTime` (ISO 8601), `model`, `input` (a
messages array, `{messages: [...]}` or text: the last user turn), `usage.input` / `usage.output`
(or `usageDetails`, or `promptTokens` / `completionTokens`), cost from `calculatedTotalCost` or
`costDetails.total`, `level` ERROR as an error (a `statusMessage` naming 429 or a rate limit as
rate_limited). Latency is end - start; a `latency` field alone is in seconds, as Langfuse
writes it. The task is the trace (`traceId`). A score is feedback when its name is a feedback
event (`csat` with its value) or a user-feedback thumb (`user-feedback`, value 1 or 0). Other
observation types (SPAN, EVENT) and other scores are skipped, not counted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from canary_eval.monitor.readers import shape, values
from canary_eval.monitor.readers.shape import Item, ShapeOptions, pick
from canary_eval.monitor.readers.values import EVENTS, BadValue

THUMB_SCORES = ("user-feedback", "user_feedback", "feedback", "thumbs")


def parse(row: Mapping[str, Any], options: ShapeOptions, stream: str) -> Iterator[Item]:
    if "value" in row and "name" in row and "type" not in row:
        yield from _score(row, options)
        return
    if row.get("type", "GENERATION") != "GENERATION":
        return
    yield from shape.guarded(_generation(row, options))


def _generation(row: Mapping[str, Any], options: ShapeOptions) -> Iterator[Item]:
    start = pick(row, options, "ts", "startTime")
    latency = pick(row, options, "latency_ms")
    if latency is not None:
        latency_ms = values.duration_ms(latency, "latency_ms", options.latency_unit)
    elif row.get("endTime") is not None:
        began = values.timestamp(start, "startTime")[0]
        ended = values.timestamp(row.get("endTime"), "endTime")[0]
        if ended < began:
            raise BadValue("endTime: before startTime")
        latency_ms = (ended - began) * 1e3
    else:
        latency_ms = values.duration_ms(row.get("latency"), "latency", "s")
    level = str(row.get("level") or "DEFAULT").upper()
    message = str(row.get("statusMessage") or "").lower()
    status = "ok"
    if level == "ERROR":
        status = "rate_limited" if "429" in message or "rate limit" in message else "error"
    yield shape.call(
        ts=start,
        task_id=pick(row, options, "task_id", "traceId"),
        input=values.message_text(pick(row, options, "input", "input"), "user", "input"),
        intent=pick(row, options, "intent", "metadata.intent"),
        latency_ms=latency_ms,
        input_tokens=pick(
            row, options, "input_tokens", "usage.input", "usageDetails.input", "promptTokens"
        ),
        output_tokens=pick(
            row,
            options,
            "output_tokens",
            "usage.output",
            "usageDetails.output",
            "completionTokens",
        ),
        cost_usd=pick(row, options, "cost_usd", "calculatedTotalCost", "costDetails.total"),
        status=status,
        fallback=pick(row, options, "fallback", "metadata.fallback"),
        model=pick(row, options, "model", "model"),
    )


def _score(row: Mapping[str, Any], options: ShapeOptions) -> Iterator[Item]:
    name = str(row.get("name", "")).strip().lower()
    value = row.get("value")
    if name in EVENTS:
        event = name
    elif name in THUMB_SCORES:
        try:
            event = "thumbs_up" if values.number(value, "value") > 0 else "thumbs_down"
        except BadValue as bad:
            yield bad
            return
    else:
        return
    yield shape.feedback(
        ts=pick(row, options, "ts", "timestamp"),
        task_id=pick(row, options, "task_id", "traceId"),
        event=event,
        value=value,
    )
