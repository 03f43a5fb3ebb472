"""Each vendor shape, from a fixture written after its public documentation, becomes canonical
calls and feedback; a bad record is counted with its file and line, and the rest still read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from canary_eval.monitor.readers import ShapeOptions, read_logs

FIXTURES = Path(__file__).parent / "fixtures"
T0 = 1714564800.0  # 2024-05-01T12:00:00Z


def read(
    tmp_path: Path, fmt: str | None, calls: str, feedback: tuple[str, ...] = ()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Any]:
    logs = read_logs(
        (str(FIXTURES / calls),),
        tuple(str(FIXTURES / f) for f in feedback),
        formats=(fmt, None),
        options=(ShapeOptions(), ShapeOptions()),
        staging=tmp_path,
    )

    def staged(path: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in Path(path).read_text().splitlines()]

    return staged(logs.calls.staged), staged(logs.feedback.staged), logs


def brief(call: dict[str, Any]) -> tuple[Any, ...]:
    return (
        round(call["ts"] - T0, 3),
        call["task_id"],
        call["input"],
        round(call["latency_ms"], 3),
        call["input_tokens"],
        call["output_tokens"],
        call["status"],
        call["model"],
    )


@pytest.mark.parametrize("fmt", ["otlp", None])
def test_otlp_genai_spans_are_calls_and_feedback_events_are_feedback(
    fmt: str | None, tmp_path: Path
) -> None:
    calls, feedback, logs = read(tmp_path, fmt, "otlp.jsonl")
    # The task is the span's gen_ai.conversation.id, else (the second call) its trace id.
    conversation = "conv-1"
    assert [brief(c) for c in calls] == [
        (0.0, conversation, "Where is my parcel?", 812.5, 200, 100, "ok",
         "gpt-4o-mini-2024-07-18"),
        (100.0, "6c9f0008a9149214e37ac744924fd71d", "Cancel my order", 1500.0, 150, 0,
         "rate_limited", "gpt-4o-mini"),
    ]  # fmt: skip
    assert [(f["ts"] - T0, f["task_id"], f["event"]) for f in feedback] == [
        (60.0, conversation, "thumbs_down")
    ]
    (bad,) = logs.calls_tally.examples
    assert (Path(bad.path).name, bad.line) == ("otlp.jsonl", 1)
    assert bad.reason.startswith("span 3 (ccc): startTimeUnixNano")
    assert logs.calls_tally.time_units == {"epoch_ns": 2}


def test_otlp_spans_group_into_tasks_by_a_configured_attribute(tmp_path: Path) -> None:
    logs = read_logs(
        (str(FIXTURES / "otlp.jsonl"),),
        (),
        formats=("otlp", None),
        options=(ShapeOptions(task_key="service.name"), ShapeOptions()),  # a resource's
        staging=tmp_path,
    )
    staged = [json.loads(line) for line in Path(logs.calls.staged).read_text().splitlines()]
    assert [c["task_id"] for c in staged] == ["support-bot", "support-bot"]


def test_langfuse_generations_and_scores(tmp_path: Path) -> None:
    calls, feedback, logs = read(
        tmp_path, "langfuse", "langfuse-observations.jsonl", ("langfuse-scores.jsonl",)
    )
    assert [brief(c) for c in calls] == [
        (0.0, "trace-1", "Where is my parcel?", 812.0, 200, 100, "ok", "gpt-4o-mini"),
        (100.0, "trace-2", "Cancel my order", 1500.0, 150, 0, "rate_limited", "gpt-4o-mini"),
    ]
    assert calls[0]["intent"] == "shipping"
    assert calls[0]["cost_usd"] == pytest.approx(0.00009)
    assert [(f["event"], f["value"]) for f in feedback] == [("thumbs_down", None), ("csat", 2.0)]
    assert [(m.line, m.reason) for m in logs.calls_tally.examples] == [
        (4, "endTime: before startTime")
    ]


def test_litellm_payloads_and_spend_logs(tmp_path: Path) -> None:
    calls, _, logs = read(tmp_path, "litellm", "litellm.jsonl")
    assert [brief(c) for c in calls] == [
        (0.0, "trace-1", "Where is my parcel?", 812.5, 200, 100, "ok", "gpt-4o-mini"),
        (100.0, "trace-2", "Cancel my order", 1500.0, 150, 0, "rate_limited", "gpt-4o-mini"),
    ]
    assert [(m.line, m.reason) for m in logs.calls_tally.examples] == [(3, "endTime: missing")]
    assert logs.calls_tally.time_units == {"epoch_s": 1, "iso": 1}


def test_helicone_requests_and_their_feedback_rating(tmp_path: Path) -> None:
    calls, feedback, logs = read(tmp_path, "helicone", "helicone.jsonl")
    assert [brief(c) for c in calls] == [
        (0.0, "conv-1", "Where is my parcel?", 812.5, 200, 100, "ok", "gpt-4o-mini-2024-07-18"),
        (100.0, "8f4e6e2a-2", "Cancel my order", 1500.0, 150, 0, "rate_limited", "gpt-4o-mini"),
    ]
    assert [(f["ts"] - T0, f["event"]) for f in feedback] == [(60.0, "thumbs_down")]
    assert [(m.line, m.reason) for m in logs.calls_tally.examples] == [
        (3, "request_body.messages: no user message with text")
    ]


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("otlp.jsonl", "otlp"),
        ("langfuse-observations.jsonl", "langfuse"),
        ("langfuse-scores.jsonl", "langfuse"),
        ("litellm.jsonl", "litellm"),
        ("helicone.jsonl", "helicone"),
    ],
)
def test_the_shape_is_detected_from_the_first_record(name: str, shape: str) -> None:
    from canary_eval.monitor.readers import detect

    first = json.loads((FIXTURES / name).read_text().splitlines()[0])
    assert detect(first) == shape


def test_a_vendor_shape_in_parquet_reads_as_from_jsonl(tmp_path: Path) -> None:
    import duckdb

    from canary_eval.monitor.readers.parquet import literal

    source = FIXTURES / "langfuse-observations.jsonl"
    parquet = tmp_path / "observations.parquet"
    duckdb.sql(
        f"COPY (SELECT * FROM read_json_auto({literal(str(source))})) "
        f"TO {literal(str(parquet))} (FORMAT parquet)"
    )
    from_jsonl, _, _ = read(tmp_path / "a", "langfuse", "langfuse-observations.jsonl")
    logs = read_logs(
        (str(parquet),),
        (),
        formats=("langfuse", None),
        options=(ShapeOptions(), ShapeOptions()),
        staging=tmp_path / "b",
    )
    from_parquet = [json.loads(line) for line in Path(logs.calls.staged).read_text().splitlines()]
    assert [brief(c) for c in from_parquet] == [brief(c) for c in from_jsonl]
    assert [(m.line, m.reason) for m in logs.calls_tally.examples] == [
        (4, "endTime: before startTime")
    ]


def test_table_sources_need_spark(tmp_path: Path) -> None:
    from canary_eval.errors import ConfigError
    from canary_eval.monitor import run_monitor

    config = tmp_path / "monitor.yaml"
    config.write_text("calls: table:analytics.llm_calls\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="need engine: spark") as caught:
        run_monitor(config)
    assert caught.value.exit_code == 2
