"""What an engine is to the monitor: run SQL, register files as views, close.

`load` puts a run's logs into an engine the same way for every engine: the staged canonical
JSONL and the files read in place (Parquet, catalog tables, canonical JSONL) become the views
`calls_all` and `feedback_all`, and the malformed rows read in place are counted (with file and
row or line) on the streams' tallies.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from canary_eval.errors import ConfigError
from canary_eval.monitor.config import CALL_FIELDS, FEEDBACK_FIELDS, Pricing
from canary_eval.monitor.engine import queries
from canary_eval.monitor.readers import Logs, Stream, Tally
from canary_eval.monitor.readers.parquet import Column, Dialect, calls_sql, feedback_sql

CALL_SCHEMA = (
    ("ts", "DOUBLE"),
    ("task_id", "STRING"),
    ("input", "STRING"),
    ("intent", "STRING"),
    ("latency_ms", "DOUBLE"),
    ("input_tokens", "BIGINT"),
    ("output_tokens", "BIGINT"),
    ("cost_usd", "DOUBLE"),
    ("status", "STRING"),
    ("fallback", "BOOLEAN"),
    ("model", "STRING"),
)
FEEDBACK_SCHEMA = (
    ("ts", "DOUBLE"),
    ("task_id", "STRING"),
    ("event", "STRING"),
    ("value", "DOUBLE"),
)
TAG_SCHEMA = (("input", "STRING"), ("intent", "STRING"))
_KEEP_EXAMPLES = 20


class Engine(ABC):
    """A SQL engine holding one monitor run's views."""

    name: str
    dialect: Dialect
    reads_jsonl = False  # canonical JSONL in place (readers.jsonl), not through staging

    @abstractmethod
    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a query and return every row."""

    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run a statement (CREATE VIEW ...)."""

    @abstractmethod
    def json_view(self, name: str, path: str, schema: Sequence[tuple[str, str]]) -> None:
        """View `name` over a JSONL file of the given columns."""

    @abstractmethod
    def parquet_view(self, name: str, paths: Sequence[str]) -> dict[str, str]:
        """View `name` over Parquet files, with `src_file` and `src_row` (from 1) added;
        returns its top-level columns and their kinds (number | string | timestamp | boolean)."""

    def materialise(self, view: str, *, ordered: bool = False) -> None:  # noqa: B027
        """Compute `view` once for the many queries to come that read it (only some engines
        gain from it). `ordered`: the view numbers rows in scan order, which the copy keeps."""

    def jsonl_view(
        self, name: str, paths: Sequence[str], fields: Mapping[str, str], names: Sequence[str]
    ) -> dict[str, Column]:
        """View `name` over the lines of canonical JSONL files: `src_file`, `src_row` (the
        line), `problem` (why a line is no record) and the fields; returns the canonical
        columns `names` as expressions over it. Only engines that `reads_jsonl` have it."""
        raise NotImplementedError(f"{self.name} reads JSONL through the staging folder")

    def table_view(self, name: str, tables: Sequence[str]) -> dict[str, str]:
        """View `name` over catalog tables (`src_file` the table's name, `src_row` 0), as
        parquet_view; only engines with a catalog have them."""
        raise ConfigError(f"table sources ({', '.join(tables)}) need engine: spark", key="engine")

    def close(self) -> None:  # noqa: B027 - engines without resources need nothing
        """Release the engine's resources."""


def load(
    engine: Engine,
    logs: Logs,
    pricing: Pricing | None,
    *,
    statuses: Mapping[str, str],
    latency_unit: str,
) -> None:
    staged_calls = _stream(
        engine,
        "calls",
        logs.calls,
        logs.calls_tally,
        CALL_SCHEMA,
        CALL_FIELDS,
        lambda cols, raw, problem: calls_sql(
            cols,
            engine.dialect,
            raw,
            latency_unit=latency_unit,
            statuses=statuses,
            problem=problem,
        ),
    )
    staged_feedback = _stream(
        engine,
        "feedback",
        logs.feedback,
        logs.feedback_tally,
        FEEDBACK_SCHEMA,
        FEEDBACK_FIELDS,
        lambda cols, raw, problem: feedback_sql(cols, engine.dialect, raw, problem),
    )
    rate_in = pricing.input_per_mtok / 1e6 if pricing else None
    rate_out = pricing.output_per_mtok / 1e6 if pricing else None
    engine.execute(queries.calls_view(*staged_calls[:2], rate_in, rate_out, staged_calls[2]))
    engine.execute(queries.feedback_view(*staged_feedback))


def _stream(
    engine: Engine,
    name: str,
    stream: Stream,
    tally: Tally,
    schema: Sequence[tuple[str, str]],
    canonical: Sequence[str],
    build: Callable[[Mapping[str, Column], str, str | None], str],
) -> tuple[str, str | None, bool]:
    """(staged view, in-place view or None, whether the in-place rows were all good)."""
    engine.json_view(f"{name}_staged", stream.staged, schema)
    raws: list[tuple[str, Mapping[str, Column], str | None]] = []
    if stream.parquet:
        kinds = engine.parquet_view(f"{name}_raw", stream.parquet)
        raws.append((f"{name}_raw", _columns(engine, kinds, stream.fields, canonical), None))
    if stream.tables:
        kinds = engine.table_view(f"{name}_tables", stream.tables)
        raws.append((f"{name}_tables", _columns(engine, kinds, stream.fields, canonical), None))
    if stream.jsonl:
        used = [column for column, _ in schema]
        columns = engine.jsonl_view(f"{name}_lines", stream.jsonl, stream.fields, used)
        raws.append((f"{name}_lines", columns, "problem"))
    if not raws:
        return f"{name}_staged", None, True
    checked = [
        f"SELECT * FROM ({build(columns, raw, problem)}) {raw}_checked"
        for raw, columns, problem in raws
    ]
    engine.execute(f"CREATE OR REPLACE TEMP VIEW {name}_in_place AS {' UNION ALL '.join(checked)}")
    if stream.jsonl:  # JSON text is parsed once, not again by every query
        engine.materialise(f"{name}_in_place", ordered=True)  # lines numbered as read
    bad = 0
    for unit, good, n in engine.rows(queries.row_counts(f"{name}_in_place")):
        tally.total += int(n)
        if good:
            tally.time_units[str(unit)] += int(n)
        else:
            bad += int(n)
    if bad:
        before = tally.malformed
        for path, row, reason in engine.rows(queries.bad_rows(f"{name}_in_place", _KEEP_EXAMPLES)):
            tally.reject(str(path), int(row), str(reason))
        tally.malformed = before + bad
    return f"{name}_staged", f"{name}_in_place", not bad


def _columns(
    engine: Engine, kinds: Mapping[str, str], fields: Mapping[str, str], canonical: Sequence[str]
) -> dict[str, Column]:
    """The canonical columns of a typed relation whose top-level columns have `kinds`."""
    columns = {}
    for field in canonical:
        source = fields.get(field, field)
        top = source.split(".")[0]
        if top not in kinds:
            columns[field] = Column("NULL", "absent")
            continue
        quoted = ".".join(engine.dialect.quote(part) for part in source.split("."))
        columns[field] = Column(quoted, kinds[top] if "." not in source else "string")
    return columns
