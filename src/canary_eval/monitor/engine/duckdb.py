"""The default engine: DuckDB, embedded, out of core, reading JSONL and Parquet in place.

Memory is capped (`memory_limit`, default 1GB) and DuckDB spills to a temporary folder beyond
it (into a private temporary folder), so a month of logs does not need a month's worth of
RAM.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from canary_eval.errors import LogError
from canary_eval.monitor.engine.base import Engine
from canary_eval.monitor.readers import jsonl
from canary_eval.monitor.readers.parquet import Column, literal

_KINDS = (
    ("TIMESTAMP", "timestamp"),
    ("DATE", "timestamp"),
    ("BOOLEAN", "boolean"),
    ("VARCHAR", "string"),
)
_NUMBERS = ("INT", "DOUBLE", "FLOAT", "DECIMAL", "REAL", "NUMERIC")


class DuckDBDialect:
    def quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def quantile(self, column: str, q: float) -> str:
        return f"quantile_cont({column}, {q!r})"

    def epoch_of_timestamp(self, column: str) -> str:
        return f"epoch({column})"

    def epoch_of_iso(self, column: str) -> str:
        return f"epoch(try_cast({column} AS TIMESTAMPTZ))"


class DuckDBEngine(Engine):
    name = "duckdb"
    dialect = DuckDBDialect()
    reads_jsonl = True

    def __init__(self, *, memory_limit: str = "1GB", threads: int | None = None) -> None:
        import tempfile

        import duckdb

        self._duckdb = duckdb
        self._spill = tempfile.TemporaryDirectory(prefix="canary-duckdb-")
        self._db = duckdb.connect(
            config={"memory_limit": memory_limit, "temp_directory": self._spill.name}
        )
        self._db.execute("SET TimeZone = 'UTC'")
        if threads:
            self._db.execute(f"SET threads = {int(threads)}")

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return self._db.execute(sql).fetchall()
        except self._duckdb.Error as exc:
            raise LogError(f"query failed: {exc}".splitlines()[0], path="duckdb") from None

    def execute(self, sql: str) -> None:
        self.rows(sql)

    def json_view(self, name: str, path: str, schema: Sequence[tuple[str, str]]) -> None:
        columns = ", ".join(
            f"{literal(c)}: {literal(t.replace('STRING', 'VARCHAR'))}" for c, t in schema
        )
        self.execute(
            f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_json({literal(path)}, "
            f"format = 'newline_delimited', columns = {{{columns}}})"
        )

    def parquet_view(self, name: str, paths: Sequence[str]) -> dict[str, str]:
        files = "[" + ", ".join(literal(p) for p in paths) + "]"
        plain = f"read_parquet({files}, union_by_name = true)"
        kinds = {
            str(column): _kind(str(kind))
            for column, kind, *_ in self.rows(f"DESCRIBE SELECT * FROM {plain}")
        }
        numbered = (
            f"read_parquet({files}, union_by_name = true, filename = 'src_file', "
            "file_row_number = true)"
        )
        self.execute(
            f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * EXCLUDE (file_row_number), "
            f"file_row_number + 1 AS src_row FROM {numbered}"
        )
        return kinds

    def jsonl_view(
        self, name: str, paths: Sequence[str], fields: Mapping[str, str], names: Sequence[str]
    ) -> dict[str, Column]:
        select, columns = jsonl.decoded_sql(jsonl.lines_sql(paths), fields, names)
        self.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {select}")
        return columns

    def materialise(self, view: str, *, ordered: bool = False) -> None:
        # Views are recomputed by every query that reads them; a table is computed once (and
        # spills past memory_limit). A copy free to reorder its rows is made on every thread.
        self.execute(f"SET preserve_insertion_order = {'true' if ordered else 'false'}")
        self.execute(f"CREATE OR REPLACE TEMP TABLE {view}_table AS SELECT * FROM {view}")
        self.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {view}_table")

    def close(self) -> None:
        self._db.close()
        self._spill.cleanup()


def _kind(sql_type: str) -> str:
    upper = sql_type.upper()
    for prefix, kind in _KINDS:
        if upper.startswith(prefix):
            return kind
    if any(word in upper for word in _NUMBERS):
        return "number"
    return "string"
