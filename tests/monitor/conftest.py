"""A small seeded generator of support-bot production logs, a canary set and monitor configs.

`write_logs` writes call records and feedback events in the canonical shape of issue 8 for
`days` days ending at END. With `drift=True` the last day changes the way the issue describes:
disputes' thumbs-down rate doubles, every latency doubles, and a fifth of the tasks are about a
topic the canary set never covers (crypto wallets).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

END = datetime(2024, 5, 8, tzinfo=UTC)
# One good canonical call record, for the reader tests to vary a field at a time.
CALL: dict[str, Any] = {
    "ts": "2024-05-01T12:00:00Z",
    "task_id": "t1",
    "input": "Where is my parcel?",
    "latency_ms": 812.5,
    "input_tokens": 200,
    "output_tokens": 100,
    "status": "ok",
    "fallback": False,
    "model": "m",
}

TEMPLATES: dict[str, list[str]] = {
    "billing": [
        "Why was I charged twice this month for my subscription?",
        "I see a duplicate charge of {amount} dollars on my card",
        "How do I update the credit card on my billing account?",
        "Can I get an invoice for my payment from {month}?",
        "My subscription renewal price went up in {month}, why?",
        "When will my refund of {amount} dollars show up on my statement?",
    ],
    "shipping": [
        "Where is my package, order {order}?",
        "My delivery for order {order} is late",
        "Can I change the shipping address for order {order}?",
        "The tracking number for my parcel {order} does not work",
        "How long does express shipping take to {city}?",
        "The courier left my package at the wrong door in {city}",
    ],
    "account": [
        "I forgot my password and cannot log in",
        "How do I change the email address on my profile?",
        "Please delete my account and personal data",
        "I am locked out after too many login attempts",
        "How do I enable two factor authentication on my login?",
        "Can I merge two accounts into one profile?",
    ],
    "disputes": [
        "I want to dispute a transaction from {merchant}",
        "The seller {merchant} never delivered, I want my money back",
        "I was billed by {merchant} for something I never ordered, dispute it",
        "How do I open a chargeback claim against {merchant}?",
        "My dispute case {order} was closed without explanation",
        "The item from {merchant} arrived broken and the seller refuses to settle the dispute",
    ],
    "technical": [
        "The app crashes when I open the settings page",
        "I get error code {code} when uploading a file",
        "The website is very slow on my phone in {browser}",
        "Notifications stopped working after the last app update",
        "The export button does nothing in {browser}",
        "Sync between my laptop and phone app is broken",
    ],
}
NEW_TOPIC = [
    "Can I pay with bitcoin from my crypto wallet?",
    "Do you support ethereum wallets for crypto deposits?",
    "How do I connect my crypto wallet to the exchange feature?",
    "What are the gas fees for a bitcoin withdrawal to a wallet?",
    "Is staking of solana tokens available in the crypto wallet yet?",
    "My nft purchase with crypto is stuck in the blockchain",
]
SLOTS = {
    "amount": ["12", "49", "120", "7.99", "300"],
    "month": ["January", "March", "June", "October"],
    "order": ["48213", "99120", "10023", "55555", "73110"],
    "city": ["Berlin", "Lyon", "Austin", "Osaka"],
    "merchant": ["ShopCo", "MegaMart", "GizmoHub", "TravelNow"],
    "code": ["500", "E42", "403", "X9"],
    "browser": ["Firefox", "Safari", "Chrome"],
}
INTENTS = list(TEMPLATES)
THUMBS_DOWN = {
    "billing": 0.10,
    "shipping": 0.10,
    "account": 0.08,
    "disputes": 0.15,
    "technical": 0.12,
}
LATENCY_MS = {"billing": 900, "shipping": 700, "account": 600, "disputes": 1200, "technical": 1000}


def fill(template: str, rng: random.Random) -> str:
    return template.format(**{k: rng.choice(v) for k, v in SLOTS.items()})


def write_evalset(directory: Path, *, seed: int = 0) -> Path:
    rng = random.Random(seed)
    cases = []
    for intent, templates in TEMPLATES.items():
        for round_ in range(2):
            for i, template in enumerate(templates):
                cases.append(
                    {
                        "id": f"{intent}-{round_}{i}",
                        "intent": intent,
                        "input": fill(template, rng),
                        "reference": "An answer.",
                    }
                )
    path = directory / "evalset.yaml"
    path.write_text(yaml.safe_dump({"cases": cases}, sort_keys=False), encoding="utf-8")
    return path


def generate(
    *,
    days: int = 8,
    calls_per_day: int = 1500,
    drift: bool = False,
    seed: int = 0,
    with_intent: bool = False,
    end: datetime = END,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(calls, feedback) in canonical shape, both sorted by time."""
    rng = random.Random(seed)
    start = end - timedelta(days=days)
    drift_from = end - timedelta(days=1)
    calls: list[dict[str, Any]] = []
    feedback: list[dict[str, Any]] = []
    task_number = 0
    while len(calls) < days * calls_per_day:
        task_number += 1
        task = f"t{task_number:07d}"
        at = start + timedelta(seconds=rng.uniform(60, days * 86400 - 4000))
        drifted = drift and at >= drift_from
        new_topic = drifted and rng.random() < 0.2
        intent = rng.choice(INTENTS)
        for _ in range(rng.choice((1, 2, 2, 3))):
            text = fill(rng.choice(NEW_TOPIC if new_topic else TEMPLATES[intent]), rng)
            latency = rng.lognormvariate(0, 0.35) * LATENCY_MS[intent] * (2 if drifted else 1)
            roll = rng.random()
            record: dict[str, Any] = {
                "ts": at.isoformat().replace("+00:00", "Z"),
                "task_id": task,
                "input": text,
                "output": "Here is what you can do.",
                "latency_ms": round(latency, 1),
                "input_tokens": rng.randint(150, 250),
                "output_tokens": rng.randint(80, 220),
                "status": "error" if roll < 0.02 else "rate_limited" if roll < 0.03 else "ok",
                "fallback": rng.random() < 0.02,
                "model": "gpt-4o-mini-2024-07-18",
            }
            if with_intent and not new_topic:
                record["intent"] = intent
            calls.append(record)
            at += timedelta(seconds=rng.uniform(5, 60))
        ts = at + timedelta(seconds=rng.uniform(10, 600))
        if ts > end:
            continue
        stamp = ts.isoformat().replace("+00:00", "Z")
        down = THUMBS_DOWN[intent] * (2 if drifted and intent == "disputes" else 1)
        if rng.random() < 0.6:
            event = "thumbs_down" if rng.random() < down else "thumbs_up"
            feedback.append({"ts": stamp, "task_id": task, "event": event})
        for event, share in (("accepted", 0.5), ("edited", 0.1), ("escalated", 0.05)):
            if rng.random() < share:
                feedback.append({"ts": stamp, "task_id": task, "event": event})
        if rng.random() < 0.3:
            value = rng.choices([1, 2, 3, 4, 5], weights=[1, 1, 2, 4, 4])[0]
            feedback.append({"ts": stamp, "task_id": task, "event": "csat", "value": value})
    calls.sort(key=lambda r: r["ts"])
    feedback.sort(key=lambda r: r["ts"])
    return calls, feedback


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def write_csv(path: Path, records: list[dict[str, Any]]) -> Path:
    columns = list(dict.fromkeys(k for r in records for k in r))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(records)
    return path


