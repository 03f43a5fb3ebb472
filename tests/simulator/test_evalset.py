"""The bundled support-bot canary set, its suite config and the simulator's answer bank."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml

from canary_eval.models import Case, Completion, ToolCall
from canary_eval.scorers.registry import ScoreInput, ScorerContext, create, registered
from canary_eval.simulator.bank import load_bank
from canary_eval.suite.config import load_config
from canary_eval.suite.evalset import load_evalset

BUNDLED = Path(str(files("canary_eval").joinpath("bundled")))
EVALSET = BUNDLED / "evalsets" / "support-bot.yaml"
CONFIG = BUNDLED / "configs" / "support-bot.yaml"
INTENTS = {"faq", "billing", "disputes", "technical", "account", "summarisation", "actions"}


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = yaml.safe_load(EVALSET.read_text())["cases"]
    return data


def test_the_set_has_150_to_200_cases_with_unique_ids(cases: list[dict[str, Any]]) -> None:
    ids = [c["id"] for c in cases]
    assert 150 <= len(cases) <= 200
    assert len(set(ids)) == len(ids)


def test_every_intent_has_at_least_15_cases_and_disputes_20(cases: list[dict[str, Any]]) -> None:
    counts = Counter(c["intent"] for c in cases)
    assert set(counts) == INTENTS
    assert min(counts.values()) >= 15
    assert counts["disputes"] >= 20


def test_every_case_has_an_input_a_reference_and_its_own_known_checks(
    cases: list[dict[str, Any]],
) -> None:
    known = set(registered())
    for case in cases:
        assert case["input"].strip(), case["id"]
        assert case["reference"].strip(), case["id"]
        assert case["scorers"], f"{case['id']} has no checks of its own"
        assert {s["type"] for s in case["scorers"]} <= known, case["id"]


def test_the_set_exercises_every_kind_of_check(cases: list[dict[str, Any]]) -> None:
    types = Counter(s["type"] for c in cases for s in c["scorers"])
    for kind in ("contains", "exact", "numeric", "json_schema", "json_fields", "refusal"):
        assert types[kind] >= 2, kind
    assert types["rouge_l"] >= 15
    refusing = {
        c["intent"]
        for c in cases
        for s in c["scorers"]
        if s["type"] == "refusal" and s["expect"] == "refuse"
    }
    assert len(refusing) >= 4  # another customer's data and legal advice, across intents


def test_json_cases_say_so_in_their_metadata(cases: list[dict[str, Any]]) -> None:
    for case in cases:
        structured = any(s["type"].startswith("json_") for s in case["scorers"])
        assert structured == (case["metadata"].get("format") == "json"), case["id"]


def test_the_project_loader_accepts_the_set_and_the_config() -> None:
    evalset = load_evalset(EVALSET)
    config = load_config(CONFIG)
    assert len(evalset.cases) >= 150
    assert config.evalset_path.resolve() == EVALSET.resolve()
    assert config.provider.model == "ledger-chat"
    assert config.thresholds.per_intent.min_cases == 10
    assert config.thresholds.max_hedging_rate_increase is not None


def test_the_answer_bank_covers_every_case_with_two_different_answers(
    cases: list[dict[str, Any]],
) -> None:
    bank = load_bank()
    assert set(bank.entries) == {c["id"] for c in cases}
    for entry in bank.entries.values():
        assert entry.right != entry.wrong, entry.id
        short = len(entry.reference.split()) <= 2  # "Growth": nothing to paraphrase
        assert entry.right != entry.reference or entry.is_json or short, entry.id


def test_right_answers_pass_their_checks_and_wrong_answers_fail_them() -> None:
    evalset = load_evalset(EVALSET)
    bank = load_bank()
    failures = []
    for case in evalset.cases:
        entry = bank.entries[case.id]
        right = _passes(case, entry.right, entry.call)
        wrong = _passes(case, entry.wrong, entry.wrong_call)
        if not right or wrong:
            failures.append((case.id, right, wrong))
    assert failures == []


def _passes(case: Case, output: str, call: Mapping[str, Any] | None) -> bool:
    """Whether the answer (after its tool call, for a tool case) passes the case's checks."""
    ctx = ScorerContext(config_path=CONFIG)
    calls = (
        (ToolCall(call["name"], call["arguments"], json.dumps(call["arguments"])),) if call else ()
    )
    item = ScoreInput(output, case, Completion(output, tool_calls=calls))
    scores = [asyncio.run(create(spec, ctx)(item)) for spec in case.scorers]
    return all(s.passed for s in scores)
