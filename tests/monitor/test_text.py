"""The monitor's TF-IDF vectorisers: scikit-learn's matrices, each text tokenised once."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from canary_eval.monitor import text
from canary_eval.monitor.intents import normalise
from canary_eval.monitor.learn.tokens import Analyser, word_analyser
from canary_eval.monitor.text import tfidf

from .conftest import NEW_TOPIC, TEMPLATES, fill


def _texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [fill(rng.choice(rng.choice([*TEMPLATES.values(), NEW_TOPIC])), rng) for _ in range(n)]


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the (fresh) analysers tokenise, in order."""
    seen: list[str] = []
    real = word_analyser

    def counting(*args: Any, **options: Any) -> Analyser:
        analyse = real(*args, **options)

        def spy(t: str) -> list[str]:
            seen.append(t)
            return analyse(t)

        return spy

    monkeypatch.setattr(text, "word_analyser", counting)
    monkeypatch.setattr(text, "_ANALYSERS", {})
    return seen


def test_the_vectorisers_are_scikit_learns_over_normalised_words() -> None:
    fitted, unseen = _texts(400, 0), _texts(100, 1)
    options: list[dict[str, Any]] = [
        {"ngram_range": (1, 2), "sublinear_tf": True, "max_features": 50},
        {"sublinear_tf": True, "stop_words": "english"},
    ]
    for option in options:
        ours, theirs = tfidf(**option), TfidfVectorizer(preprocessor=normalise, **option)
        assert np.allclose(
            ours.fit_transform(fitted).toarray(), theirs.fit_transform(fitted).toarray()
        )
        assert np.allclose(ours.transform(unseen).toarray(), theirs.transform(unseen).toarray())
        assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())


def test_each_text_is_tokenised_once_across_fits_and_vectorisers(analysed: list[str]) -> None:
    texts = ["where is my parcel", "refund my card", "where is my parcel"]
    first = tfidf(ngram_range=(1, 2))
    first.fit_transform(texts)
    first.transform(texts)
    tfidf(ngram_range=(1, 2), max_features=3).fit(texts)
    assert analysed == ["where is my parcel", "refund my card"]
    tfidf(stop_words="english").fit(texts)  # another analyser, with its own memo
    assert len(analysed) == 4


def test_the_memo_is_bounded_and_starts_over_when_full(
    analysed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text, "_MAX_TEXTS", 3)
    texts = [f"text number {n} of many" for n in range(10)]
    vectoriser = tfidf().fit(texts)
    vectoriser.transform(texts[-1:])  # still remembered
    assert len(analysed) == 10
    vectoriser.transform(texts[:1])  # forgotten when the memo filled up
    assert len(analysed) == 11
