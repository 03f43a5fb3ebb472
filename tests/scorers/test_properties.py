"""Properties every scorer keeps, whatever the text: its value is a number in [0, 1].

Scorers are called directly (not through BoundScorer, which clamps), on arbitrary Unicode,
number-laden text, JSON and empty strings, with and without references.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import math
from collections.abc import Awaitable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canary_eval.models import Case, Completion, Score
from canary_eval.scorers import BoundScorer, ScoreInput, registered
from canary_eval.scorers.similarity import cosine, rescale
from canary_eval.scorers.verdicts import InvalidVerdict, parse_verdict

from .conftest import build

PARAMS: dict[str, dict[str, Any]] = {
    "exact": {},
    "contains": {},
    "contains_all": {"value": ["refund", "3 days"]},
    "contains_any": {"value": ["refund", "€5"]},
    "not_contains": {"value": ["password"]},
    "starts_with": {},
    "regex": {"pattern": r"(\d+)", "group": 1},
    "numeric": {"abs_tol": 0.5},
    "token_f1": {},
    "rouge_l": {},
    "levenshtein": {},
    "json_valid": {},
    "json_schema": {"schema": {"type": "object", "required": ["a"]}},
    "json_fields": {},
    "tfidf_cosine": {},
    "refusal": {"expect": "refuse"},
    "grounded": {},
    "tool_call": {"name": "lookup_invoice", "arguments": {"invoice_id": "INV-1"}},
    "tool_calls": {"expected": [{"name": "lookup_invoice"}, {"name": "open_dispute"}]},
    "no_tool_call": {},
}
NEEDS_A_SERVER = {"embedding", "judge"}  # their values are checked below, from their parts

JSON_TEXT = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
).map(json.dumps)
TEXT = st.one_of(
    st.text(max_size=80),
    st.from_regex(r"\A[A-Za-z0-9 $€,.%\-\n]{0,60}\Z"),
    JSON_TEXT,
    st.just(""),
)


async def settle(result: Awaitable[Score]) -> Score:
    return await result


@functools.cache
def built(name: str) -> BoundScorer:
    return build(name, PARAMS[name])


def test_every_builtin_scorer_is_covered() -> None:
    builtins = {
        name
        for name, kind in registered().items()
        if kind.factory.__module__.startswith("canary_eval")
    }
    assert builtins == set(PARAMS) | NEEDS_A_SERVER


@pytest.mark.parametrize("name", sorted(PARAMS))
@settings(max_examples=20, deadline=None)
@given(output=TEXT, reference=st.none() | TEXT, refusal=st.none() | st.text(max_size=5))
def test_every_scorer_value_is_within_zero_and_one(
    name: str, output: str, reference: str | None, refusal: str | None
) -> None:
    bound = built(name)
    item = ScoreInput(output, Case("c", "q", reference), Completion(output, refusal=refusal))
    result = bound.fn(item)
    got = asyncio.run(settle(result)) if inspect.isawaitable(result) else result
    assert isinstance(got, Score)
    assert not math.isnan(got.value)
    assert 0.0 <= got.value <= 1.0
    assert not (got.invalid and got.passed)


@settings(max_examples=50)
@given(
    st.lists(st.floats(-1e6, 1e6), min_size=3, max_size=3),
    st.lists(st.floats(-1e6, 1e6), min_size=3, max_size=3),
    st.floats(0, 0.99),
)
def test_embedding_value_is_within_zero_and_one(
    a: list[float], b: list[float], floor: float
) -> None:
    value = rescale(cosine(a, b), floor)
    assert 0.0 <= value <= 1.0


@settings(max_examples=50)
@given(
    st.sampled_from(["closedqa", "factuality", "rubric", "grounded"]),
    st.dictionaries(
        st.sampled_from(["answer", "choice", "score", "claims", "supported", "reasoning"]),
        st.one_of(
            st.integers(-3, 12),
            st.floats(allow_nan=True),
            st.sampled_from(["yes", "no", "same", "subset", "A", "E", "x"]),
            st.booleans(),
            st.none(),
        ),
    ),
)
def test_judge_value_is_within_zero_and_one_or_the_verdict_is_invalid(
    mode: str, verdict: dict[str, Any]
) -> None:
    try:
        value, _ = parse_verdict(mode, json.dumps(verdict))
    except InvalidVerdict:
        return
    assert 0.0 <= value <= 1.0
