"""Comparisons of every verdict, built once per test module."""

from __future__ import annotations

import pytest

from canary_eval.compare import Comparison

from factories import comparison


@pytest.fixture(scope="module")
def regression() -> Comparison:
    return comparison("regression")


@pytest.fixture(scope="module")
def passing() -> Comparison:
    return comparison("pass")


@pytest.fixture(scope="module")
def suspect() -> Comparison:
    return comparison("suspect")


@pytest.fixture(scope="module")
def errored() -> Comparison:
    return comparison("error")
