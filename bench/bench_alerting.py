"""Benchmark: how often the hourly canary pages on noise, and how fast it pages on a real change.

Thirty days of hourly runs (720) of the bundled support-bot suite, answered in-process by the
bundled vendor simulator's own code (`Vendor.chat`: its answer logic, per-request noise, usage and
log-normal latency jitter), scored by the suite's scorers and decided by the same `compare()` and
history rows the CLI uses, with the shipped config. The suite's summarisation intent is cut to 15
cases (the smallest-intent case). For each per-request noise level it prints:

* false pages in 30 days (a page = a run that exits 1 after one that did not) and the share of
  runs with a warning, on an unchanged model;
* for a true 10 % relative drop, one 15-case intent half wrong and a p95 latency doubling, the
  mean and 95th-percentile hours until paged, from changes injected at several points of the
  month (each hour after the change is one more run; 1 = the first run after it pages).

    python bench/bench_alerting.py [--noise 0.02 0.05 0.10] [--trials 12] [--seed 1]

If bench/bench_alerting_monitor.py exists (the `canary monitor` half), its `main()` runs
afterwards with its own defaults; `--no-monitor` skips it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

from canary_eval.models import CallOutcome, Case, CaseResult, EvalSet, RunInfo, RunResult
from canary_eval.run.providers.openai import parse_chat_completion
from canary_eval.run.runner import case_result
from canary_eval.run.scoring import check_suite, scorers_hash
from canary_eval.scorers import ScoreInput, score_case
from canary_eval.simulator.config import SimulatorConfig
from canary_eval.simulator.vendor import Vendor
from canary_eval.simulator.versions import MODEL_VERSIONS, ModelVersion, decide
from canary_eval.store.history import past_run, summary_row
from canary_eval.suite.config import SuiteConfig, load_config
from canary_eval.suite.evalset import load_evalset
from canary_eval.verdict.calibration import PastRun
from canary_eval.verdict.compare import Comparison, compare

BUNDLED = Path(__file__).parents[1] / "src" / "canary_eval" / "bundled"
HOURS = 720
SMALL_INTENT, SMALL_SIZE = "summarisation", 15
MAX_WAIT = 48  # hours after a change before a trial counts as missed
UNLIMITED = 10**9  # requests per minute: the bench asks far faster than an hourly canary


@dataclass
class Suite:
    config: SuiteConfig
    evalset: EvalSet
    scorers: Any
    cache: dict[tuple[str, str], tuple[float, Any]]


def load_suite() -> Suite:
    config = load_config(BUNDLED / "configs" / "support-bot.yaml")
    evalset = load_evalset(config.evalset_path)
    small = [c for c in evalset.cases if c.intent == SMALL_INTENT][:SMALL_SIZE]
    cases = tuple(c for c in evalset.cases if c.intent != SMALL_INTENT or c in small)
    evalset = replace(evalset, cases=cases)
    return Suite(config, evalset, check_suite(config, evalset), {})


def register(name: str, **changes: Any) -> str:
    """A bench-only model version, answered by the simulator's own logic."""
    versions = cast(dict[str, ModelVersion], MODEL_VERSIONS)
    versions[name] = replace(MODEL_VERSIONS["stable"], name=name, **changes)
    return name


def expected_score(suite: Suite, version: str) -> float:
    """The suite's mean score under `version` without noise (scores from the cache)."""
    return statistics.fmean(score_of(suite, c, version) for c in suite.evalset.cases)


def score_of(suite: Suite, case: Case, version: str) -> float:
    vendor = Vendor(SimulatorConfig(version=version, latency_scale=0, rpm=UNLIMITED))
    return answer(suite, vendor, case).score or 0.0


def drop_version(suite: Suite, target: float) -> str:
    """A version with more of every intent wrong, tuned to a `target` relative drop."""
    stable = expected_score(suite, "stable")
    low, high = 0.12, 0.6
    for _ in range(12):
        mid = (low + high) / 2
        drop = 1 - expected_score(suite, register("bench-drop", wrong_rate={"*": mid})) / stable
        low, high = (mid, high) if drop < target else (low, mid)
    return register("bench-drop", wrong_rate={"*": high})


def collapse_version(suite: Suite) -> str:
    """A version with at least half of the 15-case intent wrong, the rest as stable."""
    small = [c for c in suite.evalset.cases if c.intent == SMALL_INTENT]
    for k in range(1, 21):
        name = register("bench-collapse", wrong_rate={"*": 0.12, SMALL_INTENT: k / 20})
        if sum(decide(c.id, name) != "right" for c in small) * 2 >= len(small):
            return name
    raise SystemExit("could not build the intent collapse")


def answer(suite: Suite, vendor: Vendor, case: Case) -> CaseResult:
    """One request through the simulator, scored (cached by output text)."""
    system = suite.config.prompt.system or ""
    body = {
        "model": "ledger-chat",
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": case.input},
        ],
    }
    reply = vendor.chat(body, None)
    completion = parse_chat_completion(json.loads(reply.body))
    key = (case.id, completion.text)
    if key not in suite.cache:
        item = ScoreInput(completion.text, case, completion)
        suite.cache[key] = asyncio.run(score_case(suite.scorers[case.id], item))
    value, scores = suite.cache[key]
    outcome = CallOutcome(case.id, completion, latency_ms=reply.delay_s * 1000)
    return case_result(case, outcome, value, scores)


def run(suite: Suite, vendor: Vendor, hour: int) -> RunResult:
    c = suite.config
    info = RunInfo(
        suite=c.suite,
        evalset_hash=suite.evalset.hash,
        prompt_hash=c.prompt.hash,
        provider=c.provider.type,
        model=c.provider.model,
        created_at=f"2026-01-01 hour {hour}",
        scorers_hash=scorers_hash(suite.scorers),
    )
    return RunResult(info, tuple(answer(suite, vendor, c) for c in suite.evalset.cases))


