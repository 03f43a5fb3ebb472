"""TF-IDF: the same matrix as scikit-learn's TfidfVectorizer, vocabulary order included."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
import scipy.sparse
from sklearn.feature_extraction.text import TfidfVectorizer as Reference

from canary_eval.monitor.intents import normalise
from canary_eval.monitor.learn import TfidfVectorizer, word_analyser

from ..conftest import NEW_TOPIC, TEMPLATES, fill

UNICODE = [
    "Ça coûte combien? Grüße aus München",
    "東京 からの注文 2024 は まだ です",
    "naïve café résumé façade ΑΘΗΝΑ straße",
    "Où est ma commande 12345? Elle était prévue lundi",
    "Straße und Strasse sind nicht dasselbe Wort",
]


def _corpus(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    pools = [*TEMPLATES.values(), NEW_TOPIC]
    texts = [fill(rng.choice(rng.choice(pools)), rng) for _ in range(n)]
    return [*texts, *UNICODE, "", "a b c", "the and of"]


OPTIONS: list[dict[str, Any]] = [
    {},
    {"sublinear_tf": True},
    {"ngram_range": (1, 2), "sublinear_tf": True},
    {"ngram_range": (2, 3)},
    {"stop_words": "english", "sublinear_tf": True},
    {"stop_words": "english", "ngram_range": (1, 2)},
    {"ngram_range": (1, 2), "sublinear_tf": True, "max_features": 40},
    {"ngram_range": (1, 2), "max_features": 7},  # cuts through terms of equal frequency
    {"stop_words": "english", "max_features": 1},
]


def _pair(options: dict[str, Any]) -> tuple[TfidfVectorizer, Reference]:
    ngram_range = options.get("ngram_range", (1, 1))
    stop_words = options.get("stop_words")
    rest = {k: v for k, v in options.items() if k not in ("ngram_range", "stop_words")}
    analyser = word_analyser(normalise, ngram_range=ngram_range, stop_words=stop_words)
    reference = Reference(
        preprocessor=normalise, ngram_range=ngram_range, stop_words=stop_words, **rest
    )
    return TfidfVectorizer(analyser, **rest), reference


def _assert_same(ours: Any, theirs: Any) -> None:
    assert isinstance(ours, scipy.sparse.csr_matrix)
    assert ours.dtype == np.float64
    assert ours.shape == theirs.shape
    assert np.allclose(ours.toarray(), theirs.toarray(), rtol=0, atol=1e-15)


@pytest.mark.parametrize("options", OPTIONS, ids=repr)
@pytest.mark.parametrize("seed", [0, 1])
def test_the_matrix_is_scikit_learns(options: dict[str, Any], seed: int) -> None:
    fitted, unseen = _corpus(300, seed), _corpus(100, seed + 10)
    ours, theirs = _pair(options)
    _assert_same(ours.fit_transform(fitted), theirs.fit_transform(fitted))
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())
    assert ours.vocabulary_ == theirs.vocabulary_
    assert np.array_equal(ours.idf_, theirs.idf_)
    _assert_same(ours.transform(unseen), theirs.transform(unseen))


def test_max_features_keeps_the_most_frequent_terms_and_breaks_ties_as_scikit_learn() -> None:
    # Ten terms, each used the same number of times: which four survive is a matter of ties.
    texts = [" ".join(f"term{j:02d}" for j in range(10))] * 3 + ["term05 term05 other"]
    for limit in range(1, 12):
        ours, theirs = _pair({"max_features": limit})
        _assert_same(ours.fit_transform(texts), theirs.fit_transform(texts))
        assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())


def test_weights_are_smooth_idf_sublinear_tf_and_unit_rows() -> None:
    vectoriser = TfidfVectorizer(word_analyser(normalise), sublinear_tf=True)
    matrix = vectoriser.fit_transform(["apple apple apple pear", "pear plum", "zz"]).toarray()
    idf = {"apple": np.log(4 / 2) + 1, "pear": np.log(4 / 3) + 1}
    first = np.array([(1 + np.log(3)) * idf["apple"], idf["pear"]])
    assert list(vectoriser.get_feature_names_out()) == ["apple", "pear", "plum", "zz"]
    assert matrix[0, :2] == pytest.approx(first / np.linalg.norm(first))
    assert np.linalg.norm(matrix, axis=1) == pytest.approx([1.0, 1.0, 1.0])


def test_texts_with_no_known_term_are_zero_rows() -> None:
    vectoriser = TfidfVectorizer(word_analyser(normalise)).fit(["where is my parcel"])
    matrix = vectoriser.transform(["crypto wallet", "", "parcel"])
    assert matrix.shape == (3, 4)
    assert matrix[:2].nnz == 0
    assert matrix[2].toarray().max() == pytest.approx(1.0)


def test_an_empty_vocabulary_is_a_value_error_as_in_scikit_learn() -> None:
    for texts in ([], ["", "a b"], ["the and of", "is it"]):
        vectoriser = TfidfVectorizer(word_analyser(normalise, stop_words="english"))
        with pytest.raises(ValueError, match="empty vocabulary"):
            vectoriser.fit(texts)


def test_a_single_string_is_refused_rather_than_read_letter_by_letter() -> None:
    vectoriser = TfidfVectorizer(word_analyser(normalise))
    with pytest.raises(ValueError, match="iterable of texts"):
        vectoriser.fit("where is my parcel")


def test_each_text_is_analysed_once_per_fit_and_once_per_transform() -> None:
    seen: list[str] = []
    analyse = word_analyser(normalise)

    def counting(text: str) -> list[str]:
        seen.append(text)
        return analyse(text)

    vectoriser = TfidfVectorizer(counting)
    vectoriser.fit_transform(["one two", "three four"])
    vectoriser.transform(["one two"])
    assert seen == ["one two", "three four", "one two"]
