"""Graded overlap: `token_f1` is SQuAD's F1, `rouge_l` is rouge-score's ROUGE-L, `levenshtein` is
normalised edit similarity."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer

from canary_eval.scorers.overlap import f1, lcs_length, levenshtein, rouge_l, similarity

from .conftest import score
from .squad import f1_score, metric_max_over_ground_truths

CORPUS = [
    ("The cat sat on the mat.", "A cat was sitting on the mat."),
    ("Refunds are issued within 3 business days.", "Refunds take three business days."),
    ("Your order #1234 shipped on Monday via UPS.", "Order 1234 shipped Monday (UPS)."),
    ("police killed the gunman", "the gunman was shot down by police"),
    ("You can reset your password from the login page by clicking 'Forgot password'.",
     "Click Forgot password on the login page to reset it."),
    ("The quick brown fox jumps over the lazy dog", "the quick brown dog jumps on the log"),
    ("yes", "no"),
    ("It depends on your plan; Pro includes priority support, Basic does not.",
     "Priority support is included in the Pro plan only."),
    ("a a a b b", "a b a b a b"),
    ("Duplicate charges are pending authorisations that drop off within 3 business days.",
     "Duplicate charges are pending authorizations; they drop off in 3 to 5 business days."),
    ("!!!", "something"),
    ("", "reference"),
]  # fmt: skip
ASCII = st.characters(max_codepoint=127)
ASCII_TEXT = st.text(alphabet=st.sampled_from("abc ABC 123 .,!-'\n"), max_size=50)


# token_f1


@pytest.mark.parametrize(("output", "reference"), CORPUS)
def test_token_f1_without_numbers_is_squad_f1(output: str, reference: str) -> None:
    assert f1(output, reference, numbers=False) == pytest.approx(f1_score(output, reference))


@settings(max_examples=50)
@given(
    st.text(st.characters(max_codepoint=127), max_size=60),
    st.lists(
        st.text(st.characters(max_codepoint=127), min_size=1, max_size=40), min_size=1, max_size=3
    ),
)
def test_token_f1_agrees_with_squad_on_any_ascii_text_and_several_references(
    output: str, refs: list[str]
) -> None:
    got = score("token_f1", output, value=refs, numbers=False)
    assert got.value == pytest.approx(metric_max_over_ground_truths(f1_score, output, refs))


def test_token_f1_counts_repeated_tokens_as_a_multiset() -> None:
    # common = min(3, 3) x + min(2, 3) y = 5; precision 5/5, recall 5/6
    assert f1("x x x y y", "x y x y x y") == pytest.approx(2 * 1 * (5 / 6) / (1 + 5 / 6))


def test_token_f1_by_default_matches_numbers_by_value() -> None:
    assert f1("costs $1,200.00", "costs 1200") == 1.0
    assert f1("3 business days", "three business days") == 1.0


def test_token_f1_is_zero_for_empty_output_and_passes_at_threshold() -> None:
    assert score("token_f1", "", "Paris").value == 0.0
    got = score("token_f1", "the cat sat", "a cat sat down", threshold=0.8)
    assert got.value == pytest.approx(0.8)
    assert got.passed


def test_token_f1_takes_the_best_reference() -> None:
    got = score("token_f1", "blue whale", case_fields={"references": ["red fox", "blue whale"]})
    assert got.value == 1.0
    assert "reference 2 of 2" in got.explanation


# rouge_l


@pytest.mark.parametrize(("output", "reference"), CORPUS)
def test_rouge_l_agrees_with_rouge_score_package(output: str, reference: str) -> None:
    expected = rouge_scorer.RougeScorer(["rougeL"]).score(reference, output)["rougeL"].fmeasure
    assert rouge_l(output, reference) == pytest.approx(expected, abs=1e-6)


def test_rouge_l_takes_the_best_reference_like_score_multi() -> None:
    refs = [r for _, r in CORPUS[:4]]
    output = CORPUS[2][0]
    expected = rouge_scorer.RougeScorer(["rougeL"]).score_multi(refs, output)["rougeL"].fmeasure
    assert score("rouge_l", output, value=refs).value == pytest.approx(expected, abs=1e-6)


@settings(max_examples=50)
@given(ASCII_TEXT, ASCII_TEXT)
def test_rouge_l_agrees_with_rouge_score_on_any_ascii_text(output: str, reference: str) -> None:
    expected = rouge_scorer.RougeScorer(["rougeL"]).score(reference, output)["rougeL"].fmeasure
    assert rouge_l(output, reference) == pytest.approx(expected, abs=1e-6)


def test_rouge_l_keeps_non_latin_words_that_rouge_score_drops() -> None:
    assert rouge_l("Grüße aus Köln", "Grüße aus Köln") == 1.0
    assert rouge_l("東京 大阪", "東京 京都") == pytest.approx(0.5)


def table_lcs(a: str, b: str) -> int:
    """The textbook dynamic-programming LCS, the reference for the bit-parallel one."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a, 1):
        for j, y in enumerate(b, 1):
            table[i][j] = (
                table[i - 1][j - 1] + 1 if x == y else max(table[i - 1][j], table[i][j - 1])
            )
    return table[-1][-1]


def table_levenshtein(a: str, b: str) -> int:
    """The textbook Wagner-Fischer edit distance, the reference for the bit-vector one."""
    table = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i, x in enumerate(a, 1):
        for j, y in enumerate(b, 1):
            table[i][j] = min(
                table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + (x != y)
            )
    return table[-1][-1]


SHORT = st.text(alphabet="abcdé", max_size=70)  # past 64 items, to cross a machine word


def test_lcs_length() -> None:
    assert lcs_length("ABCBDAB", "BDCABA") == 4
    assert lcs_length([], ["a"]) == 0
    assert lcs_length(["the", "cat"], ["a", "cat"]) == 1


@settings(max_examples=150)
@given(SHORT, SHORT)
def test_bit_parallel_lcs_and_edit_distance_equal_the_textbook_tables(a: str, b: str) -> None:
    assert lcs_length(a, b) == table_lcs(a, b)
    assert levenshtein(a, b) == table_levenshtein(a, b)


# levenshtein


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("kitten", "sitting", 3), ("", "abc", 3), ("abc", "", 3), ("", "", 0), ("flaw", "lawn", 2),
     ("café", "cafe", 1), ("same", "same", 0)],
)  # fmt: skip
def test_levenshtein_distance(a: str, b: str, distance: int) -> None:
    assert levenshtein(a, b) == distance


def test_levenshtein_similarity_is_case_folded_and_normalised_by_the_longer_string() -> None:
    assert similarity("Kitten", "SITTING") == pytest.approx(1 - 3 / 7)
    assert similarity("", "") == 1.0
    assert similarity("", "abc") == 0.0


def test_levenshtein_scorer_passes_at_threshold() -> None:
    assert score("levenshtein", "Colour", "color", threshold=0.8).passed
    assert not score("levenshtein", "Colour", "color", threshold=0.9).passed
