"""The monitor's aggregations, written once in the SQL that DuckDB and Spark both accept.

The engine defines three views first: `calls_all` and `feedback_all` (canonical typed rows,
cost already priced where the log had none) and `tags` (input -> intent from the classifier, for
calls logged without one). `span_view` then labels each call inside the analysed windows with its
window (`win`) and resolved intent; every figure query reads that view. The only spellings that
differ between the engines (quantiles, time conversions, identifier quotes) come from the
engine's Dialect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from canary_eval.monitor.readers.parquet import Dialect, literal

Window = tuple[str, float, float]  # (label, start exclusive, end inclusive), epoch seconds
# Sums are taken over exact decimals: both engines add a group's rows in whatever order their
# threads finish, and a float sum in another order differs in its last digits from run to run.
EXACT_COST = "DECIMAL(38, 18)"  # USD; up to 1e20
EXACT_CSAT = "DECIMAL(18, 6)"
SQUARED_COST = "DECIMAL(18, 12)"  # USD per task up to 1e6; its square still fits 38 digits


def _parquet_rows(parquet: str, clean: bool) -> str:
    # Checking every row again in every query costs more than the figures: when the count of
    # bad rows was 0 the check is left out.
    return parquet if clean else f"{parquet} WHERE reason IS NULL"


def calls_view(
    staged: str,
    parquet: str | None,
    rate_in: float | None,
    rate_out: float | None,
    clean: bool = False,
) -> str:
    columns = (
        "ts, task_id, input, intent, latency_ms, input_tokens, output_tokens, cost_usd, status, "
        "fallback, model"
    )
    union = f"SELECT {columns} FROM {staged}"
    if parquet:
        union += f" UNION ALL SELECT {columns} FROM {_parquet_rows(parquet, clean)}"
    priced = (
        f"COALESCE(cost_usd, input_tokens * {rate_in!r} + output_tokens * {rate_out!r})"
        if rate_in is not None and rate_out is not None
        else "cost_usd"
    )
    return (
        "CREATE OR REPLACE TEMP VIEW calls_all AS SELECT ts, task_id, input, intent, latency_ms, "
        f"CAST(input_tokens AS BIGINT) AS input_tokens, CAST(output_tokens AS BIGINT) AS "
        f"output_tokens, {priced} AS cost_usd, status, fallback, model FROM ({union}) u"
    )


def feedback_view(staged: str, parquet: str | None, clean: bool = False) -> str:
    columns = "ts, task_id, event, CASE WHEN event = 'csat' THEN value END AS value"
    union = f"SELECT {columns} FROM {staged}"
    if parquet:
        union += f" UNION ALL SELECT {columns} FROM {_parquet_rows(parquet, clean)}"
    return f"CREATE OR REPLACE TEMP VIEW feedback_all AS {union}"


def bad_rows(relation: str, keep: int) -> str:
    """The first `keep` malformed Parquet rows."""
    return (
        f"SELECT src_file, src_row, reason FROM {relation} WHERE reason IS NOT NULL "
        f"ORDER BY src_file, src_row LIMIT {keep}"
    )


def row_counts(relation: str) -> str:
    """(time unit, whether good, rows): one pass for the tally."""
    return (
        f"SELECT ts_unit, reason IS NULL AS good, count(*) FROM {relation} "
        "GROUP BY ts_unit, reason IS NULL"
    )


def newest(until: float | None) -> str:
    cap = f" WHERE ts <= {until!r}" if until is not None else ""
    return (
        f"SELECT (SELECT max(ts) FROM calls_all{cap}), (SELECT max(ts) FROM feedback_all{cap}), "
        f"(SELECT count(*) FROM calls_all)"
    )


def untagged(start: float, end: float) -> str:
    return (
        "SELECT DISTINCT input FROM calls_all WHERE intent IS NULL "
        f"AND ts > {start!r} AND ts <= {end!r}"
    )


def _label(windows: Sequence[Window]) -> str:
    whens = " ".join(
        f"WHEN ts > {start!r} AND ts <= {end!r} THEN {literal(name)}"
        for name, start, end in windows
    )
    return f"CASE {whens} END"


def span_view(windows: Sequence[Window]) -> tuple[str, str, str, str]:
    """Views of the windows: `w` (calls) and `f` (feedback), each row labelled `win`; `ti`, each
    task's intent (that of its first call); `pt`, each task's cost and tokens per window."""
    low = min(start for _, start, _ in windows)
    high = max(end for _, _, end in windows)
    calls = (
        "CREATE OR REPLACE TEMP VIEW w AS SELECT c.ts, c.task_id, c.input, length(c.input) AS "
        "chars, c.latency_ms, c.input_tokens + c.output_tokens AS tokens, "
        f"CAST(c.cost_usd AS {EXACT_COST}) AS cost_usd, c.status, "
        "c.fallback, c.model, c.intent IS NULL AS tagged, "
        "COALESCE(c.intent, g.intent, 'other') AS intent, "
        f"{_label(windows).replace('ts >', 'c.ts >').replace('ts <=', 'c.ts <=')} AS win "
        "FROM calls_all c LEFT JOIN tags g ON c.intent IS NULL AND c.input = g.input "
        f"WHERE c.ts > {low!r} AND c.ts <= {high!r}"
    )
    feedback = (
        f"CREATE OR REPLACE TEMP VIEW f AS SELECT ts, task_id, event, value, {_label(windows)} "
        f"AS win FROM feedback_all WHERE ts > {low!r} AND ts <= {high!r}"
    )
    task_intent = (
        "CREATE OR REPLACE TEMP VIEW ti AS SELECT task_id, min_by(intent, ts) AS task_intent "
        "FROM w GROUP BY task_id"
    )
    per_task = (
        "CREATE OR REPLACE TEMP VIEW pt AS SELECT p.win, p.task_id, ti.task_intent, p.cost, "
        "p.tokens FROM (SELECT win, task_id, CASE WHEN count(cost_usd) = count(*) THEN "
        "sum(cost_usd) END AS cost, sum(tokens) AS tokens FROM w GROUP BY win, task_id) p "
        "JOIN ti ON p.task_id = ti.task_id"
    )
    return calls, feedback, task_intent, per_task


def _both(select: str, group: str, source: str) -> str:
    """Per (win, intent) and overall per win, in one pass: the last column is 1 on the overall
    rows (grouping() tells them from an intent that is NULL, a task seen only in feedback)."""
    return (
        f"SELECT win, {group} AS intent, {select}, grouping({group}) AS overall FROM {source} "
        f"GROUP BY GROUPING SETS ((win, {group}), (win))"
    )


def ops_calls(d: Dialect) -> str:
    select = (
        "count(*), sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END), "
        "sum(CASE WHEN status = 'rate_limited' THEN 1 ELSE 0 END), "
        "sum(CASE WHEN fallback THEN 1 ELSE 0 END), "
        f"{d.quantile('latency_ms', 0.5)}, {d.quantile('latency_ms', 0.95)}, "
        "sum(CASE WHEN tagged THEN 1 ELSE 0 END), "
        "sum(CASE WHEN tagged AND intent = 'other' THEN 1 ELSE 0 END)"
    )
    return _both(select, "intent", "w")


def slow_calls(thresholds: Mapping[str | None, float | None]) -> str:
    """Per (win, intent) and overall: calls with a latency, and of them those slower than the
    p95 of the same segment in the reference window (`thresholds`: intent, or None for all
    calls, -> that p95; for the exact exceedance test). The per-intent columns count only the
    reference window's intents (others have no p95 to exceed); the overall rows read the last
    two counts."""
    intents = [name for name in thresholds if name is not None]
    segment = "NULL"
    known = "FALSE"
    if intents:
        whens = " ".join(f"WHEN {literal(i)} THEN {_double(thresholds[i])}" for i in intents)
        segment = f"CASE intent {whens} END"
        known = f"intent IN ({', '.join(literal(i) for i in intents)})"
    select = (
        f"count(CASE WHEN {known} THEN latency_ms END), "
        f"sum(CASE WHEN latency_ms > {segment} THEN 1 ELSE 0 END), count(latency_ms), "
        f"sum(CASE WHEN latency_ms > {_double(thresholds.get(None))} THEN 1 ELSE 0 END)"
    )
    return _both(select, "intent", "w WHERE win IS NOT NULL")


def _double(value: float | None) -> str:
    # A figure the engine computed, handed back exactly: repr round-trips, and both engines
    # parse a numeric string to the nearest double.
    return "NULL" if value is None else f"CAST('{value!r}' AS DOUBLE)"


def tasks() -> str:
    """Per (win, intent) and overall, over the tasks with a call or feedback in the window:
    tasks with a call, their cost and tokens (exact sums and sums of squares, for the per-task
    spreads the Welch tests need), then every task and how many were accepted, edited and
    escalated. Calls and feedback meet in one full join: one pass for both."""
    flags = ", ".join(
        f"max(CASE WHEN event = '{e}' THEN 1 ELSE 0 END) AS {e}"
        for e in ("accepted", "edited", "escalated")
    )
    joined = (
        f"ev AS (SELECT win, task_id, {flags} FROM f GROUP BY win, task_id), "
        "tt AS (SELECT COALESCE(pt.win, ev.win) AS win, "
        "COALESCE(pt.task_intent, ti.task_intent) AS task_intent, "
        "CASE WHEN pt.task_id IS NULL THEN 0 ELSE 1 END AS called, pt.cost, pt.tokens, "
        "COALESCE(ev.accepted, 0) AS accepted, COALESCE(ev.edited, 0) AS edited, "
        "COALESCE(ev.escalated, 0) AS escalated "
        "FROM pt FULL JOIN ev ON pt.win = ev.win AND pt.task_id = ev.task_id "
        "LEFT JOIN ti ON pt.task_id IS NULL AND ev.task_id = ti.task_id)"
    )
    cost = f"CAST(cost AS {SQUARED_COST})"
    select = (
        f"sum(called), count(cost), sum(cost), avg(cost), avg(tokens), sum({cost}), "
        f"sum({cost} * {cost}), sum(tokens), sum(tokens * tokens), "
        "count(*), sum(accepted), sum(edited), sum(escalated)"
    )
    return f"WITH {joined} {_both(select, 'task_intent', 'tt')}"


def signal_events() -> str:
    csat = f"CAST(CASE WHEN event = 'csat' THEN value END AS {EXACT_CSAT})"
    joined = (
        "fe AS (SELECT f.win, f.event, f.value, ti.task_intent FROM f "
        "LEFT JOIN ti ON f.task_id = ti.task_id)"
    )
    select = (
        "sum(CASE WHEN event = 'thumbs_down' THEN 1 ELSE 0 END), "
        "sum(CASE WHEN event = 'thumbs_up' THEN 1 ELSE 0 END), "
        f"count({csat}), sum({csat}), sum({csat} * {csat})"
    )
    return f"WITH {joined} {_both(select, 'task_intent', 'fe')}"


def lengths() -> str:
    return "SELECT win, chars, count(*) FROM w GROUP BY win, chars"


def models_since(ts: float) -> str:
    """Primary (non-fallback) calls per model from `ts` on."""
    return f"SELECT model, count(*) FROM w WHERE NOT fallback AND ts >= {ts!r} GROUP BY model"


def models() -> str:
    return "SELECT win, model, fallback, count(*), min(ts) FROM w GROUP BY win, model, fallback"


def sample(window: str, size: int, seed: int) -> str:
    """A pseudo-random sample of a window's inputs: the same rows on every engine."""
    key = f"md5(concat({literal(str(seed))}, '|', task_id, '|', input))"
    return (
        f"SELECT ts, input, intent FROM w WHERE win = {literal(window)} "
        f"ORDER BY {key}, ts LIMIT {int(size)}"
    )
