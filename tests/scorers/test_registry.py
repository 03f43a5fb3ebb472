"""The registry: configs name scorers, bad configs are errors naming the key, cases are combined."""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import math
import sys
import textwrap
from collections.abc import Awaitable, Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from canary_eval.errors import AuthError, ConfigError
from canary_eval.models import Case, Score, ScorerSpec
from canary_eval.scorers import (
    BoundScorer,
    Scored,
    ScoreInput,
    ScorerContext,
    create,
    registered,
    score_case,
    scorer,
    scoring,
)
from canary_eval.scorers import registry as registry_module

from .conftest import build, case

BUILTINS = {
    "exact", "contains", "contains_all", "contains_any", "not_contains", "starts_with", "regex",
    "numeric", "token_f1", "rouge_l", "levenshtein", "json_valid", "json_schema", "json_fields",
    "tfidf_cosine", "embedding", "refusal", "judge", "grounded",
}  # fmt: skip


def config_error(spec: ScorerSpec, ctx: ScorerContext | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        create(spec, ctx or ScorerContext(config_path=Path("suites/bot.yaml")))
    assert info.value.exit_code == 2
    return str(info.value)


def test_every_builtin_scorer_is_registered() -> None:
    assert set(registered()) >= BUILTINS


def test_unknown_type_is_a_config_error_naming_the_type_key() -> None:
    message = config_error(ScorerSpec("exactly", key="cases[3].scorers[0]"))
    assert message.startswith("suites/bot.yaml: cases[3].scorers[0].type: unknown scorer type")
    assert "exact" in message  # the known types are listed


def test_wrong_parameter_type_names_the_parameter_key() -> None:
    message = config_error(ScorerSpec("token_f1", {"threshold": "high"}, key="scorers[1]"))
    assert message == "suites/bot.yaml: scorers[1].threshold: expected a number, got string 'high'"


def test_a_list_of_the_wrong_items_is_a_wrong_type() -> None:
    message = config_error(ScorerSpec("contains_all", {"value": ["ok", 3]}, key="scorers[0]"))
    assert "scorers[0].value: expected a string or a list of strings" in message


def test_unknown_parameter_names_the_parameter_and_lists_the_known_ones() -> None:
    message = config_error(ScorerSpec("contains", {"valeu": "x"}, key="scorers[2]"))
    assert "scorers[2].valeu: unknown parameter for scorer 'contains'" in message
    assert "known: case_sensitive, value" in message


def test_missing_required_parameter_names_it() -> None:
    message = config_error(ScorerSpec("refusal", {}, key="cases[0].scorers[1]"))
    assert "cases[0].scorers[1].expect: required by scorer 'refusal'" in message


def test_unreadable_schema_file_names_the_schema_key(tmp_path: Path) -> None:
    ctx = ScorerContext(config_path=tmp_path / "suite.yaml")
    message = config_error(
        ScorerSpec("json_schema", {"schema": "nope.json"}, key="scorers[0]"), ctx
    )
    assert "scorers[0].schema: cannot read schema file" in message
    assert "nope.json" in message


def test_a_factory_rejecting_a_value_names_that_parameter() -> None:
    message = config_error(ScorerSpec("regex", {"pattern": "(unclosed"}, key="scorers[4]"))
    assert "scorers[4].pattern: invalid regular expression" in message


def test_parameters_reach_the_factory_and_the_context_when_asked_for() -> None:
    seen: dict[str, Any] = {}

    @scorer("test_ctx_probe", params={"n": {"type": "integer"}}, required=["n"])
    def probe(n: int, ctx: ScorerContext) -> Any:
        seen.update(n=n, ctx=ctx)
        return lambda item: Score(1.0, True)

    ctx = ScorerContext(config_path=Path("x/suite.yaml"))
    create(ScorerSpec("test_ctx_probe", {"n": 3}), ctx)
    assert seen == {"n": 3, "ctx": ctx}


# Custom scorers by `module:function`, validated by their signature.

CUSTOM = """
from canary_eval.models import Score

def length_at_most(limit: int, unit: str = "chars", ctx=None):
    def score(item):
        size = len(item.output) if unit == "chars" else len(item.output.split())
        return Score(float(size <= limit), size <= limit, f"{size} {unit}")
    return score

async def _async_score(item):
    return Score(0.25, False, "async")

def asynchronous():
    return _async_score

def anything(**options):
    return lambda item: Score(1.0, True, str(sorted(options)))

def broken():
    def score(item):
        raise RuntimeError("boom")
    return score

def not_a_score():
    return lambda item: 0.7

NOT_CALLABLE = 3
"""


@pytest.fixture
def custom_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"custom_scorers_{abs(hash(tmp_path)) % 10**8}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(CUSTOM))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def run(bound: BoundScorer, output: str) -> Score:
    return asyncio.run(bound(ScoreInput(output, case("ref"))))


OPTED_IN = ScorerContext(config_path=Path("suites/bot.yaml"), allow_custom_scorers=True)


def test_a_module_path_is_refused_without_the_opt_in_before_anything_is_imported(
    custom_module: str,
) -> None:
    message = config_error(ScorerSpec(f"{custom_module}:length_at_most", key="scorers[0]"))
    assert message.startswith("suites/bot.yaml: scorers[0].type: custom scorer ")
    assert "allow_custom_scorers: true" in message
    assert custom_module not in sys.modules


def test_custom_scorer_takes_its_parameters_by_signature(custom_module: str) -> None:
    bound = build(f"{custom_module}:length_at_most", {"limit": 5, "unit": "words"}, OPTED_IN)
    assert run(bound, "one two three").passed
    assert not run(bound, "one two three four five six").passed


def test_custom_scorer_rejects_unknown_missing_and_mistyped_parameters(custom_module: str) -> None:
    path = f"{custom_module}:length_at_most"
    assert "scorers[0].limt: unknown parameter" in config_error(
        ScorerSpec(path, {"limit": 5, "limt": 3}, key="scorers[0]"), OPTED_IN
    )
    assert "scorers[0].limit: required" in config_error(
        ScorerSpec(path, {}, key="scorers[0]"), OPTED_IN
    )
    assert "scorers[0].limit: expected an integer, got string" in config_error(
        ScorerSpec(path, {"limit": "5"}, key="scorers[0]"), OPTED_IN
    )
    assert "scorers[0].ctx: unknown parameter" in config_error(
        ScorerSpec(path, {"limit": 5, "ctx": 1}, key="scorers[0]"), OPTED_IN
    )


def test_custom_scorer_with_kwargs_accepts_any_parameter(custom_module: str) -> None:
    bound = build(f"{custom_module}:anything", {"a": 1, "b": [2]}, OPTED_IN)
    assert run(bound, "x").explanation == "['a', 'b']"


def test_custom_scorer_may_be_async(custom_module: str) -> None:
    assert run(build(f"{custom_module}:asynchronous", ctx=OPTED_IN), "x").value == 0.25


def test_custom_scorer_that_cannot_be_loaded_names_the_type_key(custom_module: str) -> None:
    assert "scorers[0].type: cannot load custom scorer" in config_error(
        ScorerSpec(f"{custom_module}:missing", key="scorers[0]"), OPTED_IN
    )
    assert "scorers[0].type: cannot load custom scorer" in config_error(
        ScorerSpec("no_such_module_xyz:f", key="scorers[0]"), OPTED_IN
    )
    assert "scorers[0].type: custom scorer" in config_error(
        ScorerSpec(f"{custom_module}:NOT_CALLABLE", key="scorers[0]"), OPTED_IN
    )


def test_a_failing_scorer_gives_an_invalid_score_not_a_crash(custom_module: str) -> None:
    broken = run(build(f"{custom_module}:broken", ctx=OPTED_IN), "x")
    assert broken.invalid
    assert not broken.passed
    assert "RuntimeError: boom" in broken.explanation
    wrong = run(build(f"{custom_module}:not_a_score", ctx=OPTED_IN), "x")
    assert wrong.invalid
    assert "returned float" in wrong.explanation


def test_a_canary_error_from_a_scorer_ends_the_run() -> None:
    def fail(item: ScoreInput) -> Score:
        raise AuthError("judge refused the credentials")

    with pytest.raises(AuthError):
        asyncio.run(BoundScorer(ScorerSpec("x"), fail)(ScoreInput("o", case())))


def test_scores_are_clamped_to_the_unit_interval_and_nan_is_invalid() -> None:
    item = ScoreInput("o", case())
    high = asyncio.run(BoundScorer(ScorerSpec("x"), lambda i: Score(1.5, True))(item))
    nan = asyncio.run(BoundScorer(ScorerSpec("x"), lambda i: Score(math.nan, True))(item))
    assert high.value == 1.0
    assert high.scorer == "x"
    assert nan.invalid
    assert not nan.passed


# Entry points.


def test_entry_point_scorers_load_whether_decorated_or_not(
    custom_module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = f"{custom_module}_plugin"
    (tmp_path / f"{plugin}.py").write_text(
        textwrap.dedent(
            """
            from canary_eval.models import Score
            from canary_eval.scorers import scorer

            @scorer("test_plugin_decorated", params={"word": {"type": "string"}})
            def decorated(word: str = "hi"):
                return lambda item: Score(float(word in item.output), word in item.output)
            """
        )
    )
    points = [
        EntryPoint("test_plugin_decorated", f"{plugin}:decorated", "canary_eval.scorers"),
        EntryPoint("test_plugin_plain", f"{custom_module}:length_at_most", "canary_eval.scorers"),
    ]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: points)
    try:
        assert run(build("test_plugin_decorated", {"word": "ref"}), "the ref").passed
        assert "scorers[0].word: expected a string" in config_error(
            ScorerSpec("test_plugin_decorated", {"word": 1}, key="scorers[0]")
        )
        assert run(build("test_plugin_plain", {"limit": 3}), "abc").passed
        assert "scorers[0].limit: required" in config_error(
            ScorerSpec("test_plugin_plain", {}, key="scorers[0]")
        )
    finally:
        registry_module._REGISTRY.pop("test_plugin_decorated", None)
        sys.modules.pop(plugin, None)


# Combining a case's scores.


def fixed(value: float, *, invalid: bool = False, weight: float = 1.0) -> BoundScorer:
    return BoundScorer(
        ScorerSpec("fixed", weight=weight),
        lambda item: Score(value, value >= 0.5, invalid=invalid),
    )


def combine(*scorers: BoundScorer) -> tuple[float, tuple[Score, ...]]:
    return asyncio.run(score_case(scorers, ScoreInput("o", case())))


def test_case_score_is_the_weighted_mean_of_its_scores() -> None:
    value, scores = combine(fixed(1.0, weight=3), fixed(0.0, weight=1))
    assert value == pytest.approx(0.75)
    assert [s.value for s in scores] == [1.0, 0.0]


def test_invalid_scores_are_reported_but_left_out_of_the_mean() -> None:
    value, scores = combine(fixed(0.2), fixed(0.0, invalid=True))
    assert value == pytest.approx(0.2)
    assert scores[1].invalid


def test_a_case_with_nothing_valid_to_score_is_nan_not_zero() -> None:
    assert math.isnan(combine(fixed(0.0, invalid=True))[0])
    assert math.isnan(combine()[0])
    assert math.isnan(combine(fixed(1.0, weight=0))[0])


def test_async_and_sync_scorers_combine() -> None:
    async def later(item: ScoreInput) -> Score:
        await asyncio.sleep(0)
        return Score(0.0, False)

    value, _ = combine(fixed(1.0), BoundScorer(ScorerSpec("later"), later))
    assert value == pytest.approx(0.5)


def test_synchronous_scorers_score_at_once_without_an_event_loop() -> None:
    # Nearly every scorer is synchronous: a run scores each answer where it arrives, no task
    assert scoring([fixed(1.0), fixed(0.0)], ScoreInput("o", case())) == combine(
        fixed(1.0), fixed(0.0)
    )


def test_scorers_that_call_out_are_awaited_together() -> None:
    running: list[str] = []

    def calling_out(name: str) -> BoundScorer:
        async def call(item: ScoreInput) -> Score:
            running.append(name)
            await asyncio.sleep(0.05)
            assert set(running) == {"a", "b"}  # both calls were under way at once
            return Score(1.0, True)

        return BoundScorer(ScorerSpec(name), call)

    pending = scoring([calling_out("a"), fixed(0.0), calling_out("b")], ScoreInput("o", case()))
    assert inspect.isawaitable(pending)
    value, scores = asyncio.run(_awaited(pending))
    assert value == pytest.approx(2 / 3)
    assert [s.scorer for s in scores] == ["a", "fixed", "b"]


async def _awaited(pending: Awaitable[Scored]) -> Scored:
    return await pending


# References.


def test_references_gather_reference_and_a_references_list_skipping_blanks() -> None:
    item = ScoreInput("o", Case("c", "q", "first", fields={"references": ["second", " ", "first"]}))
    assert item.references == ("first", "second")
    assert ScoreInput("o", Case("c", "q", "  ")).references == ()
