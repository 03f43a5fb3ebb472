"""Logistic regression: scikit-learn's LogisticRegression's fit, binary and multinomial.

The reference is scikit-learn's newton-cg solved to a tolerance of 1e-12: its default (1e-4)
stops while its probabilities can still be ~1e-2 from the optimum both minimise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression as Reference

from canary_eval.monitor.learn import LogisticRegression


def _problem(
    n: int, d: int, classes: int, seed: int, *, density: float = 0.05
) -> tuple[Any, NDArray[np.int64]]:
    """Sparse non-negative features (as TF-IDF's are) and labels from a noisy linear model."""
    rng = np.random.default_rng(seed)
    X = scipy.sparse.random(n, d, density=density, format="csr", random_state=rng)
    truth = rng.normal(scale=3.0, size=(d, classes))
    scores = X @ truth + rng.gumbel(size=(n, classes))
    return X, np.asarray(scores.argmax(axis=1))


def _reference(C: float, X: Any, y: Any) -> Any:
    return Reference(C=C, solver="newton-cg", tol=1e-12, max_iter=1000).fit(X, y)


@pytest.mark.parametrize("C", [0.01, 1.0, 10.0, 100.0])
@pytest.mark.parametrize("classes", [2, 3, 7])
@pytest.mark.parametrize("seed", [0, 1])
def test_probabilities_and_decision_values_are_scikit_learns(
    C: float, classes: int, seed: int
) -> None:
    X, y = _problem(400, 120, classes, seed)
    unseen, _ = _problem(100, 120, classes, seed + 100)
    ours, theirs = LogisticRegression(C=C).fit(X, y), _reference(C, X, y)
    assert np.array_equal(ours.classes_, theirs.classes_)
    assert ours.coef_.shape == theirs.coef_.shape  # one vector for two classes, else one each
    for rows in (X, unseen):
        assert np.abs(ours.predict_proba(rows) - theirs.predict_proba(rows)).max() < 1e-6
        assert np.abs(ours.decision_function(rows) - theirs.decision_function(rows)).max() < 1e-5
        assert np.array_equal(ours.predict(rows), theirs.predict(rows))


def test_on_text_like_problems_with_more_features_than_examples() -> None:
    X, y = _problem(300, 3000, 2, 5, density=0.005)
    for C in (1.0, 10.0):
        ours, theirs = LogisticRegression(C=C).fit(X, y), _reference(C, X, y)
        assert np.abs(ours.predict_proba(X) - theirs.predict_proba(X)).max() < 1e-6


def test_labels_can_be_strings_and_come_back_sorted() -> None:
    X, codes = _problem(200, 30, 3, 2)
    names = np.array(["shipping", "billing", "account"])[codes]
    model = LogisticRegression(C=10.0).fit(X, list(names))
    assert list(model.classes_) == ["account", "billing", "shipping"]
    proba = model.predict_proba(X)
    assert proba.shape == (200, 3)
    assert proba.sum(axis=1) == pytest.approx(np.ones(200))
    assert set(model.predict(X)) <= set(names)


def test_binary_scores_are_for_the_second_class_and_probabilities_their_sigmoid() -> None:
    X, y = _problem(300, 40, 2, 3)
    model = LogisticRegression().fit(X, np.where(y == 1, "yes", "no"))
    scores = model.decision_function(X)
    assert scores.shape == (300,)
    assert model.predict_proba(X)[:, 1] == pytest.approx(1 / (1 + np.exp(-scores)))
    assert list(model.predict(X)) == ["yes" if s > 0 else "no" for s in scores]


def test_multinomial_intercepts_sum_to_zero_as_scikit_learns_do() -> None:
    X, y = _problem(300, 40, 4, 4)
    model = LogisticRegression(C=5.0).fit(X, y)
    assert model.intercept_.sum() == pytest.approx(0.0, abs=1e-12)


def test_dense_features_give_the_same_fit() -> None:
    X, y = _problem(200, 30, 3, 6)
    sparse, dense = LogisticRegression().fit(X, y), LogisticRegression().fit(X.toarray(), y)
    assert dense.predict_proba(X.toarray()) == pytest.approx(sparse.predict_proba(X), abs=1e-10)


def test_fitting_is_deterministic() -> None:
    X, y = _problem(300, 50, 3, 7)
    first, second = LogisticRegression(C=3.0).fit(X, y), LogisticRegression(C=3.0).fit(X, y)
    assert np.array_equal(first.coef_, second.coef_)
    assert np.array_equal(first.intercept_, second.intercept_)


def test_separable_classes_still_converge_thanks_to_the_penalty() -> None:
    X = scipy.sparse.csr_matrix(np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]]))
    y = [0, 0, 1, 1]
    ours, theirs = LogisticRegression(C=1e4).fit(X, y), _reference(1e4, X, y)
    assert ours.n_iter_ < 100
    assert ours.predict_proba(X) == pytest.approx(theirs.predict_proba(X), abs=1e-6)


def test_one_class_or_mismatched_labels_are_refused() -> None:
    X, _ = _problem(10, 5, 2, 8)
    with pytest.raises(ValueError, match="at least 2 classes"):
        LogisticRegression().fit(X, [1] * 10)
    with pytest.raises(ValueError, match="labels"):
        LogisticRegression().fit(X, [0, 1] * 4)
    with pytest.raises(ValueError, match="C must be positive"):
        LogisticRegression(C=0.0)
