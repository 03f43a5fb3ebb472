"""Word analysis: the terms of a text are exactly the ones scikit-learn's word analyser gives."""

from __future__ import annotations

import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from canary_eval.monitor.intents import normalise
from canary_eval.monitor.learn.tokens import english_stop_words, word_analyser, word_ngrams

TEXTS = [
    "Why was I charged twice this month for my subscription?",
    "Order #48213 FAILED 2x -- where is it??",
    "I'd like to know: is it out of the box, or not?",
    "Ça coûte combien? Grüße aus München, 東京 からの注文 2024",
    "a b c I x y",  # single characters are no tokens
    "",
    "   \n\t ",
    "the and of to",  # nothing but stop words
    "naïve café résumé façade; ΑΘΗΝΑ straße",
    "e-mail: jane.doe_42@example.com, +1 (555) 010-9999",
    "word_with_underscores and snake_case_names stay whole",
]


def test_the_stop_words_are_scikit_learns_english_list() -> None:
    assert english_stop_words() == ENGLISH_STOP_WORDS
    assert len(english_stop_words()) == 318


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (2, 2), (1, 3), (2, 3)])
@pytest.mark.parametrize("stop_words", [None, "english"])
def test_terms_match_scikit_learns_analyser(
    ngram_range: tuple[int, int], stop_words: str | None
) -> None:
    reference = TfidfVectorizer(
        preprocessor=normalise, ngram_range=ngram_range, stop_words=stop_words
    ).build_analyzer()
    analyse = word_analyser(normalise, ngram_range=ngram_range, stop_words=stop_words)  # type: ignore[arg-type]
    for text in TEXTS:
        assert analyse(text) == reference(text), text


def test_digits_are_folded_by_the_preprocessor_before_tokens_are_found() -> None:
    analyse = word_analyser(normalise, ngram_range=(1, 2))
    assert (
        analyse("Error E1234 in 2024")
        == analyse("error e7 in 99")
        == [
            "error",
            "e0",
            "in",  # "0" alone is one character: no token
            "error e0",
            "e0 in",
        ]
    )


def test_stop_words_go_before_n_grams_so_a_bigram_can_span_one() -> None:
    assert word_ngrams(["price", "of", "gold"], (1, 2), frozenset({"of"})) == [
        "price",
        "gold",
        "price gold",
    ]


def test_unigrams_come_first_then_longer_n_grams_in_text_order() -> None:
    assert word_ngrams(["a1", "b2", "c3"], (1, 3)) == [
        "a1",
        "b2",
        "c3",
        "a1 b2",
        "b2 c3",
        "a1 b2 c3",
    ]
    assert word_ngrams(["a1"], (2, 3)) == []


def test_an_invalid_range_or_stop_list_is_refused() -> None:
    with pytest.raises(ValueError, match="ngram_range"):
        word_analyser(normalise, ngram_range=(2, 1))
    with pytest.raises(ValueError, match="stop word"):
        word_analyser(normalise, stop_words="french")  # type: ignore[arg-type]
