"""DuckDB and Spark (local mode) agree on every figure of the same logs: the queries are one."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from canary_eval.monitor import monitor_report_dict, run_monitor
from canary_eval.simulator.log_formats import write_logs

from .conftest import generate, write_config, write_evalset
from .test_formats import flat

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("pyspark") is None, reason="pyspark not installed"),
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a Java runtime"),
]


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session for every Spark test: starting the JVM is the slow part."""
    from pyspark.sql import SparkSession

    # Small data: one partition, and no code generation or adaptive planning, whose start-up
    # costs dominate at this size.
    session = (
        SparkSession.builder.master("local[1]")
        .appName("canary-tests")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_duckdb_and_spark_agree_on_every_figure(spark: Any, tmp_path: Path) -> None:
    """Calls from Parquet files for both; feedback from the files for DuckDB and from a table of
    Spark's catalog made of the same file for Spark; untagged calls from JSONL for both."""
    write_evalset(tmp_path)
    calls, feedback = generate(drift=True, calls_per_day=60, seed=5, with_intent=True)
    calls[3]["ts"] = "not a time"  # a bad row, counted by both
    tagged, untagged = calls[::3], [c for i, c in enumerate(calls) if i % 3]
    for call in untagged:
        call.pop("intent", None)
    calls_path, feedback_path, _ = write_logs(tagged, feedback, tmp_path / "parquet", "parquet")
    untagged_path, _, _ = write_logs(untagged, [], tmp_path / "jsonl", "jsonl")
    spark.read.parquet(str(feedback_path)).createOrReplaceTempView("feedback_events")
    files = [str(p.relative_to(tmp_path)) for p in (calls_path, untagged_path)]
    duck = monitor_report_dict(
        run_monitor(
            write_config(tmp_path, calls=files, feedback=str(feedback_path.relative_to(tmp_path)))
        )
    )
    sparked = monitor_report_dict(
        run_monitor(
            write_config(tmp_path, calls=files, feedback="table:feedback_events", engine="spark")
        )
    )
    assert (duck["engine"], sparked["engine"]) == ("duckdb", "spark")
    a = flat({k: v for k, v in duck.items() if k != "engine"})
    b = flat({k: v for k, v in sparked.items() if k != "engine"})
    assert a.keys() == b.keys()
    assert {k: (a[k], b[k]) for k in a if b[k] != pytest.approx(a[k])} == {}
    assert duck["malformed"]["calls_malformed"] == 1
    assert duck["malformed"]["examples"][0]["line"] == 2  # the row of the Parquet file
