"""Canonical records in Parquet, read in place by the query engine: SQL that types and checks them.

Parquet in canary's own shape is not pulled through Python: the engine selects the columns
(`fields:` may rename them; dotted names reach into structs), converts the time (a TIMESTAMP
column, an ISO 8601 string, or epoch s/ms/us/ns told apart by magnitude as for text logs) and
names the first problem of each row in `reason`. Rows with a reason are counted and a few shown
with their file and row; the rest feed the aggregations. The SQL is the same for DuckDB and
Spark but for the three functions of `Dialect`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from canary_eval.monitor.readers.values import EVENTS, MAX_COUNT

LATEST = 7258118400  # 2200-01-01, as in readers.values
_SCALE = {"ms": 1.0, "s": 1e3, "us": 1e-3, "ns": 1e-6}
_STATUS = (
    ("ok", ("ok", "success")),
    ("error", ("error", "failure", "failed")),
    ("rate_limited", ("rate_limited", "rate-limited")),
)


class Dialect(Protocol):
    """The few spellings DuckDB and Spark SQL do not share."""

    def quote(self, name: str) -> str: ...
    def quantile(self, column: str, q: float) -> str: ...
    def epoch_of_timestamp(self, column: str) -> str: ...
    def epoch_of_iso(self, column: str) -> str: ...


@dataclass(frozen=True)
class Column:
    sql: str  # the source expression, or NULL when the column is absent
    kind: str  # number | string | timestamp | boolean | absent


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _finite(x: str) -> str:
    return f"(({x}) - ({x}) = 0)"


def _epoch(x: str) -> str:
    return (
        f"CASE WHEN abs({x}) < 1e11 THEN {x} WHEN abs({x}) < 1e14 THEN {x} / 1e3 "
        f"WHEN abs({x}) < 1e17 THEN {x} / 1e6 ELSE {x} / 1e9 END"
    )


def _unit(x: str) -> str:
    return (
        f"CASE WHEN abs({x}) < 1e11 THEN 'epoch_s' WHEN abs({x}) < 1e14 THEN 'epoch_ms' "
        f"WHEN abs({x}) < 1e17 THEN 'epoch_us' ELSE 'epoch_ns' END"
    )


def time_columns(column: Column, dialect: Dialect) -> tuple[str, str]:
    """(epoch seconds, unit label) expressions for a time column of any kind."""
    x = column.sql
    if column.kind == "timestamp":
        return dialect.epoch_of_timestamp(x), "'timestamp'"
    if column.kind == "number":
        n = f"CAST({x} AS DOUBLE)"
        return _epoch(n), _unit(n)
    if column.kind == "string":
        n = f"try_cast({x} AS DOUBLE)"
        return (
            f"CASE WHEN {n} IS NOT NULL THEN {_epoch(n)} ELSE {dialect.epoch_of_iso(x)} END",
            f"CASE WHEN {n} IS NOT NULL THEN {_unit(n)} ELSE 'iso' END",
        )
    return "CAST(NULL AS DOUBLE)", "'none'"


def _number(column: Column) -> str:
    """A numeric column as DOUBLE; text through a cast that gives NULL, not an error."""
    if column.kind == "number":
        return f"CAST({column.sql} AS DOUBLE)"
    return f"try_cast(CAST({column.sql} AS STRING) AS DOUBLE)"


def _status(column: Column, statuses: Mapping[str, str]) -> str:
    raw = column.sql
    s = f"lower(trim(CAST({raw} AS STRING)))"
    code = f"try_cast({s} AS BIGINT)"
    names = [(canon, list(words)) for canon, words in _STATUS]
    for word, canon in statuses.items():
        names.insert(0, (canon, [word.lower()]))
    whens = " ".join(
        f"WHEN {s} IN ({', '.join(literal(w) for w in words)}) THEN {literal(canon)}"
        for canon, words in names
    )
    full = (
        f"CASE {whens} WHEN {code} = 429 THEN 'rate_limited' WHEN {code} < 400 THEN 'ok' "
        f"WHEN {code} >= 400 THEN 'error' END"
    )
    if statuses or column.kind != "string":
        return full
    # The canonical names need no lower() or trim(): the common case stays cheap at scale.
    return f"CASE WHEN {raw} IN ('ok', 'error', 'rate_limited') THEN {raw} ELSE {full} END"


def _flag(column: Column) -> str:
    if column.kind == "absent":
        return "false"
    if column.kind == "boolean":
        return f"COALESCE({column.sql}, false)"
    s = f"lower(trim(CAST({column.sql} AS STRING)))"
    return (
        f"CASE WHEN {column.sql} IS NULL OR {s} IN ('false', '0', 'no', 'n', 'f', '') "
        f"THEN false WHEN {s} IN ('true', '1', 'yes', 'y', 't') THEN true END"
    )


def calls_sql(
    columns: Mapping[str, Column],
    dialect: Dialect,
    raw: str,
    *,
    latency_unit: str = "ms",
    statuses: Mapping[str, str] | None = None,
    problem: str | None = None,
) -> str:
    """SELECT of typed call columns plus `reason`, `src_file`, `src_row` from relation `raw`;
    `problem`, a column of `raw`, is the reason of rows found bad before typing (JSONL lines)."""
    c = columns
    ts, unit = time_columns(c["ts"], dialect)
    num = {
        name: _number(c[name])
        for name in ("latency_ms", "input_tokens", "output_tokens", "cost_usd")
    }
    typed = (
        f"SELECT {ts} AS ts, {unit} AS ts_unit, "
        f"CAST({c['task_id'].sql} AS STRING) AS task_id, "
        f"CAST({c['input'].sql} AS STRING) AS input, "
        f"NULLIF(CAST({c['intent'].sql} AS STRING), '') AS intent, "
        f"{num['latency_ms']} * {_SCALE[latency_unit]} AS latency_ms, "
        f"{num['input_tokens']} AS input_tokens, {num['output_tokens']} AS output_tokens, "
        f"{num['cost_usd']} AS cost_usd, {c['cost_usd'].sql} IS NULL AS cost_absent, "
        f"{_status(c['status'], statuses or {})} AS status, "
        f"{c['status'].sql} IS NULL AS status_absent, "
        f"{_flag(c['fallback'])} AS fallback, "
        f"COALESCE(CAST({c['model'].sql} AS STRING), '') AS model, "
        f"{problem or 'CAST(NULL AS STRING)'} AS problem, src_file, src_row FROM {raw}"
    )
    checks = [
        ("ts IS NULL", "ts: missing or not a time"),
        (f"NOT (ts >= 0 AND ts < {LATEST})", "ts: outside 1970-2200"),
        ("task_id IS NULL OR task_id = ''", "task_id: missing"),
        ("input IS NULL", "input: missing"),
        (
            f"latency_ms IS NULL OR NOT {_finite('latency_ms')} OR latency_ms < 0",
            "latency_ms: missing or not a number >= 0",
        ),
        *(
            (
                f"{t} IS NULL OR {t} < 0 OR {t} > {MAX_COUNT} OR {t} <> floor({t})",
                f"{t}: missing or not a whole number",
            )
            for t in ("input_tokens", "output_tokens")
        ),
        (
            f"NOT cost_absent AND (cost_usd IS NULL OR NOT {_finite('cost_usd')} OR cost_usd < 0)",
            "cost_usd: not a number >= 0",
        ),
        ("status_absent", "status: missing"),
        ("status IS NULL", "status: not ok, error or rate_limited"),
        ("fallback IS NULL", "fallback: not a boolean"),
    ]
    return _checked(typed, checks)


def feedback_sql(
    columns: Mapping[str, Column], dialect: Dialect, raw: str, problem: str | None = None
) -> str:
    c = columns
    ts, unit = time_columns(c["ts"], dialect)
    typed = (
        f"SELECT {ts} AS ts, {unit} AS ts_unit, "
        f"CAST({c['task_id'].sql} AS STRING) AS task_id, "
        f"lower(trim(CAST({c['event'].sql} AS STRING))) AS event, "
        f"{_number(c['value'])} AS value, "
        f"{problem or 'CAST(NULL AS STRING)'} AS problem, src_file, src_row FROM {raw}"
    )
    events = ", ".join(literal(e) for e in EVENTS)
    checks = [
        ("ts IS NULL", "ts: missing or not a time"),
        (f"NOT (ts >= 0 AND ts < {LATEST})", "ts: outside 1970-2200"),
        ("task_id IS NULL OR task_id = ''", "task_id: missing"),
        (f"event IS NULL OR event NOT IN ({events})", "event: not a feedback event"),
        (
            "event = 'csat' AND (value IS NULL OR NOT (value >= 1 AND value <= 5))",
            "value: csat missing or outside 1-5",
        ),
    ]
    return _checked(typed, checks)


def _checked(typed: str, checks: list[tuple[str, str]]) -> str:
    whens = " ".join(f"WHEN {cond} THEN {literal(reason)}" for cond, reason in checks)
    return (
        f"SELECT *, CASE WHEN problem IS NOT NULL THEN problem {whens} END AS reason "
        f"FROM ({typed}) typed"
    )
