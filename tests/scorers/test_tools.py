"""Tool-use scorers: the right tool with the right arguments, a set of calls, or none at all."""

from __future__ import annotations

from typing import Any

import pytest

from canary_eval.errors import ConfigError
from canary_eval.models import Completion, Score, ToolCall

from .conftest import build, score

LOOKUP = ToolCall("lookup_invoice", {"invoice_id": "INV-1042", "verbose": True},
                  '{"invoice_id": "INV-1042", "verbose": true}')  # fmt: skip
DISPUTE = ToolCall("open_dispute", {"invoice_id": "INV-1042", "reason": "duplicate"},
                   '{"invoice_id": "INV-1042", "reason": "duplicate"}')  # fmt: skip
BROKEN = ToolCall("open_dispute", None, '{"invoice_id": "INV-1042", "reason": ')


def with_calls(type_: str, *calls: ToolCall, **params: Any) -> Score:
    return score(type_, "", completion=Completion("", tool_calls=calls), **params)


def test_tool_call_passes_when_the_tool_is_called_with_the_expected_arguments() -> None:
    got = with_calls("tool_call", LOOKUP, name="lookup_invoice",
                     arguments={"invoice_id": "INV-1042"})  # fmt: skip
    assert (got.value, got.passed) == (1.0, True)


def test_exact_matching_refuses_extra_arguments_that_subset_matching_allows() -> None:
    wanted = {"invoice_id": "INV-1042"}
    exact = with_calls("tool_call", LOOKUP, name="lookup_invoice", arguments=wanted, match="exact")
    assert (exact.value, exact.passed) == (0.5, False)
    assert "do not match exact" in exact.explanation


def test_the_wrong_tool_scores_zero_and_names_what_was_called() -> None:
    got = with_calls("tool_call", LOOKUP, name="open_dispute")
    assert (got.value, got.passed) == (0.0, False)
    assert got.explanation.startswith("expected a call to open_dispute; called lookup_invoice(")


def test_arguments_are_checked_against_a_json_schema() -> None:
    schema = {"type": "object", "required": ["invoice_id", "reason"],
              "properties": {"reason": {"enum": ["duplicate", "fraudulent"]}}}  # fmt: skip
    missing_reason = ToolCall("open_dispute", {"invoice_id": "INV-1"}, '{"invoice_id": "INV-1"}')

    assert with_calls("tool_call", DISPUTE, name="open_dispute", schema=schema).passed
    got = with_calls("tool_call", missing_reason, name="open_dispute", schema=schema)
    assert not got.passed
    assert "'reason' is a required property" in got.explanation


def test_arguments_that_are_not_json_are_a_scored_failure() -> None:
    got = with_calls("tool_call", BROKEN, name="open_dispute")
    assert (got.value, got.passed, got.invalid) == (0.5, False, False)
    assert "not a JSON object" in got.explanation


def test_the_json_schema_scorer_checks_a_tools_arguments() -> None:
    schema = {"type": "object", "required": ["reason"]}
    assert with_calls("json_schema", DISPUTE, schema=schema, tool="open_dispute").passed
    broken = with_calls("json_schema", BROKEN, schema=schema, tool="open_dispute")
    assert "not a JSON object" in broken.explanation
    assert with_calls("json_schema", LOOKUP, schema=schema, tool="open_dispute").explanation == (
        "no call to open_dispute")  # fmt: skip


EXPECTED = [{"name": "lookup_invoice", "arguments": {"invoice_id": "INV-1042"}},
            {"name": "open_dispute"}]  # fmt: skip


@pytest.mark.parametrize(
    ("calls", "ordered", "f1"),
    [
        ((LOOKUP, DISPUTE), False, 1.0),
        ((DISPUTE, LOOKUP), False, 1.0),
        ((DISPUTE, LOOKUP), True, 0.5),  # only one of the two in the expected order
        ((LOOKUP,), False, 2 / 3),  # precision 1, recall 0.5
        ((LOOKUP, LOOKUP, DISPUTE), False, 0.8),  # precision 2/3, recall 1: a call matches once
        ((), False, 0.0),
    ],
)
def test_tool_calls_scores_f1_over_the_expected_set(
    calls: tuple[ToolCall, ...], ordered: bool, f1: float
) -> None:
    got = with_calls("tool_calls", *calls, expected=EXPECTED, ordered=ordered)
    assert got.value == pytest.approx(f1)
    assert got.passed == (f1 == 1.0)


def test_tool_calls_passes_at_the_configured_f1() -> None:
    assert with_calls("tool_calls", LOOKUP, expected=EXPECTED, min_f1=0.6).passed


def test_no_tool_call_fails_on_any_call_or_only_on_the_named_ones() -> None:
    assert with_calls("no_tool_call").passed
    assert not with_calls("no_tool_call", LOOKUP).passed
    assert with_calls("no_tool_call", LOOKUP, names=["open_dispute"]).passed


def test_a_bad_parameter_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match="match"):
        build("tool_call", {"name": "f", "match": "fuzzy"})
