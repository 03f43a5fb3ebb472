"""TF-IDF features: scikit-learn's TfidfVectorizer for the options the monitor uses, on numpy.

Given the analyser (canary_eval.monitor.learn.tokens, memoised by canary_eval.monitor.text), the
matrix is the one `TfidfVectorizer(analyzer=..., sublinear_tf=..., max_features=...)` gives with
its other defaults: terms counted per text, the vocabulary sorted, `max_features` keeping the
terms most frequent over the corpus (ties broken as scikit-learn breaks them), smooth idf
ln((1 + n) / (1 + df)) + 1, sublinear tf 1 + ln(tf), rows scaled to unit Euclidean length,
float64, as a scipy.sparse CSR matrix. The tests hold it to scikit-learn's matrix.

scipy.sparse is imported when a matrix is built, not with the module, so that importing the
monitor stays cheap for commands that never vectorise anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from itertools import chain, repeat
from typing import Any

import numpy as np
from numpy.typing import NDArray

from canary_eval.monitor.learn.tokens import Analyser

# A scipy.sparse.csr_matrix (the type scikit-learn returns); scipy ships no type hints.
SparseMatrix = Any


class TfidfVectorizer:
    """Learns a vocabulary and idf weights from texts, then turns texts into TF-IDF rows."""

    def __init__(
        self, analyser: Analyser, *, sublinear_tf: bool = False, max_features: int | None = None
    ) -> None:
        if max_features is not None and max_features < 1:
            raise ValueError(f"max_features must be a positive integer, got {max_features}")
        self._analyse = analyser
        self.sublinear_tf = sublinear_tf
        self.max_features = max_features
        self.vocabulary_: dict[str, int] = {}
        self.idf_: NDArray[np.float64] = np.empty(0)
        self._terms: list[str] = []

    def fit(self, texts: Iterable[str]) -> TfidfVectorizer:
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Iterable[str]) -> SparseMatrix:
        """Learn the vocabulary and idf from `texts` and return their TF-IDF matrix.

        Raises ValueError("empty vocabulary; ...") when no text has a single term.
        """
        analysed = self._analysed(texts)
        # Each term gets an id when first seen (the dictionary's size then, as scikit-learn
        # does it: one pass in C over all terms); the ids are renumbered in sorted order below.
        seen: defaultdict[str, int] = defaultdict()
        seen.default_factory = seen.__len__
        ids = np.fromiter(map(seen.__getitem__, chain.from_iterable(analysed)), dtype=np.intp)
        if not seen:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        terms = sorted(seen)
        position = np.empty(len(terms), dtype=np.intp)
        position[[seen[term] for term in terms]] = np.arange(len(terms))
        counts = _counts(position[ids], _ends(analysed), len(terms))
        if self.max_features is not None and len(terms) > self.max_features:
            # scikit-learn's own selection, step for step: float64 totals over the sorted
            # vocabulary and numpy's default argsort of their negatives, so that terms tied at
            # the cut are kept exactly as scikit-learn keeps them.
            totals = np.asarray(counts.sum(axis=0)).ravel()
            kept = np.sort((-totals).argsort()[: self.max_features])
            counts = counts[:, kept]
            counts.sort_indices()
            terms = [terms[i] for i in kept]
        self._terms = terms
        self.vocabulary_ = {term: i for i, term in enumerate(terms)}
        document_frequency = np.bincount(counts.indices, minlength=len(terms)).astype(np.float64)
        # Smooth idf, in scikit-learn's operation order: as if one more text held every term.
        idf = np.full_like(document_frequency, len(analysed) + 1)
        idf /= document_frequency + 1.0
        np.log(idf, out=idf)
        idf += 1.0
        self.idf_ = idf
        return self._weigh(counts)

    def transform(self, texts: Iterable[str]) -> SparseMatrix:
        """TF-IDF rows of `texts` over the fitted vocabulary; unknown terms are ignored."""
        if not self._terms:
            raise ValueError("this TfidfVectorizer is not fitted yet: call fit first")
        analysed = self._analysed(texts)
        ends = _ends(analysed)
        terms = chain.from_iterable(analysed)
        ids = np.fromiter(map(self.vocabulary_.get, terms, repeat(-1)), dtype=np.intp)
        known = ids >= 0
        if not known.all():  # drop the unknown terms, and shorten their texts' rows to match
            rows = np.repeat(np.arange(len(analysed)), np.diff(ends))[known]
            np.cumsum(np.bincount(rows, minlength=len(analysed)), out=ends[1:])
            ids = ids[known]
        return self._weigh(_counts(ids, ends, len(self._terms)))

    def get_feature_names_out(self) -> NDArray[np.object_]:
        """The vocabulary in column order (sorted), as scikit-learn's object array of str."""
        return np.asarray(self._terms, dtype=object)

    def _analysed(self, texts: Iterable[str]) -> list[list[str]]:
        # A lone string is iterable too, and would be vectorised character by character.
        if isinstance(texts, str):
            raise ValueError("an iterable of texts is expected, not a single string")
        return [self._analyse(text) for text in texts]

    def _weigh(self, counts: SparseMatrix) -> SparseMatrix:
        """Counts to TF-IDF in place: sublinear tf, times idf, then unit-length rows."""
        data: NDArray[np.float64] = counts.data
        if self.sublinear_tf:
            np.log(data, out=data)
            data += 1.0
        data *= self.idf_[counts.indices]
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        # bincount adds each row's squares in column order from 0.0, as scikit-learn's loop
        # does, so the norms come out bit for bit the same; empty rows stay empty.
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=counts.shape[0]))
        norms[norms == 0.0] = 1.0
        data /= norms[rows]
        return counts


def _ends(analysed: list[list[str]]) -> NDArray[np.intp]:
    """Where each text's terms end in their concatenation (a CSR row pointer)."""
    ends = np.zeros(len(analysed) + 1, dtype=np.intp)
    np.cumsum([len(terms) for terms in analysed], out=ends[1:])
    return ends


def _counts(columns: NDArray[np.intp], ends: NDArray[np.intp], n_terms: int) -> SparseMatrix:
    """The count matrix with a row per text: each entry of `columns` counts one occurrence."""
    from scipy.sparse import csr_matrix

    matrix = csr_matrix((np.ones(len(columns)), columns, ends), shape=(len(ends) - 1, n_terms))
    matrix.sum_duplicates()  # repeated terms of a text become one entry; columns sorted
    return matrix
