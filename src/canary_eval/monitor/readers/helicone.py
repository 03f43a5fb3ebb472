"""Helicone request logs (its request export / query API): one record a request.

`request_created_at` (ISO 8601), latency from `delay_ms` or `response_created_at` - request time,
`request_body.messages` (the last user turn), `prompt_tokens` / `completion_tokens` (else
`response_body.usage`), `response_model` / `request_model` / `model`, cost from `cost` or
`costUSD`, the HTTP `response_status` (or `status`: 429 is rate_limited, 4xx/5xx an error).
The task is the `Helicone-Session-Id` property, else the request id. `feedback_rating`
(true / false, at `feedback_created_at`) is a thumbs-up or -down.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from canary_eval.monitor.readers import shape, values
from canary_eval.monitor.readers.shape import Item, ShapeOptions, pick

SESSION = "Helicone-Session-Id"


def parse(row: Mapping[str, Any], options: ShapeOptions, stream: str) -> Iterator[Item]:
    yield from shape.guarded(_request(row, options))


def _request(row: Mapping[str, Any], options: ShapeOptions) -> Iterator[Item]:
    start = pick(row, options, "ts", "request_created_at")
    task = options.fields.get("task_id")
    properties = row.get("properties") or row.get("request_properties") or {}
    task_id = (
        shape.dig(row, task)
        if task
        else (properties.get(SESSION) if isinstance(properties, Mapping) else None)
        or row.get("request_id")
    )
    delay = pick(row, options, "latency_ms", "delay_ms", "latency")
    if delay is not None:
        latency_ms = values.duration_ms(delay, "delay_ms", options.latency_unit)
    else:
        began = values.timestamp(start, "request_created_at")[0]
        ended = values.timestamp(row.get("response_created_at"), "response_created_at")[0]
        latency_ms = max(ended - began, 0.0) * 1e3
    status = values.status(
        pick(row, options, "status", "response_status", "status"), options.statuses
    )
    rating = row.get("feedback_rating")
    if isinstance(rating, bool):
        yield shape.feedback(
            ts=row.get("feedback_created_at") or start,
            task_id=task_id,
            event="thumbs_up" if rating else "thumbs_down",
        )
    yield shape.call(
        ts=start,
        task_id=task_id,
        input=values.message_text(
            pick(row, options, "input", "request_body.messages", "request_body.prompt"),
            "user",
            "request_body.messages",
        ),
        intent=pick(row, options, "intent", "properties.intent", "request_properties.intent"),
        latency_ms=latency_ms,
        input_tokens=pick(
            row, options, "input_tokens", "prompt_tokens", "response_body.usage.prompt_tokens"
        ),
        output_tokens=pick(
            row,
            options,
            "output_tokens",
            "completion_tokens",
            "response_body.usage.completion_tokens",
        ),
        cost_usd=pick(row, options, "cost_usd", "cost", "costUSD"),
        status=status,
        fallback=pick(row, options, "fallback", "properties.fallback"),
        model=pick(
            row, options, "model", "response_model", "request_model", "model", "response_body.model"
        ),
    )
