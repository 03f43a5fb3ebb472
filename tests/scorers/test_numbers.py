"""Numbers in text, and the `numeric` scorer."""

from __future__ import annotations

from decimal import Decimal

import pytest

from canary_eval.scorers.numbers import canonicalise_numbers, find_numbers

from .conftest import score


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("$1,234.50", ["1234.50"]),
        ("-€5 and +7", ["-5", "7"]),
        ("\u22123.5", ["-3.5"]),
        ("15% of 1,000,000", ["15", "1000000"]),
        ("from 2019-2020", ["2019", "2020"]),
        ("COVID-19 and v2 and abc123", ["19"]),
        ("version 3.5.1", ["3.5"]),
        ("1st place, 10am", ["1", "10"]),
        ("It costs 5.", ["5"]),
        ("no numbers here", []),
        ("", []),
    ],
)
def test_find_numbers(text: str, values: list[str]) -> None:
    assert [n.value for n in find_numbers(text)] == [Decimal(v) for v in values]


def test_find_numbers_records_currency_and_percent() -> None:
    price, share = find_numbers("$5 is 10%")
    assert (price.currency, price.percent) == ("$", False)
    assert (share.currency, share.percent) == ("", True)


def test_canonical_numbers_drop_separators_currency_and_trailing_zeros() -> None:
    assert canonicalise_numbers("$1,200.50 or 3.0 or 100") == "1200.5 or 3 or 100"
    assert canonicalise_numbers("Three or twenty-one") == "3 or 20-1"
    assert canonicalise_numbers("someone", words=True) == "someone"  # whole words only


def test_number_words_match_case_insensitively_beyond_ascii_too() -> None:
    # Unicode case-insensitive matching takes the dotless i, the long s and the dotted capital I
    # for the letters of "six" and "five".
    text = "\u017fix, f\u0131ve, F\u0130VE \u2014 SEVEN"
    assert canonicalise_numbers(text) == "6, 5, 5 \u2014 7"


def test_numeric_passes_when_any_number_matches_the_value() -> None:
    got = score("numeric", "In 2024 you paid $1,234.50 in total.", value=1234.5)
    assert got.passed
    assert "1234.5" in got.explanation


def test_numeric_defaults_to_the_first_number_of_each_reference() -> None:
    assert score("numeric", "about 3 days", "3 business days").passed
    assert score("numeric", "42", case_fields={"references": ["41", "42"]}).passed
    assert score("numeric", "42", "forty-two").invalid  # no numeric reference


def test_numeric_tolerances() -> None:
    assert not score("numeric", "10.4", value=10).passed
    assert score("numeric", "10.4", value=10, abs_tol=0.5).passed
    assert score("numeric", "1030", value=1000, rel_tol=0.05).passed
    assert not score("numeric", "1060", value=1000, rel_tol=0.05).passed


def test_numeric_pick_first_or_last() -> None:
    output = "Step 1: add 2 and 3 to get 5"
    assert score("numeric", output, value=5, pick="last").passed
    assert not score("numeric", output, value=5, pick="first").passed


def test_numeric_without_a_number_in_the_output_fails() -> None:
    got = score("numeric", "", value=3)
    assert not got.passed
    assert not got.invalid
    assert "no number" in got.explanation


def test_numeric_negative_and_unicode_minus() -> None:
    assert score("numeric", "The balance is \u221212.50", value=-12.5).passed
