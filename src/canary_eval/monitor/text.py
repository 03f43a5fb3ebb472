"""Tokenising input texts once: the analysers of the monitor's TF-IDF vectorisers, memoised.

A vectoriser analyses every text when it is fitted and again when it transforms it; coverage and
the domain classifier then do the same for the same sampled inputs, and the passes of an hourly
monitor over overlapping windows for mostly the same inputs again. Tokenising (a regular
expression over every text, then n-grams) was the largest cost of a pass. The analyser here
produces exactly the tokens the vectoriser's own would (it is that analyser), each text once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from canary_eval.monitor.intents import normalise

_MAX_TEXTS = 100_000  # per analyser; beyond it the memo starts over (bounded memory)
_ANALYSERS: dict[tuple[tuple[int, int], str | None], Callable[[str], list[str]]] = {}


def tfidf(
    *, ngram_range: tuple[int, int] = (1, 1), stop_words: str | None = None, **options: Any
) -> Any:
    """A TfidfVectorizer over normalised words, as `TfidfVectorizer(preprocessor=normalise,
    ngram_range=..., stop_words=..., **options)` would be, with a memoised analyser."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer=_analyser(ngram_range, stop_words), **options)


def _analyser(ngram_range: tuple[int, int], stop_words: str | None) -> Callable[[str], list[str]]:
    key = (ngram_range, stop_words)
    if key not in _ANALYSERS:
        from sklearn.feature_extraction.text import TfidfVectorizer

        analyse = TfidfVectorizer(
            preprocessor=normalise, ngram_range=ngram_range, stop_words=stop_words
        ).build_analyzer()
        memo: dict[str, list[str]] = {}

        def memoised(text: str) -> list[str]:
            tokens = memo.get(text)
            if tokens is None:
                if len(memo) >= _MAX_TEXTS:
                    memo.clear()
                tokens = memo[text] = analyse(text)
            return tokens

        _ANALYSERS[key] = memoised
    return _ANALYSERS[key]
