"""Production log records: streaming JSONL / CSV readers that map, parse and validate each line.

Call records and feedback events come from globs (optionally gzipped; `.csv` is CSV, anything
else JSONL) or stdin (JSONL or CSV, told apart by the first line). `ts` is ISO 8601 (naive means
UTC) or epoch seconds; `status` may also be an HTTP code (429 is rate_limited). A `fields:`
mapping renames source fields to the canonical ones (dotted paths reach into nested JSON). A line
that cannot be used is counted with its file, line and reason, and the run goes on; `Tally.check`
turns too large a malformed share into a LogError. Records are NamedTuples because a month of
logs is millions of them and they only live long enough to be accumulated.
"""

from __future__ import annotations

import csv
import glob
import gzip
import itertools
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from canary_eval.errors import LogError
from canary_eval.monitor.config import STDIN, Pricing

STATUSES = ("ok", "error", "rate_limited")
EVENTS = ("thumbs_up", "thumbs_down", "accepted", "edited", "escalated", "csat")
_STATUS_CODES = {"ok": 0, "error": 1, "rate_limited": 2, "rate-limited": 2, "success": 0}
_EVENT_CODES = {name: i for i, name in enumerate(EVENTS)}
_CSAT = EVENTS.index("csat")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}
_KEEP_EXAMPLES = 20


class CallRecord(NamedTuple):
    ts: float  # epoch seconds, UTC
    task_id: str
    input: str
    intent: str | None
    latency_ms: float
    input_tokens: int
    output_tokens: int
    cost_usd: float  # nan when neither logged nor priceable
    status: int  # index into STATUSES
    fallback: bool
    model: str


class FeedbackRecord(NamedTuple):
    ts: float
    task_id: str
    event: int  # index into EVENTS
    value: float  # the CSAT score; nan for other events


@dataclass(frozen=True)
class Malformed:
    path: str
    line: int
    reason: str


@dataclass
class Tally:
    """Counts of records read and rejected for one stream, with the first few rejections."""

    stream: str
    total: int = 0
    malformed: int = 0
    examples: list[Malformed] = field(default_factory=list)

    def reject(self, path: str, line: int, reason: str) -> None:
        self.malformed += 1
        if len(self.examples) < _KEEP_EXAMPLES:
            self.examples.append(Malformed(path, line, reason))

    @property
    def share(self) -> float:
        return self.malformed / self.total if self.total else 0.0

    def check(self, max_share: float) -> None:
        if self.total and self.share > max_share:
            first = self.examples[0]
            raise LogError(
                f"{self.malformed} of {self.total} {self.stream} records malformed "
                f"({self.share:.1%}), above max_malformed_share {max_share:g}; "
                f"first: line {first.line}: {first.reason}",
                path=first.path,
                line=first.line,
            )


class _Bad(Exception):
    """One field of one record cannot be used; the message is the reason."""


def resolve_paths(patterns: Iterable[str]) -> list[str]:
    """Expand globs in order; a pattern matching nothing is a LogError, never a silent skip."""
    paths: list[str] = []
    for pattern in patterns:
        if pattern == STDIN:
            paths.append(STDIN)
            continue
        found = [p for p in sorted(glob.glob(pattern, recursive=True)) if Path(p).is_file()]
        if not found:
            kind = "no file matches" if glob.has_magic(pattern) else "no such file"
            raise LogError(f"{kind} {pattern}", path=pattern)
        paths.extend(found)
    return paths


def read_calls(
    paths: Iterable[str],
    fields: Mapping[str, str],
    pricing: Pricing | None,
    tally: Tally,
    stdin: TextIO | None = None,
) -> Iterator[CallRecord]:
    src = {name: fields.get(name, name) for name in _CALL_PARSERS}
    s_ts, s_task, s_input, s_intent = src["ts"], src["task_id"], src["input"], src["intent"]
    s_lat, s_in, s_out, s_cost = (
        src["latency_ms"],
        src["input_tokens"],
        src["output_tokens"],
        src["cost_usd"],
    )
    s_status, s_fallback, s_model = src["status"], src["fallback"], src["model"]
    in_rate = pricing.input_per_mtok / 1e6 if pricing else math.nan
    out_rate = pricing.output_per_mtok / 1e6 if pricing else math.nan
    for path, line, row in _rows(paths, stdin, tally, src.values()):
        get = row.get
        try:
            in_tok = _count(get(s_in), "input_tokens")
            out_tok = _count(get(s_out), "output_tokens")
            cost = get(s_cost)
            yield CallRecord(
                _timestamp(get(s_ts)),
                _task(get(s_task)),
                _text(get(s_input), "input"),
                _optional_text(get(s_intent)),
                _number(get(s_lat), "latency_ms"),
                in_tok,
                out_tok,
                in_tok * in_rate + out_tok * out_rate
                if cost is None
                else _number(cost, "cost_usd"),
                _status(get(s_status)),
                _flag(get(s_fallback)),
                _optional_text(get(s_model)) or "",
            )
        except _Bad as bad:
            tally.reject(path, line, str(bad))


