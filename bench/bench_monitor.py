"""Benchmark `canary monitor`: 1,000,000 call records and 300,000 feedback events.

Generates eight days of support-bot logs (vectorised, into a temporary folder; the last day
drifts: a new topic, doubled latency, disputes' thumbs-down doubled), runs `run_monitor` over
them and prints wall time, records per second and peak resident memory. The target is under
60 s on 2 cores and under 1 GB.

    python bench/bench_monitor.py [--calls 1000000] [--feedback 300000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

INTENTS = {
    "billing": [
        "Why was I charged twice this month for my subscription {n}?",
        "I see a duplicate charge of {n} dollars on my card",
        "How do I update the credit card on my billing account?",
        "Can I get an invoice for my payment number {n}?",
    ],
    "shipping": [
        "Where is my package, order {n}?",
        "My delivery for order {n} is late",
        "Can I change the shipping address for order {n}?",
        "The tracking number for my parcel {n} does not work",
    ],
    "account": [
        "I forgot my password and cannot log in to account {n}",
        "How do I change the email address on my profile?",
        "Please delete my account and personal data",
        "I am locked out after {n} login attempts",
    ],
    "disputes": [
        "I want to dispute transaction {n} from the merchant",
        "The seller never delivered order {n}, I want my money back",
        "How do I open a chargeback claim for payment {n}?",
        "My dispute case {n} was closed without explanation",
    ],
    "technical": [
        "The app crashes when I open the settings page",
        "I get error code {n} when uploading a file",
        "The website is very slow on my phone",
        "Notifications stopped working after update {n}",
    ],
}
NEW_TOPIC = [
    "Can I pay with bitcoin from my crypto wallet {n}?",
    "How do I connect my crypto wallet to the exchange feature?",
    "What are the gas fees for bitcoin withdrawal {n}?",
    "Is staking of solana tokens available in the crypto wallet yet?",
]
EVENTS = ["thumbs_up", "thumbs_down", "accepted", "edited", "escalated", "csat"]
END = np.datetime64("2024-05-08T00:00:00", "s")
DAYS = 8


def _iso(seconds: np.ndarray) -> np.ndarray:
    """Epoch-relative seconds -> ISO 8601 strings with Z, vectorised."""
    stamps = (END - np.timedelta64(DAYS * 86400, "s")) + seconds.astype("timedelta64[s]")
    return np.char.add(np.datetime_as_string(stamps, unit="s"), "Z")


def generate(directory: Path, calls: int, feedback: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    names = list(INTENTS)
    templates = [t for n in names for t in INTENTS[n]]
    template_intent = np.repeat(np.arange(len(names)), [len(INTENTS[n]) for n in names])
    tasks = calls // 2
    task_start = np.sort(rng.uniform(0, DAYS * 86400 - 600, tasks))
    task_of_call = np.sort(rng.integers(0, tasks, calls))
    ts = task_start[task_of_call] + rng.uniform(0, 300, calls)
    order = np.argsort(ts, kind="stable")
    ts, task_of_call = ts[order], task_of_call[order]
    task_intent = rng.integers(0, len(names), tasks)
    drifted = ts >= (DAYS - 1) * 86400
    new_topic_task = rng.random(tasks) < 0.2
    new_topic = drifted & new_topic_task[task_of_call]
    call_intent = task_intent[task_of_call]
    template = call_intent * 4 + rng.integers(0, 4, calls)
    numbers = rng.integers(1000, 99999, calls)
    latency = rng.lognormal(0, 0.35, calls) * np.array([900, 700, 600, 1200, 1000])[call_intent]
    latency *= np.where(drifted, 2.0, 1.0)
    roll = rng.random(calls)
    status = np.where(roll < 0.02, "error", np.where(roll < 0.03, "rate_limited", "ok"))
    fallback = np.where(rng.random(calls) < 0.02, "true", "false")
    in_tok = rng.integers(150, 250, calls)
    out_tok = rng.integers(80, 220, calls)
    stamps = _iso(ts)
    topic = rng.integers(0, len(NEW_TOPIC), calls)
    pool = [json.dumps(t) for t in templates]
    new_pool = [json.dumps(t) for t in NEW_TOPIC]
    with (directory / "calls.jsonl").open("w", encoding="utf-8") as out:
        lines = []
        for i in range(calls):
            text = (new_pool[topic[i]] if new_topic[i] else pool[template[i]]).replace(
                "{n}", str(numbers[i])
            )
            lines.append(
                f'{{"ts":"{stamps[i]}","task_id":"t{task_of_call[i]}","input":{text},'
                f'"latency_ms":{latency[i]:.1f},"input_tokens":{in_tok[i]},'
                f'"output_tokens":{out_tok[i]},"status":"{status[i]}",'
                f'"fallback":{fallback[i]},"model":"gpt-4o-mini"}}\n'
            )
            if len(lines) >= 100_000:
                out.writelines(lines)
                lines.clear()
        out.writelines(lines)
    fb_task = np.sort(rng.integers(0, tasks, feedback))
    fb_ts = np.minimum(task_start[fb_task] + rng.uniform(300, 900, feedback), DAYS * 86400 - 1)
    fb_intent = task_intent[fb_task]
    down = np.where(
        (fb_intent == names.index("disputes")) & (fb_ts >= (DAYS - 1) * 86400), 0.3, 0.15
    )
    kind = rng.choice([0, 2, 3, 4, 5], size=feedback, p=[0.5, 0.25, 0.1, 0.05, 0.1])
    kind = np.where((kind == 0) & (rng.random(feedback) < down), 1, kind)
    csat = rng.choice([1, 2, 3, 4, 5], size=feedback, p=[0.1, 0.1, 0.2, 0.3, 0.3])
    fb_order = np.argsort(fb_ts, kind="stable")
    fb_stamps = _iso(fb_ts[fb_order])
    with (directory / "feedback.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(
            f'{{"ts":"{fb_stamps[j]}","task_id":"t{fb_task[i]}","event":"{EVENTS[kind[i]]}"'
            + (f',"value":{csat[i]}' if kind[i] == 5 else "")
            + "}\n"
            for j, i in enumerate(fb_order)
        )
    cases = [
        {
            "id": f"{names[template_intent[k]]}-{k}",
            "intent": names[template_intent[k]],
            "input": t.replace("{n}", str(40000 + k)),
            "reference": "An answer.",
        }
        for k, t in enumerate(templates)
    ]
    (directory / "evalset.yaml").write_text(yaml.safe_dump({"cases": cases}), encoding="utf-8")
    config = {
        "name": "bench",
        "calls": "calls.jsonl",
        "feedback": "feedback.jsonl",
        "window": "24h",
        "reference": "7d",
        "pricing": {"input_per_mtok": 0.15, "output_per_mtok": 0.6},
        "evalset": "evalset.yaml",
        "thresholds": {
            "ops": {"max_p95_latency_increase": 0.5, "max_error_rate_increase": 0.02},
            "signals": {"max_thumbs_down_rate_increase": 0.05},
            "drift": {"auc_alpha": 0.05, "min_auc": 0.55, "max_uncovered_share": 0.1},
        },
    }
    (directory / "monitor.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--feedback", type=int, default=300_000)
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.keep or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        # A child process generates, so its memory does not count in this process's peak.
        child = multiprocessing.Process(
            target=generate, args=(directory, args.calls, args.feedback)
        )
        child.start()
        child.join()
        if child.exitcode:
            return 1
        generated = time.perf_counter() - started
        size = sum(p.stat().st_size for p in directory.glob("*.jsonl")) / 1e6
        print(
            f"generated {args.calls:,} calls + {args.feedback:,} feedback events "
            f"({size:.0f} MB) in {generated:.1f} s"
        )
        from canary_eval.monitor import run_monitor

        started = time.perf_counter()
        result = run_monitor(directory / "monitor.yaml")
        wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    records = args.calls + args.feedback
    print(f"monitor: {wall:.1f} s wall, {records / wall:,.0f} records/s, peak RSS {peak:.0f} MiB")
    print(
        f"verdict {result.verdict}; alerts: "
        + ", ".join(
            sorted(
                {
                    f"{a.layer}:{a.metric}" + (f"[{a.intent}]" if a.intent else "")
                    for a in result.alerts
                    if a.failing
                }
            )
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
