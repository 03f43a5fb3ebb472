"""Apache Spark for logs that outgrow one machine: the same queries as DuckDB, through Spark SQL.

`spark.master` in the monitor config (or the environment's default) picks the cluster; without
one, Spark runs in local mode on this machine. Needs `pip install 'canary-eval[spark]'` and a
Java runtime. Session time zone is UTC so ISO times without an offset read as UTC, as in DuckDB.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from canary_eval.errors import ConfigError, LogError
from canary_eval.monitor.engine.base import Engine


class SparkDialect:
    def quote(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def quantile(self, column: str, q: float) -> str:
        return f"percentile({column}, {q!r})"

    def epoch_of_timestamp(self, column: str) -> str:
        return f"unix_micros(CAST({column} AS TIMESTAMP)) / 1e6"

    def epoch_of_iso(self, column: str) -> str:
        return f"unix_micros(try_cast({column} AS TIMESTAMP)) / 1e6"


class SparkEngine(Engine):
    name = "spark"
    dialect = SparkDialect()

    def __init__(self, *, master: str | None = None, conf: Mapping[str, str] | None = None) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise ConfigError(
                "engine: spark needs pyspark: pip install 'canary-eval[spark]'", key="engine"
            ) from None
        self._owned = SparkSession.getActiveSession() is None
        builder = SparkSession.builder.appName("canary-monitor")
        if master:
            builder = builder.master(master)
        settings = {
            "spark.sql.session.timeZone": "UTC",
            "spark.ui.enabled": "false",
            **(conf or {}),
        }
        for key, value in settings.items():
            builder = builder.config(key, value)
        self._spark: Any = builder.getOrCreate()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._sql(sql).collect()]

    def execute(self, sql: str) -> None:
        self._sql(sql)

    def _sql(self, sql: str) -> Any:
        from pyspark.errors import PySparkException

        try:
            return self._spark.sql(sql)
        except PySparkException as exc:
            raise LogError(f"query failed: {exc}".splitlines()[0], path="spark") from None

    def json_view(self, name: str, path: str, schema: Sequence[tuple[str, str]]) -> None:
        ddl = ", ".join(f"`{c}` {t}" for c, t in schema)
        self._spark.read.schema(ddl).json(path).createOrReplaceTempView(name)

    def parquet_view(self, name: str, paths: Sequence[str]) -> dict[str, str]:
        from pyspark.sql import functions as F

        frame = self._spark.read.option("mergeSchema", "true").parquet(*paths)
        kinds = {field.name: _kind(field.dataType.simpleString()) for field in frame.schema}
        path = F.regexp_replace(F.col("_metadata.file_path"), "^file:(//)?", "")
        frame.select(
            "*", path.alias("src_file"), (F.col("_metadata.row_index") + 1).alias("src_row")
        ).createOrReplaceTempView(name)
        return kinds

    def table_view(self, name: str, tables: Sequence[str]) -> dict[str, str]:
        from pyspark.sql import functions as F

        frames = []
        for table in tables:
            try:
                frame = self._spark.table(table)
            except Exception as exc:  # AnalysisException and its kin: not in the catalog
                raise LogError(f"no such table: {exc}".splitlines()[0], path=table) from None
            frames.append(
                frame.select("*", F.lit(table).alias("src_file"), F.lit(0).alias("src_row"))
            )
        union = frames[0]
        for frame in frames[1:]:
            union = union.unionByName(frame, allowMissingColumns=True)
        union.createOrReplaceTempView(name)
        return {f.name: _kind(f.dataType.simpleString()) for f in union.schema}

    def materialise(self, view: str, *, ordered: bool = False) -> None:
        self._sql(f"CACHE LAZY TABLE {view}")  # filled by the first query that reads it

    def close(self) -> None:
        if self._owned:
            self._spark.stop()


def _kind(sql_type: str) -> str:
    if sql_type.startswith(("timestamp", "date")):
        return "timestamp"
    if sql_type == "boolean":
        return "boolean"
    if sql_type == "string":
        return "string"
    if sql_type.startswith(("int", "bigint", "smallint", "tinyint", "double", "float", "decimal")):
        return "number"
    return "string"
