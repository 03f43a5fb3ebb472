"""Scorers for tool use: `tool_call` (the expected tool was called, with the right arguments),
`tool_calls` (precision, recall and F1 over an expected set of calls) and `no_tool_call`.

They read the tool calls of the whole case: after a tool loop, every call of every turn, in
order. A call whose arguments were not a JSON object matches no expected arguments: the model
sent something its tool could not parse, which is a failure of the case, not of the run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from canary_eval.models import Score, ToolCall
from canary_eval.scorers.registry import ScoreFn, ScoreInput, ScorerContext, scorer
from canary_eval.scorers.structured import json_path, lazy_validator, load_schema

Match = Literal["exact", "subset"]
_MATCH = {"enum": ["exact", "subset"]}
_CALL = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {"name": {"type": "string", "minLength": 1}, "arguments": {"type": "object"}},
}


Same = Callable[[ToolCall, Mapping[str, Any]], bool]


def calls_of(item: ScoreInput) -> tuple[ToolCall, ...]:
    return item.completion.tool_calls if item.completion is not None else ()


def arguments_match(call: ToolCall, wanted: Mapping[str, Any] | None, match: Match) -> bool:
    """`exact`: the arguments are `wanted`; `subset`: they include every key of `wanted` with
    its value (other keys allowed). No `wanted` accepts any parsable arguments."""
    if call.arguments is None:
        return False
    if wanted is None:
        return True
    if match == "exact":
        return dict(call.arguments) == dict(wanted)
    return all(k in call.arguments and call.arguments[k] == v for k, v in wanted.items())


def describe(calls: Sequence[ToolCall]) -> str:
    if not calls:
        return "no tool was called"
    return "called " + ", ".join(f"{c.name}({c.raw_arguments or ''})" for c in calls)


@scorer(
    "tool_call",
    params={
        "name": {"type": "string", "minLength": 1},
        "arguments": {"type": "object"},
        "match": _MATCH,
        "schema": {"anyOf": [{"type": "object"}, {"type": "string"}]},
    },
    required=["name"],
)
def tool_call(
    name: str,
    ctx: ScorerContext,
    arguments: Mapping[str, Any] | None = None,
    match: Match = "subset",
    schema: Mapping[str, Any] | str | None = None,
) -> ScoreFn:
    """1 when a call of `name` has matching arguments (`arguments` exactly or as a subset, and
    valid against `schema` when given); 0.5 when the tool was called but no call's arguments
    match; 0 when it was not called."""
    validator = lazy_validator(load_schema(schema, ctx.base_dir)) if schema else None

    def problem(call: ToolCall) -> str | None:
        if call.arguments is None:
            return f"arguments are not a JSON object: {call.raw_arguments[:80]!r}"
        if not arguments_match(call, arguments, match):
            return f"arguments {call.raw_arguments} do not match {match} {dict(arguments or {})}"
        if validator is not None:
            for error in validator().iter_errors(dict(call.arguments)):
                return f"arguments at {json_path(error.absolute_path)}: {error.message}"
        return None

    def score(item: ScoreInput) -> Score:
        calls = calls_of(item)
        mine = [c for c in calls if c.name == name]
        if not mine:
            return Score(0.0, False, f"expected a call to {name}; {describe(calls)}")
        problems = [problem(c) for c in mine]
        if None in problems:
            return Score(1.0, True, f"called {name} with matching arguments")
        return Score(0.5, False, f"called {name}, but {problems[0]}")

    return score


@scorer(
    "tool_calls",
    params={
        "expected": {"type": "array", "items": _CALL},
        "ordered": {"type": "boolean"},
        "match": _MATCH,
        "min_f1": {"type": "number", "minimum": 0, "maximum": 1},
    },
    required=["expected"],
)
def tool_calls(
    expected: list[dict[str, Any]],
    ordered: bool = False,
    match: Match = "subset",
    min_f1: float = 1.0,
) -> ScoreFn:
    """F1 of the calls made against the `expected` calls (name, and arguments when given), each
    call matched at most once; with `ordered`, only matches in the expected order count. Passes
    at `min_f1`."""

    def same(call: ToolCall, want: Mapping[str, Any]) -> bool:
        return call.name == want["name"] and arguments_match(call, want.get("arguments"), match)

    def score(item: ScoreInput) -> Score:
        calls = calls_of(item)
        hits = _ordered_hits(calls, expected, same) if ordered else _hits(calls, expected, same)
        if not calls and not expected:
            return Score(1.0, True, "no calls expected, none made")
        precision = hits / len(calls) if calls else 0.0
        recall = hits / len(expected) if expected else 0.0
        f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
        why = f"{hits} of {len(expected)} expected calls made; precision {precision:.2f}, "
        return Score(f1, f1 >= min_f1, why + f"recall {recall:.2f}; {describe(calls)}")

    return score


def _hits(calls: Sequence[ToolCall], expected: Sequence[Any], same: Same) -> int:
    """Calls matched one-to-one with expected calls, in any order (greedy: the first free one)."""
    free = list(calls)
    hits = 0
    for want in expected:
        found = next((c for c in free if same(c, want)), None)
        if found is not None:
            free.remove(found)
            hits += 1
    return hits


def _ordered_hits(calls: Sequence[ToolCall], expected: Sequence[Any], same: Same) -> int:
    """The longest run of matches that keeps the expected order (longest common subsequence)."""
    table = [[0] * (len(expected) + 1) for _ in range(len(calls) + 1)]
    for i, call in enumerate(calls):
        for j, want in enumerate(expected):
            table[i + 1][j + 1] = (
                table[i][j] + 1 if same(call, want) else max(table[i][j + 1], table[i + 1][j])
            )
    return table[-1][-1]


@scorer("no_tool_call", params={"names": {"type": "array", "items": {"type": "string"}}})
def no_tool_call(names: list[str] | None = None) -> ScoreFn:
    """1 when no tool (or none of `names`) was called: the answer had to come from the model."""

    def score(item: ScoreInput) -> Score:
        calls = [c for c in calls_of(item) if names is None or c.name in names]
        if calls:
            return Score(0.0, False, describe(calls))
        return Score(1.0, True, "no tool was called")

    return score
