"""Stratified resampling: k folds for cross-validation, and one train/test split.

Both keep each class's share of the examples in every part (to within one example), as
scikit-learn's StratifiedKFold(shuffle=True) and train_test_split(stratify=...) do, and both are
deterministic in `seed`. They do not reproduce scikit-learn's random permutations (which depend
on its use of the legacy numpy RandomState): the same seed gives a different, equally valid
stratified partition, so figures computed over folds, such as a cross-validated accuracy, may
differ slightly from scikit-learn's.

How: the examples are shuffled with numpy's default generator seeded with `seed`, then put in
class order (the shuffled order kept within each class), and dealt out from that sequence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

Indices = NDArray[np.intp]


def stratified_kfold(
    labels: ArrayLike | Sequence[Any], n_splits: int, *, seed: int
) -> list[tuple[Indices, Indices]]:
    """`n_splits` (train, test) index pairs; the tests partition the examples, sorted indices.

    The class-ordered sequence is dealt round-robin to the folds, so every class is spread over
    the folds as evenly as it can be, and fold sizes differ by at most one.
    """
    codes = _codes(labels)
    n = len(codes)
    if not 2 <= n_splits <= n:
        raise ValueError(f"need 2 <= n_splits <= {n} examples, got n_splits={n_splits}")
    order = _class_order(codes, seed)
    fold = np.empty(n, dtype=np.intp)
    fold[order] = np.arange(n) % n_splits
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(n_splits)]


def stratified_split(
    labels: ArrayLike | Sequence[Any], *, test_size: float, seed: int
) -> tuple[Indices, Indices]:
    """(train, test) indices, each in a shuffled order; `test_size` is the test share in (0, 1).

    The test part has ceil(test_size * n) examples, as in scikit-learn; each class contributes
    its proportional share of them, rounded so the shares add up (largest remainders first).
    """
    codes = _codes(labels)
    n = len(codes)
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be a share in (0, 1), got {test_size}")
    counts = np.bincount(codes)
    n_test = math.ceil(test_size * n)
    if counts.min() < 2 or not len(counts) <= n_test <= n - len(counts):
        raise ValueError("too few examples to put every class on both sides of the split")
    exact = counts * (n_test / n)
    taken = np.floor(exact).astype(np.intp)
    short = n_test - int(taken.sum())
    taken[np.argsort(taken - exact, kind="stable")[:short]] += 1
    order = _class_order(codes, seed)
    # Position of each example within its class in the shuffled class order.
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.arange(n) - starts[codes[order]]
    in_test = rank < taken[codes[order]]
    rng = np.random.default_rng([seed, 1])  # a stream apart from the one that dealt them
    return rng.permutation(order[~in_test]), rng.permutation(order[in_test])


def _codes(labels: ArrayLike | Sequence[Any]) -> NDArray[np.intp]:
    """Each label as the index of its class among the sorted distinct labels."""
    return np.unique(np.asarray(labels), return_inverse=True)[1].ravel()


def _class_order(codes: NDArray[np.intp], seed: int) -> Indices:
    """The examples shuffled by `seed`, then stably sorted by class."""
    shuffled = np.random.default_rng(seed).permutation(len(codes))
    return shuffled[np.argsort(codes[shuffled], kind="stable")]
