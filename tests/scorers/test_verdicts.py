"""Reading a judge's verdict: strict JSON with the keys its mode asks for, or InvalidVerdict."""

from __future__ import annotations

import pytest

from canary_eval.scorers.verdicts import (
    FACTUALITY,
    TEMPLATES,
    InvalidVerdict,
    parse_verdict,
    prompt_hash,
    reasoning_of,
    render,
)


def test_closedqa_reads_yes_and_no_in_any_case_and_booleans() -> None:
    assert parse_verdict("closedqa", '{"answer": "YES"}') == (1.0, "correct")
    assert parse_verdict("closedqa", '{"answer": "n"}') == (0.0, "incorrect")
    assert parse_verdict("closedqa", '{"answer": true}')[0] == 1.0


def test_factuality_scores_incomplete_above_unverified() -> None:
    assert FACTUALITY["same"] == FACTUALITY["immaterial"] == 1.0
    assert FACTUALITY["subset"] > FACTUALITY["superset"] > FACTUALITY["disagree"] == 0.0
    assert parse_verdict("factuality", '{"choice": "Subset"}') == (0.6, "subset")
    assert parse_verdict("factuality", '{"choice": "(e)"}') == (1.0, "immaterial")


def test_grounded_verdict_is_the_share_of_supported_claims() -> None:
    value, summary = parse_verdict(
        "grounded", '{"claims": 4, "supported": 1, "unsupported": ["a", "b", "c"]}'
    )
    assert value == 0.25
    assert summary == "1/4 claims supported; unsupported: a; b; c"
    assert parse_verdict("grounded", '{"claims": 0, "supported": 0}')[0] == 1.0


@pytest.mark.parametrize(
    ("mode", "content"),
    [
        ("closedqa", ""),
        ("closedqa", "yes"),
        ("closedqa", '["yes"]'),
        ("closedqa", '{"answer": "maybe"}'),
        ("factuality", '{"choice": "F"}'),
        ("factuality", '{"answer": "same"}'),
        ("rubric", '{"score": -0.1}'),
        ("rubric", '{"score": null}'),
        ("grounded", '{"claims": 2, "supported": 3}'),
        ("grounded", '{"claims": "2", "supported": 1}'),
    ],
)
def test_anything_else_is_an_invalid_verdict(mode: str, content: str) -> None:
    with pytest.raises(InvalidVerdict):
        parse_verdict(mode, content)


def test_prompt_hash_is_stable_and_depends_on_mode_and_criteria() -> None:
    assert prompt_hash("rubric", "polite") == prompt_hash("rubric", "polite")
    assert prompt_hash("rubric", "polite") != prompt_hash("rubric", "brief")
    assert len({prompt_hash(mode) for mode in TEMPLATES}) == len(TEMPLATES)


def test_render_fills_slots_once() -> None:
    assert render("[{{a}}] [{{b}}] [{{c}}]", {"a": "{{b}}", "b": "x"}) == "[{{b}}] [x] []"


def test_reasoning_is_shortened_and_optional() -> None:
    assert reasoning_of('{"reasoning": "  short\\n reason "}') == "short reason"
    assert len(reasoning_of('{"reasoning": "' + "x" * 500 + '"}')) == 200
    assert reasoning_of("not json") == ""
    assert reasoning_of("[1]") == ""
