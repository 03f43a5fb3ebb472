"""Production logs as the tools teams use write them: canary's canonical records re-shaped.

`write_logs(calls, feedback, directory, fmt)` writes the same calls and feedback events as
OTLP JSON (file exporter: one ExportTraceServiceRequest a line, GenAI semantic conventions),
Langfuse observations + scores, LiteLLM StandardLoggingPayload records, Helicone request logs,
or Parquet (canonical columns), and returns the files plus the monitor config keys that read
them. Every format carries the same figures, which is what the tests of the readers check.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FORMATS = ("jsonl", "otlp", "langfuse", "litellm", "helicone", "parquet")
_SPANS_PER_LINE = 50
Record = dict[str, Any]


def write_logs(
    calls: Sequence[Record], feedback: Sequence[Record], directory: Path, fmt: str
) -> tuple[Path, Path, dict[str, Any]]:
    """(calls file, feedback file, monitor config keys) for `fmt` in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        return _parquet(calls, feedback, directory)
    if fmt == "jsonl":
        keys: dict[str, Any] = {}
        rows: Iterable[Record] = calls
    elif fmt == "otlp":
        keys = {"format": "otlp", "task_key": "gen_ai.conversation.id"}
        rows = _otlp_batches(calls)
    else:
        keys = {"format": fmt}
        rows = map({"langfuse": _langfuse, "litellm": _litellm, "helicone": _helicone}[fmt], calls)
    events: Iterable[Record] = map(_score, feedback) if fmt == "langfuse" else feedback
    names = (
        ("calls.jsonl", "feedback.jsonl")
        if fmt == "jsonl"
        else (f"calls.{fmt}.jsonl", f"feedback.{fmt}.jsonl")
    )
    paths = (directory / names[0], directory / names[1])
    for path, records in zip(paths, (rows, events), strict=True):
        with path.open("w", encoding="utf-8") as out:
            out.writelines(json.dumps(r) + "\n" for r in records)
    return paths[0], paths[1], keys


def _when(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC)


def _nanos(when: datetime) -> int:
    return (calendar.timegm(when.timetuple()) * 10**6 + when.microsecond) * 1000


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _hex(text: str, size: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def _messages(call: Record) -> list[Record]:
    return [
        {"role": "system", "content": "You are the support assistant."},
        {"role": "user", "content": call["input"]},
    ]


def _attr(key: str, value: Any) -> Record:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}  # int64 is a string in OTLP JSON
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": str(value)}}