def decide_run(
    suite: Suite, current: RunResult, baseline: RunResult, past: list[PastRun]
) -> Comparison:
    """The CLI's decision: compare with the suite's thresholds and policy, then the history."""
    c = suite.config
    result = compare(current, baseline, c.thresholds, c.quarantine, alerting=c.alerting, past=past)
    past.append(past_run(summary_row(result)))
    return result


@dataclass
class Month:
    pages: int
    warned: float
    exits: float
    snapshots: dict[int, list[PastRun]]


def month(suite: Suite, noise: float, seed: int, branch_at: list[int]) -> tuple[Month, RunResult]:
    vendor = Vendor(SimulatorConfig(version="stable", seed=seed, noise=noise, rpm=UNLIMITED))
    baseline = run(suite, vendor, 0)
    past: list[PastRun] = []
    pages = warned = exits = 0
    paging = False
    snapshots = {}
    for hour in range(1, HOURS + 1):
        if hour in branch_at:
            snapshots[hour] = list(past)
        result = decide_run(suite, run(suite, vendor, hour), baseline, past)
        now = result.exit_code == 1
        pages += now and not paging
        exits += now
        warned += not now and any(a.severity == "warn" for a in result.alerts)
        paging = now
    return Month(pages, warned / HOURS, exits / HOURS, snapshots), baseline


def hours_to_alert(
    suite: Suite,
    vendor: Vendor,
    baseline: RunResult,
    snapshots: dict[int, list[PastRun]],
    gate: str | None,
) -> tuple[list[float], set[str]]:
    """Hours from each injected change until the run pages (or, with `gate`, until that gate
    alerts at whatever severity the policy gives it), and the severities seen. One vendor
    serves every trial, so each trial's requests draw fresh noise."""
    waits, severities = [], set()
    for start, past in snapshots.items():
        past = list(past)
        for hour in range(1, MAX_WAIT + 1):
            result = decide_run(suite, run(suite, vendor, start + hour), baseline, past)
            hits = [a for a in result.alerts if a.gate == gate] if gate else []
            if result.exit_code == 1 or hits:
                waits.append(float(hour))
                severities.update(a.severity for a in hits)
                break
        else:
            waits.append(math.inf)
    return waits, severities


def changed(version: str, noise: float, seed: int, latency_ms: float = 300.0) -> Vendor:
    """The changed vendor: the same seed (the same hard cases) and noise as the month."""
    config = SimulatorConfig(
        version=version, seed=seed, noise=noise, latency_ms=latency_ms, rpm=UNLIMITED
    )
    return Vendor(config)


def summary(waits: list[float]) -> str:
    caught = sorted(w for w in waits if math.isfinite(w))
    missed = len(waits) - len(caught)
    if not caught:
        return f"never paged within {MAX_WAIT} h"
    p95 = sorted(waits)[min(len(waits) - 1, math.ceil(0.95 * len(waits)) - 1)]
    text = f"mean {statistics.fmean(caught):.1f} h, p95 {p95:.0f} h"
    return text + (f", {missed}/{len(waits)} missed within {MAX_WAIT} h" if missed else "")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", type=float, nargs="+", default=[0.02, 0.05, 0.10])
    parser.add_argument("--trials", type=int, default=12, help="changes injected per scenario")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-monitor", action="store_true")
    args, _ = parser.parse_known_args(argv)
    started = time.perf_counter()
    suite = load_suite()
    stable = expected_score(suite, "stable")
    drop = drop_version(suite, 0.10)
    collapse = collapse_version(suite)
    print(
        f"suite: bundled support-bot, {len(suite.evalset.cases)} cases ({SMALL_INTENT} cut to "
        f"{SMALL_SIZE}); default config; false_pages_per_month "
        f"{suite.config.alerting.false_pages_per_month}; mean score {stable:.3f}; "
        f"10 % drop version: {1 - expected_score(suite, drop) / stable:.1%} relative"
    )
    step = HOURS // (args.trials + 1)
    branch_at = [step * (i + 1) for i in range(args.trials)]
    for noise in args.noise:
        aa, baseline = month(suite, noise, args.seed, branch_at)
        print(
            f"\nnoise {noise:.0%}: false pages in 30 days: {aa.pages}  (runs exiting 1: "
            f"{aa.exits:.2%}; runs with a warning: {aa.warned:.1%})"
        )

        scenarios = {
            "10 % relative drop": (changed(drop, noise, args.seed), None),
            f"{SMALL_SIZE}-case intent half wrong": (changed(collapse, noise, args.seed), None),
            "p95 latency doubled": (
                changed("stable", noise, args.seed, latency_ms=600.0),
                "max_p95_latency_increase",
            ),
        }
        for label, (vendor, gate) in scenarios.items():
            waits, seen = hours_to_alert(suite, vendor, baseline, aa.snapshots, gate)
            until = f"alerted ({'/'.join(sorted(seen)) or '-'})" if gate else "paged"
            print(f"  {label:<28} hours until {until}: {summary(waits)}")
    print(f"\n{time.perf_counter() - started:.0f} s wall (shared 2-core machine)")
    monitor = Path(__file__).with_name("bench_alerting_monitor.py")
    if monitor.exists() and not args.no_monitor:
        spec = importlib.util.spec_from_file_location("bench_alerting_monitor", monitor)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while it loads
        spec.loader.exec_module(module)
        print()
        sys.argv = [str(monitor)]  # its own defaults: it takes its own options
        module.main()


if __name__ == "__main__":
    main()
