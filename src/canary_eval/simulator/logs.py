"""Production logs of the simulated support bot, for `canary monitor`: `calls.jsonl` (one record
per model call) and `feedback.jsonl` (what users did with the answers), in the canonical shapes.

Inputs are paraphrases of the bundled canary set's inputs, so the canary set covers them. With
`drift=True` the last 24 hours change the way production does: about 20 % of inputs are about a
feature the canary set has never heard of (payroll and crypto payouts), the disputes intent's
thumbs-down rate (the share of its thumb ratings that are down) doubles, and latency's p95
doubles while its median stays put.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from canary_eval.simulator.bank import Entry, load_bank
from canary_eval.simulator.log_formats import write_logs
from canary_eval.simulator.phrasing import generic_answer
from canary_eval.simulator.tokens import count_tokens

DEFAULT_END = datetime(2025, 6, 30, tzinfo=UTC)
MODEL = "ledger-chat-2024-06"
FALLBACK_MODEL = "ledger-chat-mini-2024-05"
PRICING = (0.15, 0.60)  # USD per million input / output tokens, as configs/support-bot.yaml
SYSTEM_TOKENS = 118  # the production system prompt
INTENT_MIX = {
    "faq": 0.27,
    "billing": 0.21,
    "technical": 0.16,
    "account": 0.13,
    "disputes": 0.15,
    "summarisation": 0.08,
}
RATED = 0.5  # share of tasks a user rates with a thumb
THUMBS_DOWN = {  # share of ratings that are thumbs-down; "new" is the uncovered topic
    "faq": 0.12,
    "billing": 0.18,
    "technical": 0.20,
    "account": 0.15,
    "disputes": 0.25,
    "summarisation": 0.12,
    "new": 0.25,
}
ESCALATION = {"disputes": 0.10, "new": 0.15}  # per task; 0.04 for the other intents
HOURLY = [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 9, 8, 9, 10, 10, 9, 7, 5, 4, 3, 2, 2, 1]
LATENCY_MEDIAN_MS = 850.0
LATENCY_SIGMA = 0.45
DRIFT_SIGMA = LATENCY_SIGMA + math.log(2) / 1.645  # p95 doubles, the median stays
NEW_TOPIC_SHARE = 0.20

PREFIXES = ("", "", "", "", "Hi, ", "Hey - ", "Quick question: ", "Hello! ", "hi team, ")
SUFFIXES = ("", "", "", "", " Thanks!", " thanks", " Thanks in advance.", " Appreciate it.")
SWAPS = (
    ("How do I", "How can I"),
    ("What's", "What is"),
    ("Can I", "Is it possible to"),
    (" my ", " our "),
    ("Ledgerly", "the app"),
    ("invoice", "bill"),
    ("client", "customer"),
)
NEW_TOPIC = (
    "How do I run payroll for my {n} employees in Ledgerly?",
    "Can Ledgerly Payroll file W-2 forms at the end of the year?",
    "When does payroll get deposited if I run it on {day}?",
    "How do I add a new hire to payroll?",
    "Why is my payroll run stuck in pending since {day}?",
    "Can I run an off-cycle payroll for a bonus?",
    "How do I download pay stubs for my team?",
    "Does Ledgerly Payroll withhold state income tax for {state}?",
    "How do I set up direct deposit for payroll?",
    "Can I pay my contractors in USDC through Ledgerly?",
    "What's the fee for crypto payouts to a Bitcoin wallet?",
    "How do I connect my Coinbase wallet for crypto payouts?",
    "Is there a daily limit on crypto payouts? I need to send {n},000 USDC.",
    "Can clients pay my invoices in Ethereum?",
    "My crypto payout to {n} contractors failed, what happened?",
    "Which stablecoins can I use for payouts?",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
STATES = ("California", "New York", "Texas", "Illinois", "Washington")


@dataclass(frozen=True)
class _Task:
    id: str
    start: datetime
    intent: str  # "new" for the topic the canary set does not cover
    drifted: bool


def write_production_logs(
    directory: Path,
    *,
    days: int = 8,
    calls_per_day: int = 3000,
    drift: bool = False,
    seed: int = 0,
    end: datetime = DEFAULT_END,
    fmt: str = "jsonl",
) -> tuple[Path, Path]:
    """Write the calls and feedback of `days` days up to `end` in `fmt` (see log_formats:
    `calls.jsonl` and `feedback.jsonl` for the canonical jsonl); return the two files."""
    rng = random.Random(seed)
    bank = load_bank()
    by_intent = {i: [bank.entries[c] for c in ids] for i, ids in bank.by_intent.items()}
    start = end - timedelta(days=days)
    drift_from = end - timedelta(hours=24)
    tasks_per_day = max(1, round(calls_per_day / 1.4))  # a task makes 1.4 calls on average
    calls: list[dict[str, Any]] = []
    feedback: list[dict[str, Any]] = []
    serial = 0
    for day in range(days):
        for _ in range(tasks_per_day):
            hour = rng.choices(range(24), weights=HOURLY)[0]
            when = start + timedelta(days=day, hours=hour, seconds=rng.uniform(0, 3600))
            drifted = drift and when >= drift_from
            new = drifted and rng.random() < NEW_TOPIC_SHARE
            intents, weights = zip(*INTENT_MIX.items(), strict=True)
            intent = "new" if new else rng.choices(intents, weights=weights)[0]
            serial += 1
            task = _Task(f"t-{serial:07d}", when, intent, drifted)
            last = _task_calls(task, by_intent.get(intent, []), rng, calls)
            _task_feedback(task, last, rng, feedback)
    for records in (calls, feedback):
        records.sort(key=lambda r: r["ts"])
    calls_path, feedback_path, _ = write_logs(calls, feedback, directory, fmt)
    return calls_path, feedback_path


def _task_calls(
    task: _Task, entries: list[Entry], rng: random.Random, calls: list[dict[str, Any]]
) -> datetime:
    """Append the task's calls; return when its last call ended."""
    when = task.start
    count = 1 + (rng.random() < 0.3) + (rng.random() < 0.1)
    for _ in range(count):
        if task.intent == "new":
            text = _new_topic(rng)
            output = generic_answer(text)
        else:
            entry = rng.choice(entries)
            text = _paraphrase(entry.input, rng)
            output = entry.right if rng.random() < 0.9 else entry.wrong
        sigma = DRIFT_SIGMA if task.drifted else LATENCY_SIGMA
        latency = round(LATENCY_MEDIAN_MS * math.exp(sigma * rng.gauss(0.0, 1.0)), 1)
        roll = rng.random()
        status = "error" if roll < 0.012 else "rate_limited" if roll < 0.017 else "ok"
        fallback = status == "ok" and rng.random() < 0.02
        if status != "ok":
            output = ""
        input_tokens = SYSTEM_TOKENS + count_tokens(text)
        output_tokens = count_tokens(output)
        cost = (input_tokens * PRICING[0] + output_tokens * PRICING[1]) / 1e6
        record: dict[str, Any] = {
            "ts": _iso(when),
            "task_id": task.id,
            "input": text,
            "output": output,
            "latency_ms": latency,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cost_usd": round(cost, 8),
            "status": status,
            "fallback": fallback,
            "model": FALLBACK_MODEL if fallback else MODEL,
        }
        # Production tags most calls with an intent upstream; the rest are left to the monitor.
        if task.intent != "new" and rng.random() < 0.75:
            record["intent"] = task.intent
        calls.append(record)
        when += timedelta(milliseconds=latency) + timedelta(seconds=rng.uniform(15, 240))
    return when


