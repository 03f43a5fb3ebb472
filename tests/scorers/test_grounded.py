"""`grounded`: the facts an output states must be in the reference or the context."""

from __future__ import annotations

import pytest

from canary_eval.scorers import ScorerContext
from canary_eval.scorers.grounded import find_dates, find_names

from .conftest import Endpoint, build, case, chat, score

REFERENCE = "Refund of $45.00 issued on 2024-03-05 by Jane Smith at Acme Bank; ref AB-7781."


def test_an_output_whose_facts_are_all_in_the_reference_passes() -> None:
    output = "Jane Smith at Acme Bank issued your refund of $45 on March 5, 2024."
    got = score("grounded", output, REFERENCE)
    assert got.passed
    assert got.explanation.startswith("6/6 facts supported") or got.value == 1.0


def test_unsupported_facts_lower_the_score_and_are_named() -> None:
    output = "Jane Smith issued a refund of $54 on 6 March 2024 via Wells Fargo."
    got = score("grounded", output, REFERENCE)
    assert not got.passed
    assert 0 < got.value < 1
    for fact in ("$54", "6 March 2024", "Wells Fargo"):
        assert fact in got.explanation


def test_the_context_field_counts_as_a_source() -> None:
    got = score(
        "grounded",
        "Your plan renews on 1 July for 12 dollars.",
        case_fields={"context": ["Plan: Pro, renews July 1st.", "Price: twelve dollars."]},
    )
    assert got.passed


def test_an_output_without_facts_scores_one() -> None:
    got = score("grounded", "Happy to help with anything else!", REFERENCE)
    assert (got.value, got.passed, got.explanation) == (1.0, True, "no checkable facts")


def test_without_reference_or_context_it_is_invalid() -> None:
    assert score("grounded", "Paris is in France.").invalid


def test_fact_kinds_can_be_restricted() -> None:
    output = "Call Bob Jones about the 3 refunds."
    assert not score("grounded", output, "Three refunds are pending.").passed
    assert score("grounded", output, "Three refunds are pending.", facts=["numbers"]).passed


def test_empty_and_unicode_output() -> None:
    assert score("grounded", "", REFERENCE).value == 1.0
    assert score("grounded", "Zoë Müller in Zürich", "Zoë Müller lives in Zürich.").passed
    assert not score("grounded", "Zoë Müller in Zürich", "Someone lives somewhere.").passed


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("on 2024-03-05", [(2024, 3, 5)]),
        ("March 5, 2024 and Dec 25", [(2024, 3, 5), (None, 12, 25)]),
        ("the 5th of March 2024", [(2024, 3, 5)]),
        ("in September 2023", [(2023, 9, None)]),
        ("due 03/05/2024", [None]),
    ],
)
def test_find_dates(text: str, dates: list[tuple[int | None, int, int | None] | None]) -> None:
    assert [d for _, d, _ in find_dates(text)] == dates


def test_find_names_skips_common_words_that_start_sentences() -> None:
    text = "The refund went to Jane Smith. Please contact Acme Bank. I think Paris is nice."
    assert find_names(text) == ["Jane Smith", "Acme Bank", "Paris"]


def test_with_a_judge_grounded_is_model_graded(endpoint: Endpoint) -> None:
    endpoint.reply = lambda path, body: chat(
        '{"reasoning": "one claim is not in the sources", "claims": 4, "supported": 3,'
        ' "unsupported": ["via Wells Fargo"]}'
    )
    ctx = ScorerContext(judge={"base_url": endpoint.url, "model": "judge-1"})
    got = score("grounded", "Refund via Wells Fargo.", REFERENCE, ctx=ctx)
    assert got.value == pytest.approx(0.75)
    assert "via Wells Fargo" in got.explanation
    prompt = endpoint.requests[0][1]["messages"][1]["content"]
    assert REFERENCE in prompt


def test_lexical_method_ignores_a_configured_judge(endpoint: Endpoint) -> None:
    ctx = ScorerContext(judge={"base_url": endpoint.url, "model": "judge-1"})
    bound = build("grounded", {"method": "lexical"}, ctx)
    assert not hasattr(bound.fn, "describe")
    assert score("grounded", "Jane Smith", REFERENCE, ctx=ctx, method="lexical").passed
    assert endpoint.requests == []


def test_judge_method_without_a_judge_is_a_config_error() -> None:
    from canary_eval.errors import ConfigError

    with pytest.raises(ConfigError, match=r"scorers\[0\]\.method"):
        build("grounded", {"method": "judge"})


def test_grounded_facts_count_once_each() -> None:
    got = score("grounded", "Jane Smith. Jane Smith. 45 and 45.", REFERENCE)
    assert got.passed
    assert case(REFERENCE).reference == REFERENCE
