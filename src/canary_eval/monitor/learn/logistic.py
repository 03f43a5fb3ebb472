"""L2-regularised logistic regression with scikit-learn's objective, fitted by Newton-CG.

The objective is scikit-learn's LogisticRegression's (penalty "l2", fit_intercept=True, no
weights): C times the summed log loss plus half the squared norm of the coefficients, the
intercepts unpenalised. Two classes get one coefficient vector (the second class is the positive
one); more get the multinomial (softmax) model with a vector per class. The minimum is unique
(up to a common shift of the multinomial intercepts, which changes no probability; they are
reported summing to zero, as scikit-learn's solvers leave them), so solving it tightly gives
scikit-learn's probabilities and decision values to within its own solver tolerance.

It is minimised divided by C * n, as scikit-learn does, so the gradient tolerance means the same
for a hundred examples or ten thousand. X is a scipy.sparse matrix or a 2-D numpy array.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from canary_eval.monitor.learn.newton import HessianProduct, Vector, dot, minimise

Matrix = Any  # a scipy.sparse matrix (untyped) or a 2-D numpy array of features


class LogisticRegression:
    """`LogisticRegression(C=C)` of scikit-learn with a tight solver; fit, then predict."""

    def __init__(self, C: float = 1.0, *, tol: float = 1e-10, max_iter: int = 100) -> None:
        if C <= 0:
            raise ValueError(f"C must be positive, got {C}")
        self.C = C
        # On every component of the gradient of the objective divided by C * n. scikit-learn's
        # default, 1e-4, can stop with probabilities still 1e-2 from the optimum on noisy data;
        # 1e-10 lands on it (to ~1e-9) for a Newton step or two more.
        self.tol = tol
        self.max_iter = max_iter  # Newton steps
        self.classes_: NDArray[Any] = np.empty(0)
        self.coef_: NDArray[np.float64] = np.empty((0, 0))  # one row, or one per class
        self.intercept_: NDArray[np.float64] = np.empty(0)
        self.n_iter_ = 0

    def fit(self, X: Matrix, y: ArrayLike | Sequence[Any]) -> LogisticRegression:
        classes, codes = np.unique(np.asarray(y), return_inverse=True)
        n, d = X.shape
        if codes.shape[0] != n:
            raise ValueError(f"X has {n} rows but y has {codes.shape[0]} labels")
        if len(classes) < 2:
            raise ValueError(f"need samples of at least 2 classes, got {len(classes)}")
        k = 1 if len(classes) == 2 else len(classes)
        objective = _Loss(X, codes, k, 1.0 / (self.C * n))
        x, self.n_iter_ = minimise(
            objective, np.zeros(k * (d + 1)), tol=self.tol, max_iter=self.max_iter
        )
        weights = x.reshape(k, d + 1)
        self.classes_ = classes
        self.coef_ = weights[:, :d].copy()
        self.intercept_ = weights[:, d].copy()
        if k > 1:
            self.intercept_ -= self.intercept_.mean()
        return self

    def decision_function(self, X: Matrix) -> NDArray[np.float64]:
        """Linear scores: one per row for two classes (positive: the second), else one per class."""
        scores = np.asarray(X @ self.coef_.T) + self.intercept_
        return scores.ravel() if len(self.classes_) == 2 else scores

    def predict_proba(self, X: Matrix) -> NDArray[np.float64]:
        """Class probabilities, a column per class of `classes_`."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            positive = _expit(scores)
            return np.column_stack([1.0 - positive, positive])
        return _softmax(scores)

    def predict(self, X: Matrix) -> NDArray[Any]:
        chosen: NDArray[Any] = self.classes_[self.predict_proba(X).argmax(axis=1)]
        return chosen


class _Loss:
    """The mean log loss plus `alpha` / 2 times the squared coefficients, over x = k rows of
    (d coefficients, intercept) flattened; k = 1 is the binary (sigmoid) model."""

    def __init__(self, X: Matrix, codes: NDArray[np.intp], k: int, alpha: float) -> None:
        self.X, self.k, self.alpha = X, k, alpha
        n, d = X.shape
        self.n, self.d = int(n), int(d)
        if k == 1:
            self.target = codes.astype(np.float64)[:, None]
        else:
            self.target = np.zeros((self.n, k))
            self.target[np.arange(self.n), codes] = 1.0

    def _coef_and_scores(self, x: Vector) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        weights = x.reshape(self.k, self.d + 1)
        scores = np.asarray(self.X @ weights[:, : self.d].T) + weights[:, self.d]
        return weights[:, : self.d], scores

    def _loss(self, coef: NDArray[np.float64], scores: NDArray[np.float64]) -> float:
        if self.k == 1:  # log(1 + e^z) - y z
            pointwise = np.logaddexp(0.0, scores) - self.target * scores
        else:  # log sum_k e^z_k - z_y
            pointwise = _logsumexp(scores) - (self.target * scores).sum(axis=1)
        return float(pointwise.sum()) / self.n + 0.5 * self.alpha * dot(coef.ravel(), coef.ravel())

    def value(self, x: Vector) -> float:
        return self._loss(*self._coef_and_scores(x))

    def derivatives(self, x: Vector) -> tuple[float, Vector, HessianProduct]:
        coef, scores = self._coef_and_scores(x)
        value = self._loss(coef, scores)
        proba = _expit(scores) if self.k == 1 else _softmax(scores)
        gradient = self._pack((proba - self.target) / self.n, coef)
        X, n, k = self.X, self.n, self.k

        def hessian_product(v: Vector) -> Vector:
            directions = v.reshape(k, self.d + 1)
            change = np.asarray(X @ directions[:, : self.d].T) + directions[:, self.d]
            if k == 1:  # sigma'(z) = p (1 - p)
                curved = proba * (1.0 - proba) * change
            else:  # the softmax Jacobian diag(p) - p p^T, row by row
                curved = proba * change
                curved -= proba * curved.sum(axis=1, keepdims=True)
            return self._pack(curved / n, directions[:, : self.d])

        return value, gradient, hessian_product

    def _pack(self, residual: NDArray[np.float64], coef: NDArray[np.float64]) -> Vector:
        """X^T residual plus the penalty's alpha * coef, and the intercepts' column sums."""
        out = np.empty((self.k, self.d + 1))
        out[:, : self.d] = np.asarray(self.X.T @ residual).T + self.alpha * coef
        intercept = residual.sum(axis=0)
        if self.k > 1:
            # Shifting every intercept alike changes nothing, so the true gradient has no part
            # along it; removing what rounding leaves there keeps Newton off that flat line.
            intercept -= intercept.mean()
        out[:, self.d] = intercept
        return out.ravel()


def _expit(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """1 / (1 + e^-z) without overflow for large |z|."""
    return np.exp(-np.logaddexp(0.0, -z))


def _softmax(scores: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.exp(scores - _logsumexp(scores)[:, None])


def _logsumexp(scores: NDArray[np.float64]) -> NDArray[np.float64]:
    """log sum_k e^scores[:, k], shifted by each row's maximum so nothing overflows."""
    top = scores.max(axis=1)
    total: NDArray[np.float64] = top + np.log(np.exp(scores - top[:, None]).sum(axis=1))
    return total