def _span(call: Record, index: int) -> Record:
    start = _nanos(_when(call["ts"]))
    end = start + round(call["latency_ms"] * 1e6)
    messages = [
        {"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]}
        for m in _messages(call)
    ]
    attrs = [
        _attr("gen_ai.operation.name", "chat"),
        _attr("gen_ai.provider.name", "openai"),
        _attr("gen_ai.request.model", call.get("model", "")),
        _attr("gen_ai.response.model", call.get("model", "")),
        _attr("gen_ai.conversation.id", call["task_id"]),
        _attr("gen_ai.usage.input_tokens", int(call["input_tokens"])),
        _attr("gen_ai.usage.output_tokens", int(call["output_tokens"])),
        _attr("gen_ai.input.messages", json.dumps(messages)),
        _attr("fallback", bool(call.get("fallback"))),
    ]
    if call.get("intent"):
        attrs.append(_attr("intent", call["intent"]))
    status: Record = {}
    if call["status"] != "ok":
        attrs.append(_attr("error.type", "429" if call["status"] == "rate_limited" else "500"))
        status = {"code": 2, "message": call["status"]}
    return {
        "traceId": _hex(f"{call['task_id']}", 32),
        "spanId": _hex(f"{call['task_id']}/{index}", 16),
        "name": f"chat {call.get('model', '')}",
        "kind": 3,  # SPAN_KIND_CLIENT
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
        "attributes": attrs,
        "status": status,
    }


def _otlp_batches(calls: Sequence[Record]) -> Iterable[Record]:
    resource = {"attributes": [_attr("service.name", "support-bot")]}
    scope = {"name": "opentelemetry.instrumentation.openai_v2", "version": "2.1b0"}
    for start in range(0, len(calls), _SPANS_PER_LINE):
        spans = [_span(c, start + i) for i, c in enumerate(calls[start : start + _SPANS_PER_LINE])]
        yield {
            "resourceSpans": [
                {"resource": resource, "scopeSpans": [{"scope": scope, "spans": spans}]}
            ]
        }


def _langfuse(call: Record) -> Record:
    start = _when(call["ts"])
    level, message = "DEFAULT", None
    if call["status"] != "ok":
        level = "ERROR"
        message = "429 Rate limit reached" if call["status"] == "rate_limited" else "500 error"
    return {
        "id": _hex(f"{call['task_id']}/{call['ts']}", 16),
        "traceId": call["task_id"],
        "type": "GENERATION",
        "name": "support-answer",
        "startTime": _iso(start),
        "endTime": _iso(start + timedelta(milliseconds=call["latency_ms"])),
        "model": call.get("model"),
        "input": _messages(call),
        "output": {"role": "assistant", "content": call.get("output", "")},
        "usage": {
            "input": call["input_tokens"],
            "output": call["output_tokens"],
            "total": call["input_tokens"] + call["output_tokens"],
            "unit": "TOKENS",
        },
        "level": level,
        "statusMessage": message,
        "metadata": {"intent": call.get("intent"), "fallback": bool(call.get("fallback"))},
    }


def _score(event: Record) -> Record:
    return {
        "id": _hex(f"{event['task_id']}/{event['ts']}/{event['event']}", 16),
        "traceId": event["task_id"],
        "name": event["event"],
        "value": event.get("value") if event["event"] == "csat" else 1,
        "dataType": "NUMERIC",
        "source": "API",
        "timestamp": event["ts"],
    }


def _litellm(call: Record) -> Record:
    start = _when(call["ts"]).timestamp()
    failed = call["status"] != "ok"
    return {
        "id": _hex(f"{call['task_id']}/{call['ts']}", 16),
        "trace_id": call["task_id"],
        "call_type": "acompletion",
        "response_cost": call.get("cost_usd"),
        "status": "failure" if failed else "success",
        "total_tokens": call["input_tokens"] + call["output_tokens"],
        "prompt_tokens": call["input_tokens"],
        "completion_tokens": call["output_tokens"],
        "startTime": start,
        "endTime": start + call["latency_ms"] / 1e3,
        "model": call.get("model"),
        "messages": _messages(call),
        "response": {
            "choices": [{"message": {"role": "assistant", "content": call.get("output", "")}}]
        },
        "error_str": (
            "litellm.RateLimitError: 429"
            if call["status"] == "rate_limited"
            else "litellm.InternalServerError: 500"
        )
        if failed
        else None,
        "metadata": {"intent": call.get("intent"), "fallback": bool(call.get("fallback"))},
    }


def _helicone(call: Record) -> Record:
    start = _when(call["ts"])
    code = {"ok": 200, "error": 500, "rate_limited": 429}[call["status"]]
    properties = {
        "Helicone-Session-Id": call["task_id"],
        "fallback": str(bool(call.get("fallback"))),
    }
    if call.get("intent"):
        properties["intent"] = call["intent"]
    return {
        "request_id": _hex(f"{call['task_id']}/{call['ts']}", 32),
        "request_created_at": _iso(start),
        "response_created_at": _iso(start + timedelta(milliseconds=call["latency_ms"])),
        "delay_ms": call["latency_ms"],
        "request_body": {"model": call.get("model"), "messages": _messages(call)},
        "response_body": {
            "model": call.get("model"),
            "choices": [{"message": {"role": "assistant", "content": call.get("output", "")}}],
        },
        "response_status": code,
        "request_model": call.get("model"),
        "response_model": call.get("model"),
        "prompt_tokens": call["input_tokens"],
        "completion_tokens": call["output_tokens"],
        "cost": call.get("cost_usd"),
        "properties": properties,
    }


def _parquet(
    calls: Sequence[Record], feedback: Sequence[Record], directory: Path
) -> tuple[Path, Path, dict[str, Any]]:
    """Canonical columns through DuckDB: the JSONL goes in, Parquet comes out."""
    import duckdb

    from canary_eval.monitor.readers.parquet import literal

    paths = (directory / "calls.parquet", directory / "feedback.parquet")
    db = duckdb.connect()
    for records, path in zip((calls, feedback), paths, strict=True):
        staging = path.with_suffix(".staging.jsonl")
        staging.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        db.execute(
            f"COPY (SELECT * FROM read_json_auto({literal(str(staging))})) "
            f"TO {literal(str(path))} (FORMAT parquet)"
        )
        staging.unlink()
    db.close()
    return paths[0], paths[1], {"format": "parquet"}