def _task_feedback(
    task: _Task, done: datetime, rng: random.Random, feedback: list[dict[str, Any]]
) -> None:
    def event(name: str, value: int | None = None) -> None:
        when = done + timedelta(seconds=rng.uniform(5, 1800))
        feedback.append({"ts": _iso(when), "task_id": task.id, "event": name, "value": value})

    verdict = None
    if rng.random() < RATED:
        down = THUMBS_DOWN[task.intent] * (2 if task.drifted and task.intent == "disputes" else 1)
        verdict = "thumbs_down" if rng.random() < down else "thumbs_up"
        event(verdict)
    summary = task.intent == "summarisation"
    if rng.random() < (0.7 if summary else 0.3) and verdict != "thumbs_down":
        event("accepted")
    if rng.random() < (0.15 if summary else 0.05):
        event("edited")
    if rng.random() < ESCALATION.get(task.intent, 0.04):
        event("escalated")
    if rng.random() < 0.12:
        low, high = {"thumbs_down": (1, 2), "thumbs_up": (4, 5)}.get(verdict or "", (3, 5))
        event("csat", rng.randint(low, high))


def _paraphrase(text: str, rng: random.Random) -> str:
    """A production user's wording of a canary input: greetings, swaps, case and punctuation."""
    if "\n" in text:  # a conversation to summarise: only the request line varies
        return rng.choice(PREFIXES).capitalize() + text
    if rng.random() < 0.5:
        old, new = rng.choice(SWAPS)
        text = text.replace(old, new, 1)
    if rng.random() < 0.3:
        text = text[0].lower() + text[1:]
    if rng.random() < 0.2:
        text = text.rstrip("?")
    return f"{rng.choice(PREFIXES)}{text}{rng.choice(SUFFIXES)}".strip()


def _new_topic(rng: random.Random) -> str:
    template = rng.choice(NEW_TOPIC)
    return template.format(n=rng.randint(2, 40), day=rng.choice(DAYS), state=rng.choice(STATES))


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
