"""LiteLLM logs: the StandardLoggingPayload its callbacks write, and the proxy's spend logs.

One record a call: `startTime` / `endTime` (epoch seconds in the payload, ISO 8601 in spend
logs), `model`, `messages` (the last user turn is the input), `prompt_tokens` /
`completion_tokens`, cost from `response_cost` (payload) or `spend` (spend logs), `status`
success or failure (a failure whose error names 429 or RateLimitError is rate_limited). Latency
is end - start. The task is `trace_id`, else `session_id`, else the call's own id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from canary_eval.monitor.readers import shape, values
from canary_eval.monitor.readers.shape import Item, ShapeOptions, pick
from canary_eval.monitor.readers.values import BadValue


def parse(row: Mapping[str, Any], options: ShapeOptions, stream: str) -> Iterator[Item]:
    payload = row.get("standard_logging_object")
    yield from shape.guarded(_call(payload if isinstance(payload, Mapping) else row, options))


def _call(row: Mapping[str, Any], options: ShapeOptions) -> Iterator[Item]:
    start = pick(row, options, "ts", "startTime")
    began = values.timestamp(start, "startTime")[0]
    ended = values.timestamp(row.get("endTime"), "endTime")[0]
    if ended < began:
        raise BadValue("endTime: before startTime")
    raw_status = str(row.get("status") or "success").lower()
    error = str(row.get("error_str") or "") + str(row.get("error_information") or "")
    status = values.status(raw_status, options.statuses)
    if status == "error" and ("429" in error or "ratelimit" in error.lower()):
        status = "rate_limited"
    yield shape.call(
        ts=start,
        task_id=pick(row, options, "task_id", "trace_id", "session_id", "id", "request_id"),
        input=values.message_text(pick(row, options, "input", "messages"), "user", "messages"),
        intent=pick(row, options, "intent", "metadata.intent"),
        latency_ms=(ended - began) * 1e3,
        input_tokens=pick(row, options, "input_tokens", "prompt_tokens"),
        output_tokens=pick(row, options, "output_tokens", "completion_tokens"),
        cost_usd=pick(row, options, "cost_usd", "response_cost", "spend"),
        status=status,
        fallback=pick(row, options, "fallback", "metadata.fallback"),
        model=pick(row, options, "model", "model"),
    )
