"""Benchmark `canary monitor` at lakehouse scale: 10,000,000 calls + 3,000,000 feedback events.

DuckDB itself writes eight days of support-bot logs as Parquet (canonical columns, TIMESTAMP
times; the last day drifts), or with `--format jsonl` as JSON lines (ISO times). Then, each in
a fresh child process so peak memory is its own:

* engine: the monitor's aggregation path (readers, engine.load, every figure query, the text
  samples) on the DuckDB engine, as `run_monitor` runs it;
* ideal: the same aggregations written directly in DuckDB SQL over the same files, with
  no validation of the records (what a data engineer would write by hand);
* monitor: the whole `run_monitor` (adds the intent classifier and the drift tests).

Prints wall time and peak RSS of each and the engine's and the monitor's ratio to the ideal
(target: the monitor within 1.5x at 1,000,000 calls, and under 2 GB peak). On a shared
machine, `--repeat N` alternates the runs N times and keeps each one's fastest.

    python bench/bench_monitor.py [--calls 10000000] [--feedback 3000000] [--repeat 1]
        [--format parquet|jsonl] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

TEMPLATES = {
    "billing": ["Why was I charged twice for subscription ", "Can I get an invoice for payment "],
    "shipping": ["Where is my package, order ", "Can I change the address for order "],
    "account": ["I am locked out of account ", "How do I delete my profile number "],
    "disputes": ["I want to dispute transaction ", "My dispute case was closed, case "],
    "technical": ["The app crashes with error code ", "Upload fails with error "],
}
NEW_TOPIC = ["Can I pay with bitcoin from crypto wallet ", "What are the gas fees for wallet "]
END = 1714953600  # 2024-05-06T00:00:00Z
SPAN = 8 * 86400


def _list(items: list[str]) -> str:
    return "[" + ", ".join("'" + i + "'" for i in items) + "]"


def generate(directory: Path, calls: int, feedback: int, fmt: str) -> None:
    import duckdb

    names = list(TEMPLATES)
    texts = [t for n in names for t in TEMPLATES[n]]
    db = duckdb.connect(config={"memory_limit": "1GB"})
    u = "((hash(i, {k}) % 1000000) / 1e6)"  # a uniform draw per row, seeded by k
    start = END - SPAN
    db.execute(f"""
        COPY (
          SELECT
            to_timestamp({start} + (i + {u.format(k=1)}) * {SPAN / calls}) AS ts,
            't' || (i // 2) AS task_id,
            CASE WHEN new_topic THEN list_extract({_list(NEW_TOPIC)}, 1 + (i // 2) % 2)
                 ELSE list_extract({_list(texts)}, 1 + 2 * k + (i % 2)) END
              || (hash(i, 2) % 50) AS input,
            CASE WHEN new_topic OR {u.format(k=3)} < 0.1 THEN NULL
                 ELSE list_extract({_list(names)}, 1 + k) END AS intent,
            round(850 * exp(0.7 * ({u.format(k=4)} + {u.format(k=5)} + {u.format(k=6)} - 1.5))
                  * (CASE WHEN drifted THEN 2 ELSE 1 END), 1) AS latency_ms,
            150 + hash(i, 7) % 100 AS input_tokens,
            80 + hash(i, 8) % 140 AS output_tokens,
            CASE WHEN {u.format(k=9)} < 0.02 THEN 'error'
                 WHEN {u.format(k=9)} < 0.03 THEN 'rate_limited' ELSE 'ok' END AS status,
            {u.format(k=10)} < 0.02 AS fallback,
            'gpt-4o-mini' AS model
          FROM (
            SELECT i, (hash(i // 2, 0) % 5)::INTEGER AS k,
                   i >= {calls} * 7 / 8 AS drifted,
                   i >= {calls} * 7 / 8 AND hash(i // 2, 11) % 5 = 0 AS new_topic
            FROM range({calls}) r(i)
          )
        ) TO '{directory / "calls.parquet"}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
    """)
    events = _list(["thumbs_up", "thumbs_down", "accepted", "edited", "escalated", "csat"])
    db.execute(f"""
        COPY (
          SELECT
            to_timestamp(least({start} + 2 * task * {SPAN / calls} + 300 + hash(j, 2) % 600,
                               {END - 1})) AS ts,
            't' || task AS task_id,
            list_extract({events}, 1 + (hash(j, 3) % 6)::INTEGER) AS event,
            CASE WHEN hash(j, 3) % 6 = 5 THEN 1 + hash(j, 4) % 5 END AS value
          FROM (SELECT j, hash(j, 1) % {calls // 2} AS task FROM range({feedback}) r(j))
          ORDER BY ts
        ) TO '{directory / "feedback.parquet"}' (FORMAT parquet)
    """)
    if fmt == "jsonl":
        db.execute("SET memory_limit = '4GB'")  # writing JSON keeps whole row groups as text
        for name in ("calls", "feedback"):
            db.execute(
                f"COPY (FROM '{directory / name}.parquet') TO '{directory / name}.jsonl' "
                "(FORMAT json)"
            )
    cases = [
        {"id": f"{n}-{k}", "intent": n, "input": t + str(40000 + k), "reference": "An answer."}
        for n in names
        for k, t in enumerate(TEMPLATES[n])
    ]
    (directory / "evalset.yaml").write_text(yaml.safe_dump({"cases": cases}), encoding="utf-8")
    config = {
        "name": "bench",
        "calls": f"calls.{fmt}",
        "feedback": f"feedback.{fmt}",
        "window": "24h",
        "reference": "7d",
        "pricing": {"input_per_mtok": 0.15, "output_per_mtok": 0.6},
        "evalset": "evalset.yaml",
        "thresholds": {
            "ops": {"max_p95_latency_increase": 0.5, "max_error_rate_increase": 0.02},
            "drift": {"max_uncovered_share": 0.1},
        },
    }
    (directory / "monitor.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")


def measure_engine(directory: Path) -> str:
    """The monitor's own path, minus the classifier and drift statistics."""
    from canary_eval.monitor import aggregate
    from canary_eval.monitor.config import load_monitor_config
    from canary_eval.monitor.engine import open_engine, queries
    from canary_eval.monitor.engine.base import TAG_SCHEMA, load
    from canary_eval.monitor.readers import ShapeOptions, read_logs
    from canary_eval.monitor.run import IN_MEMORY_CALLS

    config = load_monitor_config(directory / "monitor.yaml")
    with tempfile.TemporaryDirectory() as staging:
        logs = read_logs(
            config.calls,
            config.feedback,
            formats=(None, None),
            options=(ShapeOptions(), ShapeOptions()),
            staging=Path(staging),
            jsonl_in_place=True,
        )
        db = open_engine("duckdb")
        load(db, logs, config.pricing, statuses={}, latency_unit="ms")
        in_memory = logs.calls_tally.total <= IN_MEMORY_CALLS
        newest, _, _ = db.rows(queries.newest(None))[0]
        end, middle, start = newest, newest - 86400, newest - 8 * 86400
        untagged = [r[0] for r in db.rows(queries.untagged(start, end))]
        tags = Path(staging) / "tags.jsonl"
        tags.write_text(
            "".join(json.dumps({"input": t, "intent": "other"}) + "\n" for t in untagged)
        )
        db.json_view("tags", str(tags), TAG_SCHEMA)
        windows = [("reference", start, middle), ("current", middle, end)]
        figures = aggregate.aggregate(db, windows, in_memory=in_memory)
        for name in ("current", "reference"):
            aggregate.text_sample(db, name, 5000, 0)
        db.close()
    return (
        f"{figures.ops_of('current', None).calls} current calls, {logs.calls_tally.malformed} bad"
    )


def measure_ideal(directory: Path) -> str:
    """The same figures in hand-written DuckDB SQL, trusting every record."""
    import duckdb

    db = duckdb.connect(config={"memory_limit": "1GB"})
    config = yaml.safe_load((directory / "monitor.yaml").read_text(encoding="utf-8"))
    calls, feedback = directory / config["calls"], directory / config["feedback"]
    end = db.execute(f"SELECT epoch(max(ts)) FROM '{calls}'").fetchone()[0]  # type: ignore[index]
    middle, start = end - 86400, end - 8 * 86400
    win = f"CASE WHEN epoch(ts) > {middle} THEN 'current' ELSE 'reference' END"
    db.execute(f"""CREATE VIEW w AS SELECT epoch(ts) AS ts, task_id, input, length(input) AS chars,
        latency_ms, input_tokens + output_tokens AS tokens,
        input_tokens * 0.15e-6 + output_tokens * 0.6e-6 AS cost_usd, status, fallback, model,
        COALESCE(intent, 'other') AS intent, {win} AS win
        FROM '{calls}' WHERE epoch(ts) > {start} AND epoch(ts) <= {end}""")
    db.execute(f"""CREATE VIEW f AS SELECT epoch(ts) AS ts, task_id, event, value, {win} AS win
        FROM '{feedback}' WHERE epoch(ts) > {start} AND epoch(ts) <= {end}""")
    ops = """SELECT win, intent, count(*), count(*) FILTER (status = 'error'),
        count(*) FILTER (status = 'rate_limited'), count(*) FILTER (fallback),
        quantile_cont(latency_ms, 0.5), quantile_cont(latency_ms, 0.95)
        FROM w GROUP BY GROUPING SETS ((win, intent), (win))"""
    ti = "ti AS (SELECT task_id, arg_min(intent, ts) AS ti FROM w GROUP BY task_id)"
    tasks = f"""WITH {ti}, pt AS (SELECT win, task_id, sum(cost_usd) AS cost, sum(tokens) AS tok
        FROM w GROUP BY win, task_id)
        SELECT win, ti, count(*), sum(cost), avg(cost), avg(tok) FROM pt JOIN ti USING (task_id)
        GROUP BY GROUPING SETS ((win, ti), (win))"""
    signals = f"""WITH {ti}, wt AS (SELECT DISTINCT win, task_id FROM w UNION
        SELECT DISTINCT win, task_id FROM f),
        ev AS (SELECT win, task_id, bool_or(event = 'accepted') AS a, bool_or(event = 'edited')
        AS e, bool_or(event = 'escalated') AS x FROM f GROUP BY win, task_id)
        SELECT wt.win, ti, count(*), count(*) FILTER (a), count(*) FILTER (e),
        count(*) FILTER (x) FROM wt LEFT JOIN ti USING (task_id) LEFT JOIN ev
        USING (win, task_id) GROUP BY GROUPING SETS ((wt.win, ti), (wt.win))"""
    events = f"""WITH {ti} SELECT win, ti, count(*) FILTER (event = 'thumbs_down'),
        count(*) FILTER (event = 'thumbs_up'), count(value), avg(value), stddev_samp(value)
        FROM f LEFT JOIN ti USING (task_id) GROUP BY GROUPING SETS ((win, ti), (win))"""
    lengths = "SELECT win, chars, count(*) FROM w GROUP BY ALL"
    models = "SELECT win, model, fallback, count(*), min(ts) FROM w GROUP BY ALL"
    sample = """SELECT ts, input, intent FROM w WHERE win = '{}'
        ORDER BY md5('0|' || task_id || '|' || input), ts LIMIT 5000"""
    for sql in (
        ops,
        tasks,
        signals,
        events,
        lengths,
        models,
        sample.format("current"),
        sample.format("reference"),
    ):
        db.execute(sql).fetchall()
    current = db.execute("SELECT count(*) FROM w WHERE win = 'current'").fetchone()
    return f"{current[0] if current else 0} current calls"


def measure_monitor(directory: Path) -> str:
    from canary_eval.monitor import run_monitor

    result = run_monitor(directory / "monitor.yaml")
    return f"{result.overall.ops_current.calls} current calls, verdict {result.verdict}"


def child(kind: str, directory: Path) -> None:
    started = time.perf_counter()
    note = {"engine": measure_engine, "ideal": measure_ideal, "monitor": measure_monitor}[kind](
        directory
    )
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"wall": wall, "peak_mib": peak, "note": note}))


def run(kind: str, directory: Path) -> dict[str, float | str]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(directory)],
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
    )
    result: dict[str, float | str] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000_000)
    parser.add_argument("--feedback", type=int, default=3_000_000)
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    parser.add_argument("--repeat", type=int, default=1, help="alternate the runs N times")
    parser.add_argument(
        "--format", choices=("parquet", "jsonl"), default="parquet", help="of the log files"
    )
    parser.add_argument("--child", nargs=2, metavar=("KIND", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child[0] == "generate":
            generate(Path(args.child[1]), args.calls, args.feedback, args.format)
        else:
            child(args.child[0], Path(args.child[1]))
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.keep or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        if not (directory / f"calls.{args.format}").exists():
            # in a child: Linux keeps a process's peak RSS across exec, so a parent that had
            # generated the logs would pass its peak on to every measured child
            sizes = ["--calls", str(args.calls), "--feedback", str(args.feedback)]
            command = [sys.executable, __file__, "--child", "generate", str(directory)]
            subprocess.run([*command, *sizes, "--format", args.format], check=True)
        size = sum(p.stat().st_size for p in directory.glob(f"*.{args.format}")) / 1e6
        print(
            f"{args.format}: {args.calls:,} calls + {args.feedback:,} feedback events "
            f"({size:.0f} MB), "
            f"ready in {time.perf_counter() - started:.1f} s"
        )
        figures: dict[str, dict[str, float | str]] = {}
        peaks: dict[str, float] = {}
        for _ in range(args.repeat):
            for kind in ("ideal", "engine", "monitor"):
                got = run(kind, directory)
                peaks[kind] = max(peaks.get(kind, 0.0), float(got["peak_mib"]))
                if kind not in figures or float(got["wall"]) < float(figures[kind]["wall"]):
                    figures[kind] = got
        for kind, f in figures.items():
            wall, peak = float(f["wall"]), peaks[kind]
            print(f"{kind:>8}: {wall:6.1f} s wall, peak RSS {peak:5.0f} MiB  ({f['note']})")
        ideal = float(figures["ideal"]["wall"])
        engine, monitor = (float(figures[kind]["wall"]) / ideal for kind in ("engine", "monitor"))
        print(f"engine / ideal wall time: {engine:.2f}x; monitor / ideal: {monitor:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
