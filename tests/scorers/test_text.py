"""Text scorers: `exact` (SQuAD normalisation plus numbers), the `contains` family, `starts_with`
and `regex`."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canary_eval.scorers.text import normalise

from .conftest import score
from .squad import exact_match_score, metric_max_over_ground_truths, normalize_answer

SQUAD_PAIRS = [
    ("The Eiffel Tower", "Eiffel Tower"),
    ("the eiffel tower!", "An Eiffel-Tower"),
    ("Denver Broncos", "Denver  Broncos."),
    ("in 1998", "1998"),
    ("", ""),
    ("", "Paris"),
    ("Café au lait", "café au lait"),
    ("Zürich, Switzerland", "Zurich Switzerland"),
    ("a an the", ""),
    ("日本の首都は東京", "日本の首都は東京"),
]


# exact


@pytest.mark.parametrize(("output", "reference"), SQUAD_PAIRS)
def test_exact_without_numbers_is_squad_exact_match(output: str, reference: str) -> None:
    assert normalise(output, numbers=False) == normalize_answer(output)
    got = score("exact", output, reference, numbers=False)
    if reference.strip():
        assert got.value == float(exact_match_score(output, reference))
    else:
        assert got.invalid  # a blank reference is no reference


ASCII = st.characters(max_codepoint=127)


@settings(max_examples=50)
@given(
    st.text(ASCII, max_size=60),
    st.lists(st.text(ASCII, min_size=1, max_size=40), min_size=1, max_size=3),
)
def test_exact_without_numbers_agrees_with_squad_on_any_ascii_text(
    output: str, refs: list[str]
) -> None:
    got = score("exact", output, value=refs, numbers=False)
    assert got.value == float(metric_max_over_ground_truths(exact_match_score, output, refs))


@settings(max_examples=50)
@given(st.text(alphabet=st.characters(max_codepoint=127, exclude_categories=["Nd"]), max_size=60))
def test_number_normalisation_changes_nothing_without_numbers(text: str) -> None:
    words = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
    if not any(w in text.lower() for w in words | {"ten", "twenty", "teen", "eleven", "twelve"}):
        assert normalise(text) == normalize_answer(text)


def test_exact_ignores_case_punctuation_articles_and_spacing() -> None:
    assert score("exact", "  The   PARIS! ", "paris").passed
    assert not score("exact", "Paris, France", "Paris").passed


@pytest.mark.parametrize(
    ("output", "reference"),
    [
        ("1,000", "1000"),
        ("$1,200.50", "1200.5"),
        ("3.50", "3.5"),
        ("three business days", "3 business days"),
        ("Twenty", "20"),
        ("-0", "0"),
    ],
)
def test_exact_treats_equal_numbers_as_equal(output: str, reference: str) -> None:
    assert score("exact", output, reference).passed


def test_exact_keeps_the_decimal_point_so_different_numbers_stay_different() -> None:
    assert not score("exact", "3.5", "35").passed
    assert score("exact", "3.5", "35", numbers=False).passed  # SQuAD drops the point


def test_exact_accepts_any_of_several_references() -> None:
    got = score("exact", "NYC", case_fields={"references": ["New York City", "NYC"]})
    assert got.passed
    assert "2 of 2" in got.explanation


def test_exact_value_overrides_the_reference() -> None:
    assert score("exact", "yes", "no", value=["Yes", "Y"]).passed


def test_exact_without_a_reference_is_invalid_not_zero() -> None:
    got = score("exact", "anything")
    assert got.invalid
    assert got.explanation == "no reference"


def test_exact_with_empty_output_fails() -> None:
    got = score("exact", "", "Paris")
    assert not got.passed
    assert not got.invalid


# contains family


def test_contains_is_case_folded_and_whitespace_insensitive() -> None:
    assert score("contains", "Refunds take 3\nBusiness   Days.", value="3 business days").passed
    assert score("contains", "STRASSE", value="straße").passed  # casefold, not lower


def test_contains_without_value_checks_the_reference() -> None:
    assert score("contains", "It takes 3 business days.", "3 business days").passed
    assert not score("contains", "It takes a week.", "3 business days").passed
    assert score("contains", "anything").invalid


def test_contains_can_be_case_sensitive() -> None:
    assert not score("contains", "call SUPPORT", value="Support", case_sensitive=True).passed


def test_contains_all_gives_partial_credit_and_names_what_is_missing() -> None:
    got = score("contains_all", "refund and invoice", value=["refund", "invoice", "receipt"])
    assert got.value == pytest.approx(2 / 3)
    assert not got.passed
    assert "receipt" in got.explanation


def test_contains_any_passes_on_one_hit() -> None:
    assert score("contains_any", "We offer a refund", value=["refund", "credit"]).passed
    assert score("contains_any", "No luck", value=["refund", "credit"]).value == 0.0


def test_not_contains_fails_on_any_banned_phrase() -> None:
    assert score("not_contains", "Here you go", value=["password", "ssn"]).passed
    got = score("not_contains", "Your Password is hunter2", value=["password", "ssn"])
    assert got.value == 0.0
    assert "password" in got.explanation


def test_contains_on_empty_output_fails_and_not_contains_passes() -> None:
    assert not score("contains", "", value="x").passed
    assert score("not_contains", "", value="x").passed


# starts_with


def test_starts_with_ignores_leading_whitespace_and_case() -> None:
    assert score("starts_with", "\n  YES, you can.", value="yes").passed
    assert not score("starts_with", "Well, yes", value="yes").passed


def test_starts_with_defaults_to_the_references() -> None:
    assert score("starts_with", "Hello there", case_fields={"references": ["Hi", "Hello"]}).passed


# regex


def test_regex_passes_when_the_pattern_matches() -> None:
    assert score("regex", "Order #A-1234 shipped", pattern=r"#[A-Z]-\d{4}").passed
    assert not score("regex", "Order shipped", pattern=r"#[A-Z]-\d{4}").passed


def test_regex_group_is_extracted_and_compared_like_exact() -> None:
    output = "Total: $1,250.00 (incl. VAT)"
    assert score("regex", output, "1250", pattern=r"Total: (\S+)", group=1).passed
    assert score("regex", output, pattern=r"Total: (?P<t>\S+)", group="t", value="1250").passed
    assert not score("regex", output, "1300", pattern=r"Total: (\S+)", group=1).passed


def test_regex_full_match_and_ignore_case() -> None:
    assert score("regex", " YES ", pattern="yes", full_match=True, ignore_case=True).passed
    assert not score("regex", "yes indeed", pattern="yes", full_match=True).passed


def test_regex_group_that_does_not_exist_is_a_config_error() -> None:
    from canary_eval.errors import ConfigError

    with pytest.raises(ConfigError, match=r"scorers\[0\]\.group"):
        score("regex", "x", pattern="(a)", group=2)
    with pytest.raises(ConfigError, match=r"scorers\[0\]\.group"):
        score("regex", "x", pattern="(a)", group="name")
