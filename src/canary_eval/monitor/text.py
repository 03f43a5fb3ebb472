"""Tokenising input texts once: the analysers of the monitor's TF-IDF vectorisers, memoised.

A vectoriser analyses every text when it is fitted and again when it transforms it; coverage and
the domain classifier then do the same for the same sampled inputs, and the passes of an hourly
monitor over overlapping windows for mostly the same inputs again. Tokenising (a regular
expression over every text, then n-grams) was the largest cost of a pass. The analyser here
produces exactly the terms scikit-learn's word analyser would (canary_eval.monitor.learn.tokens
is that analyser), each text once.
"""

from __future__ import annotations

from canary_eval.monitor.intents import normalise
from canary_eval.monitor.learn.tfidf import TfidfVectorizer
from canary_eval.monitor.learn.tokens import Analyser, StopWords, word_analyser

_MAX_TEXTS = 100_000  # per analyser; beyond it the memo starts over (bounded memory)
_ANALYSERS: dict[tuple[tuple[int, int], StopWords], Analyser] = {}


def tfidf(
    *,
    ngram_range: tuple[int, int] = (1, 1),
    stop_words: StopWords = None,
    sublinear_tf: bool = False,
    max_features: int | None = None,
) -> TfidfVectorizer:
    """A TF-IDF vectoriser over normalised words, as scikit-learn's `TfidfVectorizer(
    preprocessor=normalise, ngram_range=..., stop_words=..., sublinear_tf=..., max_features=...)`
    would be, with a memoised analyser."""
    return TfidfVectorizer(
        _analyser(ngram_range, stop_words), sublinear_tf=sublinear_tf, max_features=max_features
    )


def _analyser(ngram_range: tuple[int, int], stop_words: StopWords) -> Analyser:
    key = (ngram_range, stop_words)
    if key not in _ANALYSERS:
        analyse = word_analyser(normalise, ngram_range=ngram_range, stop_words=stop_words)
        memo: dict[str, list[str]] = {}

        def memoised(text: str) -> list[str]:
            terms = memo.get(text)
            if terms is None:
                if len(memo) >= _MAX_TEXTS:
                    memo.clear()
                terms = memo[text] = analyse(text)
            return terms

        _ANALYSERS[key] = memoised
    return _ANALYSERS[key]
