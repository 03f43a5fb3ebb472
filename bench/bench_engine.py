"""Benchmark: the whole `canary run` command against what the vendor's latency allows.

1. 200 cases at a fixed 250 ms latency, concurrency 20, on the bundled simulator (its own
   process on 127.0.0.1). Median of 5 wall times, start to exit, of: the ideal (cases /
   concurrency x latency); the floor, a bare asyncio + httpx client with a semaphore
   (bench/reference_clients.py, interpreter start included); `canary run` as a scheduler
   starts it (scoring, verdict, history and a JSON report included); and promptfoo 0.121.20 on
   the same cases when it is installed (`npm install -g promptfoo@0.121.20`; skipped with a
   note otherwise).
2. 2,000 cases at latency 0, concurrency 50: `canary run` against an aiohttp client.
3. Start-up: `canary --help`, `canary --version` and `canary validate` (median of 10), the
   last on the 2,000-case set and on the bundled suite, with its limits stored and before
   anything stored them.

Every command runs with Python's bytecode cache on, as an installed canary does, even when the
calling shell sets PYTHONDONTWRITEBYTECODE.

    python bench/bench_engine.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

HERE = Path(__file__).parent
BUNDLED_SUITE = HERE.parent / "configs" / "support-bot.yaml"  # 194 cases, seven intents
CANARY = [sys.executable, "-m", "canary_eval"]
ENV = {**os.environ, "COLUMNS": "120", "OPENAI_API_KEY": "sk-bench", "SUPPORT_BOT_API_KEY": "sk"}
# As installed: pip compiles the bytecode once; a shell that turns caching off (some CI and
# development shells) would charge compiling canary's modules to every start of every command.
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
PROMPTFOO_VERSION = "0.121.20"


@contextmanager
def simulator(**config: object) -> Iterator[str]:
    """The bundled simulator in a process of its own; yields its base URL."""
    code = (
        "import sys; from canary_eval.simulator import SimulatorConfig, serve_forever; "
        f"serve_forever(SimulatorConfig(**{config!r}), port=0, "
        "on_ready=lambda sim: print(sim.base_url, flush=True))"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


# A question of the simulator's answer bank (it finds the bundled case's input inside the
# message), so the answers are scored against a reference they can match, as in production.
REFERENCE = (
    "Go to Settings > Data > Export and choose CSV or JSON; we email a download link, valid for "
    "7 days, when the export is ready (within 24 hours)."
)
MUST_CONTAIN = "Settings > Data > Export"


def question(i: int) -> str:
    return f"Benchmark question number {i}: How do I export all my data?"


def write_suite(
    directory: Path, base_url: str, cases: int, concurrency: int, max_retries: int = 2
) -> Path:
    evalset = {
        "cases": [
            {
                "id": f"case-{i:04d}",
                "intent": ("faq", "billing", "technical")[i % 3],
                "input": question(i),
                "reference": REFERENCE,
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
            "max_retries": max_retries,
        },
        "scorers": [
            {"type": "token_f1"},
            {"type": "contains", "value": MUST_CONTAIN, "weight": 0.5},
        ],
    }
    path = directory / "bench.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


def write_promptfoo(directory: Path, base_url: str, cases: int) -> Path:
    config = {
        "prompts": ["{{input}}"],
        "providers": [
            {"id": "openai:chat:ledger-chat", "config": {"apiBaseUrl": base_url}},
        ],
        "tests": [
            {
                "vars": {"input": question(i)},
                "assert": [{"type": "contains", "value": MUST_CONTAIN}],
            }
            for i in range(cases)
        ],
    }
    path = directory / "promptfooconfig.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


CPU_S: dict[str, list[float]] = {}  # command -> CPU seconds (user + system) of each run


def timed(command: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> float:
    """Wall seconds of one run; its CPU seconds go to `CPU_S`. On a machine shared with other
    work the wall time depends on the load, the CPU time much less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(command)}: exit {done.returncode}\n{done.stderr[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    CPU_S.setdefault(" ".join(command), []).append(cpu)
    return elapsed


def cpu_median(command: list[str]) -> float:
    return statistics.median(CPU_S[" ".join(command)])


def interleaved(runs: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Each command's wall times, `repeats` rounds of all of them, so that a busy moment of the
    machine hits every command of its round."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            times[name].append(run())
    return times


def ratios(ours: list[float], theirs: list[float]) -> str:
    """The range of the per-round ratios: how far one round's machine load moves the figure."""
    each = [a / b for a, b in zip(ours, theirs, strict=True)]
    return f"rounds {min(each):.2f}-{max(each):.2f}x"


def promptfoo() -> list[str] | None:
    """The command that runs promptfoo 0.121.20: installed, or already in npx's cache."""
    for command in (["promptfoo"], ["npx", "--no-install", f"promptfoo@{PROMPTFOO_VERSION}"]):
        try:
            done = subprocess.run(
                [*command, "--version"], capture_output=True, text=True, timeout=120
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0 and done.stdout.strip() == PROMPTFOO_VERSION:
            return command
    return None


def latency_bound(directory: Path, repeats: int) -> None:
    cases, concurrency, latency_ms = 200, 20, 250.0
    ideal = cases / concurrency * latency_ms / 1000
    with simulator(fixed_latency_ms=latency_ms, rpm=10**9) as base_url:
        suite = write_suite(directory, base_url, cases, concurrency)
        subprocess.run([*CANARY, "baseline", str(suite), "--quiet"], cwd=directory, check=True)
        floor = [sys.executable, str(HERE / "reference_clients.py"), "httpx", base_url]
        floor += [str(cases), str(concurrency)]
        canary = [*CANARY, "run", str(suite), "--quiet", "--json", "report.json"]
        runs = {
            "floor": lambda: timed(floor, directory),
            "canary": lambda: timed(canary, directory),
        }
        note = ""
        if (foo := promptfoo()) is not None:
            config = write_promptfoo(directory, base_url, cases)
            command = [*foo, "eval", "-c", str(config), "-j", str(concurrency)]
            command += ["--no-cache", "--no-table", "--no-write", "--no-progress-bar"]
            runs["promptfoo"] = lambda: timed(command, directory, ok=(0, 100))
        else:
            note = f"promptfoo {PROMPTFOO_VERSION}: skipped, neither installed nor in npx's cache"
        times = interleaved(runs, repeats)
        got = {name: statistics.median(values) for name, values in times.items()}
    print(f"{cases} cases, {latency_ms:g} ms latency, concurrency {concurrency}", end=", ")
    print(f"median of {repeats}:")
    print(f"  ideal (cases / concurrency x latency)  {ideal:6.2f} s")
    wall, floor_wall = got["canary"], got["floor"]
    cpu, floor_cpu = cpu_median(canary), cpu_median(floor)
    print(f"  floor: asyncio + httpx + semaphore     {floor_wall:6.2f} s  CPU {floor_cpu:5.2f} s")
    print(f"  `canary run`, start to exit            {wall:6.2f} s  CPU {cpu:5.2f} s", end="  ")
    print(f"{wall / floor_wall:.3f}x floor ({ratios(times['canary'], times['floor'])})")
    if "promptfoo" in got:
        theirs = got["promptfoo"]
        print(f"  promptfoo {PROMPTFOO_VERSION} eval                {theirs:6.2f} s", end="  ")
        print(f"canary/promptfoo {wall / theirs:.2f}")
    else:
        print(f"  {note}")


def cpu_bound(directory: Path, repeats: int) -> None:
    cases, concurrency = 2000, 50
    with simulator(latency_scale=0.0, rpm=10**9) as base_url:
        suite = write_suite(directory, base_url, cases, concurrency)
        subprocess.run([*CANARY, "baseline", str(suite), "--quiet"], cwd=directory, check=True)
        aiohttp = [sys.executable, str(HERE / "reference_clients.py"), "aiohttp", base_url]
        aiohttp += [str(cases), str(concurrency)]
        canary = [*CANARY, "run", str(suite), "--quiet"]
        times = interleaved(
            {
                "aiohttp": lambda: timed(aiohttp, directory),
                "canary": lambda: timed(canary, directory),
            },
            repeats,
        )
    got = {name: statistics.median(values) for name, values in times.items()}
    wall, reference = got["canary"], got["aiohttp"]
    cpu, reference_cpu = cpu_median(canary), cpu_median(aiohttp)
    print(f"{cases} cases, latency 0, concurrency {concurrency}, median of {repeats}")
    print(
        f"  aiohttp client, start to exit          {reference:6.2f} s  CPU {reference_cpu:5.2f} s"
    )
    print(f"  `canary run`, start to exit            {wall:6.2f} s  CPU {cpu:5.2f} s", end="  ")
    spread = ratios(times["canary"], times["aiohttp"])
    print(f"{wall / reference:.2f}x aiohttp ({spread}; CPU {cpu / reference_cpu:.2f}x)")


def not_stored(command: list[str], directory: Path) -> float:
    """`command`'s wall time on a machine where nothing stored the limits yet."""
    shutil.rmtree(ENV["XDG_CACHE_HOME"], ignore_errors=True)
    return timed(command, directory)


def start_up(directory: Path) -> None:
    print("start-up, median of 10")
    for args in (["--help"], ["--version"]):
        times = [timed([*CANARY, *args], directory) for _ in range(10)]
        print(f"  canary {args[0]:<30} {statistics.median(times) * 1000:6.0f} ms")
    suites = {"2,000 cases": directory / "bench.yaml", "the bundled suite": BUNDLED_SUITE}
    for name, suite in suites.items():
        validate = [*CANARY, "validate", str(suite)]
        stored = statistics.median(timed(validate, directory) for _ in range(10))

        cold = statistics.median(not_stored(validate, directory) for _ in range(10))
        print(
            f"  canary validate, {name:<21} {stored * 1000:6.0f} ms  "
            f"(limits not stored yet: {cold * 1000:.0f} ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        ENV["XDG_CACHE_HOME"] = str(directory / "cache")  # where `canary baseline` stores limits
        latency_bound(directory, args.repeats)
        cpu_bound(directory, args.repeats)
        start_up(directory)
        report = json.loads((directory / "report.json").read_text())
        assert report["exit_code"] == 0, report["verdict"]
    print(f"(machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the end)")


if __name__ == "__main__":
    main()
