"""The Newton-CG minimiser: to the tolerance asked, deterministic, safe on flat directions."""

from __future__ import annotations

import numpy as np
import pytest

from canary_eval.monitor.learn.newton import HessianProduct, Vector, minimise


class Quadratic:
    """(x - c)^T A (x - c) / 2 with A positive semi-definite (flat along `A`'s null space)."""

    def __init__(self, matrix: Vector, centre: Vector) -> None:
        self.matrix, self.centre = matrix, centre

    def value(self, x: Vector) -> float:
        delta = x - self.centre
        return 0.5 * float(delta @ self.matrix @ delta)

    def derivatives(self, x: Vector) -> tuple[float, Vector, HessianProduct]:
        return self.value(x), self.matrix @ (x - self.centre), lambda v: self.matrix @ v


class SoftPlus:
    """sum log(1 + e^x_i) + |x|^2 / 2: smooth, strongly convex, not quadratic."""

    def value(self, x: Vector) -> float:
        return float(np.logaddexp(0.0, x).sum() + 0.5 * x @ x)

    def derivatives(self, x: Vector) -> tuple[float, Vector, HessianProduct]:
        p = 1 / (1 + np.exp(-x))
        return self.value(x), p + x, lambda v: (p * (1 - p) + 1) * v


def test_an_ill_conditioned_quadratic_is_solved_to_the_tolerance() -> None:
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(30, 30)))[0]
    matrix = basis @ np.diag(np.logspace(-4, 2, 30)) @ basis.T
    centre = rng.normal(size=30)
    x, steps = minimise(Quadratic(matrix, centre), np.zeros(30), tol=1e-10, max_iter=50)
    assert np.abs(matrix @ (x - centre)).max() <= 1e-10
    assert steps < 50


def test_a_smooth_convex_objective_converges_fast_and_the_same_way_every_time() -> None:
    start = np.linspace(-5, 5, 11)
    x, steps = minimise(SoftPlus(), start, tol=1e-12, max_iter=50)
    again, _ = minimise(SoftPlus(), start, tol=1e-12, max_iter=50)
    assert np.array_equal(x, again)
    assert steps <= 8
    # The minimum solves sigmoid(x) + x = 0 in every coordinate: x = -0.4010581...
    assert x == pytest.approx(np.full(11, -0.401058137541547), abs=1e-12)


def test_a_flat_direction_is_left_alone() -> None:
    # Only the sum of the two coordinates matters; the difference stays where it started.
    matrix = np.array([[1.0, 1.0], [1.0, 1.0]])
    x, _ = minimise(
        Quadratic(matrix, np.array([1.0, 1.0])), np.array([0.5, -0.5]), tol=1e-12, max_iter=20
    )
    assert x.sum() == pytest.approx(2.0)
    assert x[0] - x[1] == pytest.approx(1.0)
