"""OTLP JSON traces with the OpenTelemetry GenAI semantic conventions.

The collector's file exporter writes one `ExportTraceServiceRequest` a line: `resourceSpans[]`
-> `scopeSpans[]` -> `spans[]`, attributes as `{key, value: AnyValue}` lists (64-bit integers as
strings), times as `startTimeUnixNano` / `endTimeUnixNano`, `status.code` 2 for an error. A span
is a call when it has a `gen_ai.operation.name` of chat, text_completion or generate_content:
model from `gen_ai.response.model` (else `gen_ai.request.model`), tokens from
`gen_ai.usage.input_tokens` / `output_tokens`, latency from end - start, the last user turn of
`gen_ai.input.messages` (or of `gen_ai.user.message` events) as input. Spans form a task by the
attribute `task_key` names, else by `gen_ai.conversation.id` when the span has one, else by trace
id: the conversation id is the id an application also gives its feedback events (a trace id is
the collector's, which feedback logged elsewhere never carries), so it is the default key that
joins the two. Span events named like a feedback event (`thumbs_down`, `csat` with a `value`
attribute, ...) are feedback. Intent, cost_usd and fallback come from attributes of those names
unless `fields:` names others. Other spans are skipped, not counted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from canary_eval.monitor.readers import shape, values
from canary_eval.monitor.readers.shape import Item, ShapeOptions
from canary_eval.monitor.readers.values import EVENTS, BadValue

CALL_OPERATIONS = ("chat", "text_completion", "generate_content")
CONVERSATION = "gen_ai.conversation.id"


def parse(row: Mapping[str, Any], options: ShapeOptions, stream: str) -> Iterator[Item]:
    batches = row.get("resourceSpans")
    if not isinstance(batches, list):
        yield BadValue("resourceSpans: missing (not an OTLP JSON trace export)")
        return
    for batch in batches:
        if not isinstance(batch, Mapping):
            yield BadValue("resourceSpans: not an object")
            continue
        resource = attributes(_object(batch.get("resource")).get("attributes"))
        for scope in _objects(batch.get("scopeSpans")):
            for index, span in enumerate(_objects(scope.get("spans"))):
                for item in shape.guarded(_span(span, resource, options)):
                    if isinstance(item, BadValue):
                        item = BadValue(f"span {index} ({span.get('spanId', '?')}): {item}")
                    yield item


def _span(
    span: Mapping[str, Any], resource: Mapping[str, Any], options: ShapeOptions
) -> Iterator[Item]:
    attrs = {**resource, **attributes(span.get("attributes"))}
    if options.task_key:
        task = attrs.get(options.task_key)
    else:
        task = attrs.get(CONVERSATION) or span.get("traceId")
    events = [(e.get("name"), e) for e in _objects(span.get("events"))]
    for name, ev in events:
        if name in EVENTS:
            event_attrs = attributes(ev.get("attributes"))
            yield shape.feedback(
                ts=_nanos(ev.get("timeUnixNano"), "event time"),
                task_id=task,
                event=name,
                value=event_attrs.get("value"),
            )
    if attrs.get("gen_ai.operation.name") not in CALL_OPERATIONS:
        return
    start = _nanos(span.get("startTimeUnixNano"), "startTimeUnixNano")
    end = _nanos(span.get("endTimeUnixNano"), "endTimeUnixNano")

    if end < start:
        raise BadValue("endTimeUnixNano: before startTimeUnixNano")
    fields = options.fields
    yield shape.call(
        ts=start,
        task_id=task,
        input=_input(attrs, events),
        intent=attrs.get(fields.get("intent", "intent")),
        latency_ms=(end - start) / 1e6,
        input_tokens=attrs.get("gen_ai.usage.input_tokens"),
        output_tokens=attrs.get("gen_ai.usage.output_tokens"),
        cost_usd=attrs.get(fields.get("cost_usd", "cost_usd")),
        status=_status(span, attrs, options),
        fallback=attrs.get(fields.get("fallback", "fallback")),
        model=attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model"),
    )


def _input(attrs: Mapping[str, Any], events: list[tuple[Any, Mapping[str, Any]]]) -> str:
    messages = attrs.get("gen_ai.input.messages")  # JSON text, or a structured attribute
    if messages is not None:
        return values.message_text(messages, "user", "gen_ai.input.messages")
    turns = [attributes(e.get("attributes")) for name, e in events if name == "gen_ai.user.message"]
    texts = [t.get("content") for t in turns if isinstance(t.get("content"), str)]
    if texts:
        return str(texts[-1])
    raise BadValue("input: no gen_ai.input.messages attribute nor gen_ai.user.message event")


def _status(span: Mapping[str, Any], attrs: Mapping[str, Any], options: ShapeOptions) -> str:
    code = _object(span.get("status")).get("code", 0)
    http = attrs.get("http.response.status_code")
    error_type = str(attrs.get("error.type", ""))
    if http == 429 or error_type in ("429", "rate_limit_exceeded", "RateLimitError"):
        return "rate_limited"
    if code in (2, "STATUS_CODE_ERROR") or error_type:
        return options.statuses.get(error_type.lower(), "error")
    return "ok"


def _nanos(value: Any, name: str) -> int:
    """Epoch nanoseconds (a string in OTLP JSON, as 64-bit integers are)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadValue(f"{name}: missing" if value is None else f"{name}: {value!r}") from None


def attributes(items: Any) -> dict[str, Any]:
    """OTLP `KeyValue` list as a plain dict."""
    return {
        kv["key"]: any_value(kv.get("value"))
        for kv in _objects(items)
        if isinstance(kv.get("key"), str)
    }


def any_value(value: Any) -> Any:
    """OTLP JSON `AnyValue` as a plain Python value."""
    if not isinstance(value, Mapping):
        return None
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return None
    if "doubleValue" in value:
        return value["doubleValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "arrayValue" in value:
        items = _object(value["arrayValue"]).get("values")
        return [any_value(v) for v in items] if isinstance(items, list) else []
    if "kvlistValue" in value:
        return attributes(_object(value["kvlistValue"]).get("values"))
    return None


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _objects(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