def write_config(directory: Path, **overrides: Any) -> Path:
    config: dict[str, Any] = {
        "name": "support-bot",
        "calls": "logs/calls*.jsonl",
        "feedback": "logs/feedback*.jsonl",
        "window": "24h",
        "reference": "7d",
        "pricing": {"input_per_mtok": 0.15, "output_per_mtok": 0.60},
        "evalset": "evalset.yaml",
    }
    config.update(overrides)
    path = directory / "monitor.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


Scenario = Callable[..., Path]


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    """Write an eval set, logs and a config under tmp_path; returns the config's path."""

    def make(
        *, drift: bool = False, seed: int = 0, calls_per_day: int = 1500, **config: Any
    ) -> Path:
        write_evalset(tmp_path)
        calls, feedback = generate(drift=drift, seed=seed, calls_per_day=calls_per_day)
        (tmp_path / "logs").mkdir(exist_ok=True)
        write_jsonl(tmp_path / "logs" / "calls.jsonl", calls)
        write_jsonl(tmp_path / "logs" / "feedback.jsonl", feedback)
        return write_config(tmp_path, **config)

    return make


def rounded(value: Any) -> Any:
    """Figures with floats to 9 significant digits: engines sum in parallel, in no fixed order."""
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        return rounded(asdict(value))
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.9g}")
    return value
