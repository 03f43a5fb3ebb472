"""Benchmark: how close a 200-case canary run comes to the provider-bound ideal.

Serves the bundled vendor simulator on 127.0.0.1 with a fixed 250 ms latency, then runs a
200-case suite at concurrency 20, in-process (engine + scoring) and as the `canary run` command
a scheduler starts. Ideal = cases / concurrency x latency. Also measures `canary --help`
start-up and the peak memory of the command.

    python bench/bench_engine.py [--cases 200] [--concurrency 20] [--latency-ms 250]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from canary_eval.run.runner import RunOptions, run_suite
from canary_eval.simulator import SimulatorConfig, serve
from canary_eval.suite.config import load_config
from canary_eval.suite.evalset import load_evalset


def write_suite(directory: Path, base_url: str, cases: int, concurrency: int) -> Path:
    evalset = {
        "cases": [
            {
                "id": f"case-{i:03d}",
                "intent": ("faq", "billing", "technical")[i % 3],
                "input": f"Benchmark question number {i}: how do I export my invoices?",
                "reference": "Settings, then Export",
            }
            for i in range(cases)
        ]
    }
    (directory / "evalset.yaml").write_text(yaml.safe_dump(evalset))
    suite = {
        "suite": "bench",
        "evalset": "evalset.yaml",
        "provider": {
            "type": "openai",
            "base_url": base_url,
            "model": "ledger-chat",
            "concurrency": concurrency,
            "timeout_s": 10,
            "max_retries": 2,
        },
        "scorers": [{"type": "token_f1"}, {"type": "contains", "weight": 0.5}],
    }
    path = directory / "bench.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=250.0)
    args = parser.parse_args()
    ideal = args.cases / args.concurrency * args.latency_ms / 1000
    canary = [sys.executable, "-m", "canary_eval"]

    with (
        tempfile.TemporaryDirectory() as tmp,
        serve(SimulatorConfig(version="stable", fixed_latency_ms=args.latency_ms)) as sim,
    ):
        directory = Path(tmp)
        suite = write_suite(directory, sim.base_url, args.cases, args.concurrency)
        config, evalset = load_config(suite), load_evalset(directory / "evalset.yaml")
        run_suite(config, evalset, RunOptions(case_ids=frozenset({"case-000"})))  # warm up

        started = time.perf_counter()
        run_suite(config, evalset)
        in_process = time.perf_counter() - started

        env = {**os.environ, "COLUMNS": "120"}
        subprocess.run(
            [*canary, "baseline", str(suite), "--quiet"], check=True, env=env, capture_output=True
        )
        started = time.perf_counter()
        subprocess.run(
            [*canary, "run", str(suite), "--quiet"], check=True, env=env, capture_output=True
        )
        command = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    # The installed console script, as a scheduler starts it.
    script = str(Path(sys.executable).with_name("canary"))
    help_times = []
    for _ in range(10):
        started = time.perf_counter()
        subprocess.run([script, "--help"], check=True, capture_output=True)
        help_times.append(time.perf_counter() - started)

    per_case_ms = (in_process - ideal) / args.cases * 1000
    print(f"{args.cases} cases, concurrency {args.concurrency}, latency {args.latency_ms:g} ms")
    print(f"ideal (cases / concurrency x latency): {ideal:.2f} s")
    print(
        f"in-process run (engine + scoring):     {in_process:.2f} s  "
        f"({in_process / ideal:.3f}x ideal)"
    )
    print(f"overhead per case:                     {per_case_ms:.2f} ms")
    print(f"`canary run` command, end to end:      {command:.2f} s  ({command / ideal:.3f}x ideal)")
    print(f"`canary --help` start-up (median of 10): {statistics.median(help_times) * 1000:.0f} ms")
    print(f"peak memory of `canary run`:           {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
