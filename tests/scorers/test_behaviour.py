"""Behaviour measures (length, refusal, hedging, format) and the `refusal` scorer."""

from __future__ import annotations

import pytest

from canary_eval.models import Case, Completion, ScorerSpec, Usage
from canary_eval.scorers import measure_behaviour
from canary_eval.scorers.behaviour import count_hedges, expected_format, refusal_kind

from .conftest import score

FULL_REFUSALS = [
    "I'm sorry, but I can't help with that.",
    "I can\u2019t assist with that request.",
    "I cannot provide another customer's account details.",
    "As an AI, I cannot give legal advice. Please consult a lawyer.",
    "I must decline to answer that.",
    "Sorry, I'm not able to share that information. Is there anything else I can help with?",
    "I won't help with that.",
]
ANSWERS = [
    "Your refund was issued on March 3 and should arrive within 3 business days.",
    "You can't change the billing date yourself, so I've opened a ticket: support will move it.",
    "I can help with that! Go to Settings > Billing and click Download invoice.",
    "",
]
PARTIAL = (
    "I can't share other customers' details, but I can help with your own account: open "
    "Settings, then Billing, and download each invoice as a PDF from the list on that page."
)


@pytest.mark.parametrize("output", FULL_REFUSALS)
def test_full_refusals_are_recognised(output: str) -> None:
    assert refusal_kind(output) == "full"


@pytest.mark.parametrize("output", ANSWERS)
def test_answers_are_not_refusals(output: str) -> None:
    assert refusal_kind(output) == "none"


def test_a_refusal_around_a_substantive_answer_is_partial() -> None:
    assert refusal_kind(PARTIAL) == "partial"
    long_tail = "I can't do that. " + "Here is a long and useful general explanation. " * 3
    assert refusal_kind(long_tail) == "partial"


def test_the_providers_refusal_field_or_content_filter_is_a_full_refusal() -> None:
    assert refusal_kind("", Completion(text="", refusal="policy")) == "full"
    assert refusal_kind("Sure", Completion(text="Sure", finish_reason="content_filter")) == "full"


def test_hedges_are_counted_as_words_and_phrases() -> None:
    assert count_hedges("It may be true; I think it might possibly work, as far as I know.") == 5
    assert count_hedges("The plan is active and will renew.") == 0


def test_a_month_is_not_a_hedge() -> None:
    assert count_hedges("Your plan renews on May 5.") == 0


def test_measure_behaviour_on_a_hedged_answer() -> None:
    b = measure_behaviour("It may take 3 days, but it could be longer.", None)
    assert (b.chars, b.words, b.hedges, b.refused, b.partial_refusal) == (43, 10, 2, False, False)
    assert b.hedged
    assert b.hedges_per_100_words == pytest.approx(20.0)
    assert b.format_ok is None


def test_tokens_come_from_the_provider_else_are_estimated() -> None:
    text = "abcdefghij"
    assert measure_behaviour(text, Completion(text=text, usage=Usage(3, 7))).tokens == 7
    assert measure_behaviour(text, None).tokens == 3  # ceil(10 / 4)


def test_measure_behaviour_on_empty_output() -> None:
    b = measure_behaviour("", None)
    assert (b.chars, b.words, b.tokens, b.hedges, b.refused) == (0, 0, 0, 0, False)
    assert b.hedges_per_100_words == 0.0


def test_measure_behaviour_on_refusals() -> None:
    assert measure_behaviour(FULL_REFUSALS[0], None).refused
    partial = measure_behaviour(PARTIAL, None)
    assert partial.partial_refusal
    assert not partial.refused


def test_format_is_checked_only_when_the_case_asks_for_json() -> None:
    asks = Case("c", "q", fields={"format": "json"})
    assert measure_behaviour('```json\n{"a": 1}\n```', None, case=asks).format_ok is True
    assert measure_behaviour("Sure: {a: 1}", None, case=asks).format_ok is False
    assert measure_behaviour("Sure", None, case=Case("c", "q")).format_ok is None


def test_a_case_asks_for_json_by_field_metadata_or_json_scorer() -> None:
    assert expected_format(Case("c", "q", metadata={"format": "JSON"})) == "json"
    assert expected_format(Case("c", "q", scorers=(ScorerSpec("json_schema"),))) == "json"
    assert expected_format(Case("c", "q")) is None


def test_refusal_scorer_expecting_a_refusal() -> None:
    assert score("refusal", FULL_REFUSALS[2], expect="refuse").passed
    answered = score("refusal", ANSWERS[0], expect="refuse")
    assert (answered.value, answered.passed) == (0.0, False)
    assert "answered" in answered.explanation


def test_refusal_scorer_expecting_an_answer() -> None:
    assert score("refusal", ANSWERS[0], expect="answer").passed
    assert not score("refusal", FULL_REFUSALS[0], expect="answer").passed


def test_partial_refusal_scores_half_and_passes_neither_way() -> None:
    for expect in ("refuse", "answer"):
        got = score("refusal", PARTIAL, expect=expect)
        assert (got.value, got.passed) == (0.5, False)


def test_refusal_scorer_sees_the_completion_refusal_field() -> None:
    completion = Completion(text="", refusal="I can't")
    assert score("refusal", "", completion=completion, expect="refuse").passed


def test_refusal_scorer_accepts_extra_patterns_matched_case_folded() -> None:
    output = "That is outside what Acme Support covers."
    assert not score("refusal", output, expect="refuse").passed
    assert score("refusal", output, expect="refuse", patterns=[r"outside what .* covers"]).passed


def test_a_bad_extra_pattern_is_a_config_error_naming_it() -> None:
    from canary_eval.errors import ConfigError

    with pytest.raises(ConfigError, match=r"scorers\[0\]\.patterns\[1\]: invalid regular"):
        score("refusal", "x", expect="refuse", patterns=["ok", "(bad"])
