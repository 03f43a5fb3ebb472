"""Query engines for the monitor's aggregations: DuckDB (default) and Spark, the same queries.

`open_engine(name, ...)` imports the engine's library only when it is chosen, so neither weighs
on `canary --help`.
"""

from __future__ import annotations

from collections.abc import Mapping

from canary_eval.monitor.engine.base import Engine

__all__ = ["ENGINES", "Engine", "open_engine"]

ENGINES = ("duckdb", "spark")


def open_engine(
    name: str, *, master: str | None = None, conf: Mapping[str, str] | None = None
) -> Engine:
    if name == "spark":
        from canary_eval.monitor.engine.spark import SparkEngine

        return SparkEngine(master=master, conf=conf or {})
    from canary_eval.monitor.engine.duckdb import DuckDBEngine

    return DuckDBEngine()
