"""Readers of production logs: every supported shape to canary's canonical call and feedback rows.

Shapes (`format:` in the monitor config, else detected from each file's first record):
canonical, otlp, langfuse, litellm, helicone; containers by file name: JSONL (default), CSV,
Parquet, each optionally gzipped (not Parquet). Canonical Parquet, canonical JSONL files when
the engine is DuckDB (see readers.jsonl) and `table:NAME` sources on Spark are left where they
are for the engine to read in place (see readers.parquet); everything else is parsed here,
record by record, and written as typed canonical JSONL to a staging folder the engine reads.
A bad record is counted with its file and line on the stream's Tally, never raised.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from canary_eval.monitor.config import STDIN, TABLE
from canary_eval.monitor.readers import canonical, helicone, jsonl, langfuse, litellm, otlp
from canary_eval.monitor.readers.rows import container, file_rows, parquet_columns, resolve_paths
from canary_eval.monitor.readers.shape import Item, ShapeOptions
from canary_eval.monitor.readers.tally import Malformed, Tally
from canary_eval.monitor.readers.values import BadValue

__all__ = ["SHAPES", "Logs", "Malformed", "ShapeOptions", "Stream", "Tally", "read_logs"]

Parser = Callable[[Mapping[str, Any], ShapeOptions, str], Iterator[Item]]
SHAPES: dict[str, Parser] = {
    "canonical": canonical.parse,
    "otlp": otlp.parse,
    "langfuse": langfuse.parse,
    "litellm": litellm.parse,
    "helicone": helicone.parse,
}
FORMATS = (*SHAPES, "parquet")  # `parquet` names canonical records in Parquet files


@dataclass(frozen=True)
class Stream:
    """Where the engine finds one stream's rows."""

    staged: str  # typed canonical JSONL written here (possibly empty)
    parquet: tuple[str, ...]  # canonical Parquet files for the engine to read in place
    fields: Mapping[str, str]  # canonical -> source column, for the files read in place
    tables: tuple[str, ...] = ()  # canonical tables of the engine's catalog (Spark)
    jsonl: tuple[str, ...] = ()  # canonical JSONL files for the engine to read in place


@dataclass(frozen=True)
class Logs:
    calls: Stream
    feedback: Stream
    calls_tally: Tally
    feedback_tally: Tally


def detect(row: Mapping[str, Any]) -> str:
    """The shape of a record, from the keys each export is known by."""
    if "resourceSpans" in row:
        return "otlp"
    if "request_body" in row or "request_created_at" in row:
        return "helicone"
    if "standard_logging_object" in row or "response_cost" in row or "spend" in row:
        return "litellm"
    if "traceId" in row and ("startTime" in row or "value" in row):
        return "langfuse"
    return "canonical"


def read_logs(
    calls: tuple[str, ...],
    feedback: tuple[str, ...],
    *,
    formats: tuple[str | None, str | None],
    options: tuple[ShapeOptions, ShapeOptions],
    staging: Path,
    stdin: TextIO | None = None,
    jsonl_in_place: bool = False,
) -> Logs:
    """Read both streams; raises LogError for files that cannot be read at all.
    `jsonl_in_place`: the engine reads canonical JSONL files itself (readers.jsonl)."""
    tallies = {"call": Tally("call"), "feedback": Tally("feedback")}
    staging.mkdir(parents=True, exist_ok=True)
    targets = {"call": staging / "calls.jsonl", "feedback": staging / "feedback.jsonl"}
    parquet: dict[str, list[str]] = {"call": [], "feedback": []}
    tables: dict[str, list[str]] = {"call": [], "feedback": []}
    lines: dict[str, list[str]] = {"call": [], "feedback": []}
    with targets["call"].open("w") as call_out, targets["feedback"].open("w") as fb_out:
        outs = {"call": call_out, "feedback": fb_out}
        for stream, patterns, fmt, opts in (
            ("call", calls, formats[0], options[0]),
            ("feedback", feedback, formats[1], options[1]),
        ):
            for path in resolve_paths(patterns):
                if path.startswith(TABLE):
                    tables[stream].append(path.removeprefix(TABLE))
                    continue
                in_place = container(path) == "parquet" and fmt in ("parquet", "canonical", None)
                if in_place and (fmt or _parquet_shape(path) == "canonical"):
                    parquet[stream].append(path)
                    continue
                if jsonl_in_place and _canonical_jsonl(path, fmt):
                    lines[stream].append(path)
                    continue
                shape = None if fmt in (None, "parquet") else fmt
                _read_file(path, stream, shape, opts, tallies, outs, stdin)
    return Logs(
        Stream(
            str(targets["call"]),
            tuple(parquet["call"]),
            options[0].fields,
            tuple(tables["call"]),
            tuple(lines["call"]),
        ),
        Stream(
            str(targets["feedback"]),
            tuple(parquet["feedback"]),
            options[1].fields,
            tuple(tables["feedback"]),
            tuple(lines["feedback"]),
        ),
        tallies["call"],
        tallies["feedback"],
    )


def _parquet_shape(path: str) -> str:
    """The shape of a Parquet file's records, told by its columns (`detect` looks at keys)."""
    return detect(dict.fromkeys(parquet_columns(path)))


def _canonical_jsonl(path: str, fmt: str | None) -> bool:
    """A JSONL file of canonical records that DuckDB reads as the line reader would."""
    if path == STDIN or container(path) != "jsonl" or fmt not in (None, "canonical"):
        return False
    if fmt is None and detect(jsonl.first_record(path) or {}) != "canonical":
        return False
    return jsonl.readable_in_place(path)


def _read_file(
    path: str,
    stream: str,
    shape: str | None,
    options: ShapeOptions,
    tallies: Mapping[str, Tally],
    outs: Mapping[str, TextIO],
    stdin: TextIO | None,
) -> None:
    parse = SHAPES[shape] if shape else None
    own = tallies[stream]
    for name, line, row in file_rows(path, own, stdin):
        if parse is None:
            parse = SHAPES[detect(row)]
        for item in parse(row, options, stream):
            if isinstance(item, BadValue):
                own.total += 1
                own.reject(name, line, str(item))
                continue
            kind, record = item
            tally = tallies[kind]
            tally.total += 1
            tally.time_units[record.pop("ts_unit")] += 1
            outs[kind].write(json.dumps(record) + "\n")