def read_feedback(
    paths: Iterable[str],
    fields: Mapping[str, str],
    tally: Tally,
    stdin: TextIO | None = None,
) -> Iterator[FeedbackRecord]:
    s_ts, s_task, s_event, s_value = (
        fields.get(name, name) for name in ("ts", "task_id", "event", "value")
    )
    codes = _EVENT_CODES
    for path, line, row in _rows(paths, stdin, tally, (s_ts, s_task, s_event, s_value)):
        get = row.get
        try:
            raw = get(s_event)
            event = codes.get(raw) if isinstance(raw, str) else None
            if event is None:
                event = codes.get(str(raw).strip().lower())
                if event is None:
                    raise _Bad(f"event: {raw!r} is not one of {', '.join(EVENTS)}")
            value = math.nan
            if event == _CSAT:
                value = _number(get(s_value), "value")
                if not 1 <= value <= 5:
                    raise _Bad(f"value: csat {value:g} is outside 1-5")
            yield FeedbackRecord(_timestamp(get(s_ts)), _task(get(s_task)), event, value)
        except _Bad as bad:
            tally.reject(path, line, str(bad))


def _rows(
    paths: Iterable[str], stdin: TextIO | None, tally: Tally, sources: Iterable[str]
) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """Rows as dicts in which every source field, dotted ones included, is a top-level key."""
    dotted = [(source, source.split(".")) for source in sources if "." in source]
    rows = _raw_rows(paths, stdin, tally)
    if not dotted:
        yield from rows
        return
    for path, line, row in rows:
        for source, parts in dotted:
            if source not in row:  # CSV columns keep dotted names flat
                row[source] = _dig(row, parts)
        yield path, line, row


def _raw_rows(
    paths: Iterable[str], stdin: TextIO | None, tally: Tally
) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for path in paths:
        if path == STDIN:
            if stdin is None:
                raise LogError("logs are configured as '-' but no stdin was given", path=STDIN)
            yield from _stream_rows("<stdin>", stdin, None, tally)
            continue
        try:
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
                stem = path[:-3] if path.endswith(".gz") else path
                yield from _stream_rows(path, handle, stem.lower().endswith(".csv"), tally)
        except OSError as exc:
            raise LogError(f"cannot read log file: {exc.strerror or exc}", path=path) from exc


def _stream_rows(
    name: str, handle: TextIO, is_csv: bool | None, tally: Tally
) -> Iterator[tuple[str, int, dict[str, Any]]]:
    if is_csv is None:  # stdin: JSONL when the first non-blank line is an object
        head: list[str] = []
        for line in handle:
            head.append(line)
            if line.strip():
                break
        is_csv = bool(head) and not head[-1].lstrip().startswith("{")
        handle = itertools.chain(head, handle)  # type: ignore[assignment]
    if is_csv:
        blank = 0  # blank lines before the header would make an empty header
        for line in handle:
            if line.strip():
                handle = itertools.chain([line], handle)  # type: ignore[assignment]
                break
            blank += 1
        reader = csv.DictReader(handle)
        for row in reader:
            tally.total += 1
            number = reader.line_num + blank
            if None in row:
                tally.reject(name, number, "more values than header columns")
                continue
            yield name, number, {k: v for k, v in row.items() if v not in ("", None)}
        return
    loads = json.loads
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        tally.total += 1
        try:
            row = loads(line)
        except ValueError as exc:
            tally.reject(name, number, f"invalid JSON: {exc.args[0] if exc.args else exc}")
            continue
        if not isinstance(row, dict):
            tally.reject(name, number, "not a JSON object")
            continue
        yield name, number, row


def _dig(row: Mapping[str, Any], parts: list[str]) -> Any:
    value: Any = row
    for part in parts:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _timestamp(value: Any) -> float:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _Bad(f"ts: {value!r} is not an ISO 8601 time") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise _Bad("ts: missing" if value is None else f"ts: {value!r} is not an ISO 8601 time")


def _task(value: Any) -> str:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _Bad("task_id: missing" if value in (None, "") else f"task_id: {value!r} is not an id")


def _text(value: Any, name: str) -> str:
    if isinstance(value, str):
        return value
    raise _Bad(f"{name}: missing" if value is None else f"{name}: not a string")


def _optional_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or value is None:
        raise _Bad(f"{name}: missing" if value is None else f"{name}: not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _Bad(f"{name}: {value!r} is not a number") from None
    if not math.isfinite(number) or number < 0:
        raise _Bad(f"{name}: {value!r} is not a finite number >= 0")
    return number


def _count(value: Any, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    number = _number(value, name)
    if not number.is_integer():
        raise _Bad(f"{name}: {value!r} is not a whole number")
    return int(number)


def _status(value: Any) -> int:
    if isinstance(value, str):
        code = _STATUS_CODES.get(value.strip().lower())
        if code is not None:
            return code
        if value.strip().isdigit():
            value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):  # an HTTP status code
        return 2 if value == 429 else 0 if value < 400 else 1
    if value is None:
        raise _Bad("status: missing")
    raise _Bad(f"status: {value!r} is not ok, error or rate_limited")


def _flag(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Bad(f"fallback: {value!r} is not a boolean")


_CALL_PARSERS = (
    "ts",
    "task_id",
    "input",
    "intent",
    "latency_ms",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "status",
    "fallback",
    "model",
)
