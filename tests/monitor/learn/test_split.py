"""Stratified k folds and train/test split: every class in proportion, the same for a seed."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from canary_eval.monitor.learn import stratified_kfold, stratified_split

# Seven intents of uneven size, as in the bundled canary set, in no particular order.
LABELS = list(
    np.random.default_rng(0).permutation(
        ["billing"] * 34 + ["faq"] * 32 + ["account"] * 31 + ["disputes"] * 26
        + ["summarisation"] * 20 + ["actions"] * 18 + ["rare"] * 5
    )
)  # fmt: skip


@pytest.mark.parametrize("folds", [2, 3, 5])
def test_the_test_folds_partition_the_examples_and_train_on_the_rest(folds: int) -> None:
    splits = stratified_kfold(LABELS, folds, seed=0)
    assert len(splits) == folds
    tests = np.concatenate([test for _, test in splits])
    assert sorted(tests) == list(range(len(LABELS)))
    for train, test in splits:
        assert sorted([*train, *test]) == list(range(len(LABELS)))
        assert list(test) == sorted(test)


@pytest.mark.parametrize("folds", [2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_class_is_spread_over_the_folds_as_evenly_as_it_can_be(folds: int, seed: int) -> None:
    splits = stratified_kfold(LABELS, folds, seed=seed)
    sizes = [len(test) for _, test in splits]
    assert max(sizes) - min(sizes) <= 1
    for label, total in Counter(LABELS).items():
        per_fold = [sum(LABELS[i] == label for i in test) for _, test in splits]
        assert sum(per_fold) == total
        assert max(per_fold) - min(per_fold) <= 1, (label, per_fold)


def test_folds_are_the_same_for_a_seed_and_shuffled_differently_for_another() -> None:
    def folds(seed: int) -> list[list[int]]:
        return [list(test) for _, test in stratified_kfold(LABELS, 5, seed=seed)]

    assert folds(3) == folds(3)
    assert folds(3) != folds(4)


def test_more_folds_than_examples_or_fewer_than_two_are_refused() -> None:
    with pytest.raises(ValueError, match="n_splits"):
        stratified_kfold(["a", "b", "a"], 4, seed=0)
    with pytest.raises(ValueError, match="n_splits"):
        stratified_kfold(["a", "b", "a"], 1, seed=0)


@pytest.mark.parametrize("test_size", [0.5, 0.25, 0.33])
@pytest.mark.parametrize("seed", [0, 7])
def test_the_split_holds_out_each_class_in_proportion(test_size: float, seed: int) -> None:
    train, test = stratified_split(LABELS, test_size=test_size, seed=seed)
    assert len(test) == math.ceil(test_size * len(LABELS))
    assert sorted([*train, *test]) == list(range(len(LABELS)))
    held_out = Counter(LABELS[i] for i in test)
    for label, total in Counter(LABELS).items():
        assert abs(held_out[label] - total * len(test) / len(LABELS)) < 1, label


def test_a_balanced_half_split_puts_half_of_each_side_in_each_part() -> None:
    labels = np.array([0] * 500 + [1] * 500)
    train, test = stratified_split(labels, test_size=0.5, seed=0)
    assert labels[test].sum() == labels[train].sum() == 250


def test_the_split_is_the_same_for_a_seed_and_comes_shuffled() -> None:
    first, again = (
        stratified_split(LABELS, test_size=0.5, seed=1),
        stratified_split(LABELS, test_size=0.5, seed=1),
    )
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    other = stratified_split(LABELS, test_size=0.5, seed=2)
    assert not np.array_equal(first[1], other[1])
    assert list(first[1]) != sorted(first[1])  # not in input order: no class comes first


def test_a_split_that_cannot_hold_every_class_on_both_sides_is_refused() -> None:
    with pytest.raises(ValueError, match="too few"):
        stratified_split(["a", "a", "b"], test_size=0.5, seed=0)  # one "b"
    with pytest.raises(ValueError, match="share"):
        stratified_split(["a", "b"] * 5, test_size=1.0, seed=0)
