"""Word analysis: from a text to the terms a TF-IDF vectoriser counts, as scikit-learn does it.

scikit-learn's word analyser (`TfidfVectorizer(...).build_analyzer()` with its default token
pattern) preprocesses a text, finds its tokens with the pattern, drops stop words and then forms
word n-grams from what is left, each joined by one space: all unigrams first, then all bigrams,
and so on. Matching it term for term is what lets the monitor's figures stay those scikit-learn
would compute, so the steps here follow it exactly, order included.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from typing import Literal

Analyser = Callable[[str], list[str]]
StopWords = Literal["english"] | None

# scikit-learn's default `token_pattern`: runs of two or more word characters (Unicode aware).
TOKEN_PATTERN = re.compile(r"(?u)\b\w\w+\b")


@cache
def english_stop_words() -> frozenset[str]:
    """scikit-learn's English stop words, read from the package's data file once."""
    data = files("canary_eval.monitor.learn").joinpath("english_stop_words.txt")
    text = data.read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def word_ngrams(
    tokens: list[str], ngram_range: tuple[int, int], stop_words: frozenset[str] = frozenset()
) -> list[str]:
    """`tokens` without stop words, then their n-grams for n in `ngram_range` (inclusive)."""
    if stop_words:
        # Before n-grams, as scikit-learn does: a bigram can span a dropped stop word ("price of
        # gold" gives "price gold").
        tokens = [token for token in tokens if token not in stop_words]
    low, high = ngram_range
    if high == 1:
        return tokens
    terms = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high, len(tokens)) + 1):
        terms.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return terms


def word_analyser(
    preprocessor: Callable[[str], str],
    *,
    ngram_range: tuple[int, int] = (1, 1),
    stop_words: StopWords = None,
) -> Analyser:
    """The terms of a text, as scikit-learn's word analyser with `preprocessor` gives them.

    `preprocessor` replaces scikit-learn's lower-casing (as a preprocessor passed to it does), so
    it should lower-case itself if case is not to matter.
    """
    low, high = ngram_range
    if not 1 <= low <= high:
        raise ValueError(f"invalid ngram_range {ngram_range!r}: need 1 <= min_n <= max_n")
    if stop_words not in (None, "english"):
        raise ValueError(f"unknown stop word list {stop_words!r} (only 'english' is known)")
    stop = english_stop_words() if stop_words == "english" else frozenset()
    findall = TOKEN_PATTERN.findall

    def analyse(text: str) -> list[str]:
        return word_ngrams(findall(preprocessor(text)), ngram_range, stop)

    return analyse
