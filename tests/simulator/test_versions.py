"""Model versions: which cases each gets right, and how each words its answers."""

from __future__ import annotations

import json
import re
from statistics import mean

import pytest

from canary_eval.simulator import MODEL_VERSIONS, VERSIONS, answers_correctly, decide
from canary_eval.simulator.bank import load_bank
from canary_eval.simulator.phrasing import phrase
from canary_eval.simulator.versions import tool_call, version_for_model

HEDGE = re.compile(r"\b(may|might|could|possibly|perhaps)\b", re.IGNORECASE)


def accuracy(version: str, seed: int = 0, intent: str | None = None) -> float:
    ids = [e.id for e in load_bank().entries.values() if intent in (None, e.intent)]
    return mean(answers_correctly(i, version, seed) for i in ids)


def answers(version: str, intent: str, seed: int = 0) -> list[str]:
    v = MODEL_VERSIONS[version]
    return [
        phrase(e, decide(e.id, version, seed), v, seed)
        for e in load_bank().entries.values()
        if e.intent == intent
    ]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stable_gets_85_to_90_percent_right(seed: int) -> None:
    assert 0.85 <= accuracy("stable", seed) <= 0.90


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_drifted_gets_35_to_50_percent_of_disputes_wrong(seed: int) -> None:
    assert 0.50 <= accuracy("drifted", seed, "disputes") <= 0.65
    assert accuracy("stable", seed, "disputes") >= 0.85


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_drifted_keeps_the_stable_mistakes_and_only_adds_some(seed: int) -> None:
    for entry in load_bank().entries.values():
        if not answers_correctly(entry.id, "stable", seed):
            assert not answers_correctly(entry.id, "drifted", seed), entry.id


def test_drifted_overall_accuracy_drops_only_a_few_points() -> None:
    drop = accuracy("stable") - accuracy("drifted")
    assert 0.03 <= drop <= 0.08


def test_drifted_summaries_are_about_30_percent_longer_and_hedged() -> None:
    stable = answers("stable", "summarisation")
    drifted = answers("drifted", "summarisation")
    growth = sum(map(len, drifted)) / sum(map(len, stable)) - 1
    assert 0.25 <= growth <= 0.45
    assert not any(HEDGE.search(s) for s in stable)
    assert all(HEDGE.search(s) for s in drifted)


def test_drifted_json_summaries_stay_valid_json() -> None:
    for text in answers("drifted", "summarisation"):
        if text.startswith("{"):
            assert isinstance(json.loads(text), dict)


def test_drifted_hedges_a_share_of_other_answers_and_refuses_a_few_answerable_ones() -> None:
    bank = load_bank()
    others = [e for e in bank.entries.values() if e.intent != "summarisation"]
    drifted = MODEL_VERSIONS["drifted"]
    hedged = [e for e in others if HEDGE.search(phrase(e, decide(e.id, "drifted"), drifted, 0))]
    assert 0.25 <= len(hedged) / len(others) <= 0.6
    refused = [e.id for e in bank.entries.values() if decide(e.id, "drifted") == "refuse"]
    assert 1 <= len(refused) <= 4
    assert all(bank.entries[i].risky for i in refused)
    assert not any(decide(e.id, "stable") == "refuse" for e in bank.entries.values())


def test_verbose_answers_are_about_three_times_longer_and_as_often_right() -> None:
    stable = answers("stable", "faq")
    verbose = answers("verbose", "faq")
    assert sum(map(len, verbose)) / sum(map(len, stable)) >= 2.5
    assert accuracy("verbose") == accuracy("stable")


def test_degraded_is_worse_in_every_intent() -> None:
    for intent in ("faq", "billing", "disputes", "technical", "account", "summarisation"):
        assert accuracy("degraded", intent=intent) < accuracy("stable", intent=intent)


def test_decisions_are_deterministic_for_a_seed_and_differ_across_seeds() -> None:
    ids = list(load_bank().entries)
    first = [decide(i, "stable", 7) for i in ids]
    assert first == [decide(i, "stable", 7) for i in ids]
    assert first != [decide(i, "stable", 8) for i in ids]


def test_noise_flips_some_answers_reproducibly_by_occurrence() -> None:
    ids = list(load_bank().entries)
    base = [decide(i, "stable", 0) for i in ids]
    noisy = [decide(i, "stable", 0, occurrence=3, noise=0.1) for i in ids]
    assert noisy == [decide(i, "stable", 0, occurrence=3, noise=0.1) for i in ids]
    flipped = sum(a != b for a, b in zip(base, noisy, strict=True))
    assert 5 <= flipped <= 35  # about 10 % of 172
    assert noisy != [decide(i, "stable", 0, occurrence=4, noise=0.1) for i in ids]


def test_a_pinned_dated_model_name_selects_its_version_and_the_alias_follows_the_server() -> None:
    assert version_for_model("ledger-chat-2024-06", "drifted") == "stable"
    assert version_for_model("ledger-chat-2024-09", "stable") == "drifted"
    assert version_for_model("ledger-chat", "drifted") == "drifted"
    assert version_for_model(None, "verbose") == "verbose"


def test_every_version_has_a_one_line_description_and_its_own_model_identity() -> None:
    assert set(VERSIONS) == {"stable", "drifted", "degraded", "outage", "verbose"}
    assert all(d and "\n" not in d for d in VERSIONS.values())
    assert MODEL_VERSIONS["drifted"].model != MODEL_VERSIONS["stable"].model
    assert MODEL_VERSIONS["drifted"].fingerprint != MODEL_VERSIONS["stable"].fingerprint


def test_drifted_calls_the_wrong_tool_or_drops_an_argument_on_half_the_tool_cases() -> None:
    tool_cases = [e for e in load_bank().entries.values() if e.call]
    for seed in (0, 1):
        wrong = [e.id for e in tool_cases if tool_call(e.id, "drifted", seed) == e.wrong_call]
        assert len(wrong) == len(tool_cases) // 2
        assert all(tool_call(e.id, "stable", seed) == e.call for e in tool_cases)
    assert tool_call("faq-001", "drifted") is None
