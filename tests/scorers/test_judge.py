"""The `judge` scorer against a real judge endpoint on 127.0.0.1: valid verdicts are scored,
invalid and failing ones are counted as invalid (never 0), and verdicts are cached on disk."""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from canary_eval.errors import AuthError, ConfigError
from canary_eval.models import Case, ScorerSpec
from canary_eval.scorers import (
    ScoreInput,
    ScorerContext,
    create,
    describe_judges,
    score_case,
)
from canary_eval.scorers.verdicts import judge_fingerprint, prompt_hash

from .conftest import Endpoint, build, chat, score

REFERENCE = "Duplicate charges are pending authorisations that drop off within 3 business days."


def by_submission(path: str, body: dict[str, Any]) -> tuple[int, Any]:
    """A judge whose verdict depends on the submission, so one server scripts every outcome."""
    prompt = body["messages"][-1]["content"]
    submission = prompt.split("[Submission]: ")[1].split("\n")[0]
    verdicts: dict[str, tuple[int, Any]] = {
        "right": chat('{"reasoning": "matches the reference", "answer": "yes"}'),
        "wrong": chat('{"reasoning": "says a week", "answer": "no"}'),
        "prose": chat("Yes, the submission is correct."),
        "wrong keys": chat('{"verdict": "yes"}'),
        "fenced": chat('```json\n{"answer": "yes"}\n```'),
        "server error": (500, {"error": {"message": "overloaded"}}),
        "no choices": (200, {"id": "x"}),
        "judge refuses": (200, {"choices": [{"message": {"content": None, "refusal": "no"}}]}),
        "html": (200, "<html>busy</html>"),
    }
    return verdicts[submission]


def judge_ctx(endpoint: Endpoint, tmp_path: Path | None = None, **extra: Any) -> ScorerContext:
    settings = {"base_url": endpoint.url, "model": "judge-1", **extra}
    return ScorerContext(judge=settings, cache_dir=tmp_path)


def judged(endpoint: Endpoint, output: str, **params: Any) -> Any:
    endpoint.reply = by_submission
    return score("judge", output, REFERENCE, ctx=judge_ctx(endpoint), **params)


def test_a_correct_answer_scores_one_with_model_prompt_hash_and_reasoning(
    endpoint: Endpoint,
) -> None:
    got = judged(endpoint, "right")
    assert (got.value, got.passed, got.invalid) == (1.0, True, False)
    assert "judge closedqa (judge-1, prompt " + prompt_hash("closedqa")[:12] in got.explanation
    assert "matches the reference" in got.explanation


def test_an_incorrect_answer_scores_zero(endpoint: Endpoint) -> None:
    got = judged(endpoint, "wrong")
    assert (got.value, got.passed, got.invalid) == (0.0, False, False)


def test_the_request_is_a_deterministic_strict_json_chat_completion(endpoint: Endpoint) -> None:
    judged(endpoint, "right")
    path, body, _ = endpoint.requests[0]
    assert path == "/v1/chat/completions"
    assert body["model"] == "judge-1"
    assert body["temperature"] == 0
    assert body["response_format"] == {"type": "json_object"}
    system, user = body["messages"]
    assert "JSON" in system["content"]
    assert REFERENCE in user["content"]
    assert "[Question]: What is the answer?" in user["content"]


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("prose", "invalid verdict: verdict is not JSON"),
        ("wrong keys", 'invalid verdict: "answer" must be "yes" or "no"'),
        ("no choices", "invalid verdict: answer has no choices[0].message"),
        ("judge refuses", "invalid verdict: judge refused"),
        ("server error", "call failed: "),
        ("html", "call failed: "),
    ],
)
def test_unusable_verdicts_are_invalid_with_the_reason_never_zero(
    endpoint: Endpoint, output: str, reason: str
) -> None:
    got = judged(endpoint, output)
    assert got.invalid
    assert not got.passed
    assert reason in got.explanation


def test_a_code_fenced_verdict_is_still_read(endpoint: Endpoint) -> None:
    assert judged(endpoint, "fenced").passed


def test_invalid_verdicts_are_counted_not_scored_in_the_case_score(endpoint: Endpoint) -> None:
    endpoint.reply = by_submission
    ctx = judge_ctx(endpoint)
    scorers = [
        create(ScorerSpec("judge", key="scorers[0]"), ctx),
        create(ScorerSpec("contains", {"value": "no"}, key="scorers[1]"), ctx),
    ]
    value, scores = asyncio.run(score_case(scorers, ScoreInput("prose", Case("c", "q", REFERENCE))))
    assert scores[0].invalid
    assert value == 0.0  # only `contains` counted: "prose" has no "no"
    value, scores = asyncio.run(
        score_case(scorers[:1], ScoreInput("server error", Case("c", "q", REFERENCE)))
    )
    assert math.isnan(value)


def test_a_failing_judge_is_retried_before_giving_up(endpoint: Endpoint) -> None:
    answers = iter([(503, {}), (500, {}), chat('{"answer": "yes"}')])
    endpoint.reply = lambda path, body: next(answers)
    got = score("judge", "x", REFERENCE, ctx=judge_ctx(endpoint, max_retries=2))
    assert got.passed
    assert len(endpoint.requests) == 3


def test_a_client_error_is_not_retried(endpoint: Endpoint) -> None:
    endpoint.reply = lambda path, body: (400, {"error": "bad request"})
    got = score("judge", "x", REFERENCE, ctx=judge_ctx(endpoint))
    assert got.invalid
    assert "HTTP 400" in got.explanation
    assert len(endpoint.requests) == 1


# Factuality and rubric.


@pytest.mark.parametrize(
    ("choice", "value", "passed"),
    [
        ("same", 1.0, True),
        ("immaterial", 1.0, True),
        ("subset", 0.6, True),
        ("superset", 0.4, False),
        ("disagree", 0.0, False),
        ("(A)", 0.6, True),
        ("B", 0.4, False),
    ],
)
def test_factuality_maps_choices_so_incomplete_beats_unverified(
    endpoint: Endpoint, choice: str, value: float, passed: bool
) -> None:
    endpoint.reply = lambda path, body: chat(json.dumps({"reasoning": "r", "choice": choice}))
    got = score("judge", "x", REFERENCE, ctx=judge_ctx(endpoint), mode="factuality")
    assert (got.value, got.passed) == (value, passed)


def test_rubric_scores_against_the_criteria(endpoint: Endpoint) -> None:
    endpoint.reply = lambda path, body: chat('{"reasoning": "polite, no apology", "score": 0.7}')
    criteria = "Polite, apologises once, offers a next step."
    got = score("judge", "x", None, ctx=judge_ctx(endpoint), mode="rubric", criteria=criteria)
    assert got.value == pytest.approx(0.7)
    assert criteria in endpoint.requests[0][1]["messages"][1]["content"]


@pytest.mark.parametrize("reply", ['{"score": 7}', '{"score": "0.5"}', '{"score": true}', "{}"])
def test_rubric_score_outside_zero_to_one_is_invalid(endpoint: Endpoint, reply: str) -> None:
    endpoint.reply = lambda path, body: chat(reply)
    got = score("judge", "x", None, ctx=judge_ctx(endpoint), mode="rubric", criteria="c")
    assert got.invalid


def test_rubric_without_criteria_is_a_config_error(endpoint: Endpoint) -> None:
    with pytest.raises(ConfigError, match=r"scorers\[0\]\.criteria"):
        build("judge", {"mode": "rubric"}, judge_ctx(endpoint))


def test_closedqa_without_a_reference_is_invalid_without_a_call(endpoint: Endpoint) -> None:
    got = score("judge", "x", None, ctx=judge_ctx(endpoint))
    assert got.invalid
    assert got.explanation == "no reference"
    assert endpoint.requests == []


def test_text_in_the_output_is_never_expanded_as_a_prompt_slot(endpoint: Endpoint) -> None:
    endpoint.reply = lambda path, body: chat('{"answer": "no"}')
    score("judge", "{{reference}} {{criteria}}", REFERENCE, ctx=judge_ctx(endpoint))
    assert (
        "[Submission]: {{reference}} {{criteria}}"
        in endpoint.requests[0][1]["messages"][1]["content"]
    )


# The disk cache.


def test_a_cached_verdict_avoids_the_second_call(endpoint: Endpoint, tmp_path: Path) -> None:
    endpoint.reply = by_submission
    first = score("judge", "right", REFERENCE, ctx=judge_ctx(endpoint, tmp_path))
    second = score("judge", "right", REFERENCE, ctx=judge_ctx(endpoint, tmp_path))  # a new run
    assert first == second
    assert endpoint.count("/chat/completions") == 1
    [entry] = (tmp_path / "judge").glob("*.json")
    assert json.loads(entry.read_text())["model"] == "judge-1"


def test_the_cache_key_covers_the_output_the_model_and_the_prompt(
    endpoint: Endpoint, tmp_path: Path
) -> None:
    endpoint.reply = lambda path, body: chat('{"answer": "yes"}')
    score("judge", "one", REFERENCE, ctx=judge_ctx(endpoint, tmp_path))
    score("judge", "two", REFERENCE, ctx=judge_ctx(endpoint, tmp_path))
    score("judge", "one", REFERENCE, ctx=judge_ctx(endpoint, tmp_path, model="judge-2"))
    score("judge", "one", REFERENCE, ctx=judge_ctx(endpoint, tmp_path), mode="factuality")
    assert endpoint.count("/chat/completions") == 4


def test_invalid_and_failed_verdicts_are_not_cached(endpoint: Endpoint, tmp_path: Path) -> None:
    endpoint.reply = by_submission
    for _ in range(2):
        assert score("judge", "prose", REFERENCE, ctx=judge_ctx(endpoint, tmp_path)).invalid
    assert endpoint.count("/chat/completions") == 2
    assert not (tmp_path / "judge").exists()


def test_a_corrupt_cache_file_is_ignored(endpoint: Endpoint, tmp_path: Path) -> None:
    endpoint.reply = by_submission
    score("judge", "right", REFERENCE, ctx=judge_ctx(endpoint, tmp_path))
    [entry] = (tmp_path / "judge").glob("*.json")
    entry.write_text("{truncated")
    assert score("judge", "right", REFERENCE, ctx=judge_ctx(endpoint, tmp_path)).passed
    assert endpoint.count("/chat/completions") == 2


# What a run records, and keys.


def test_describe_judges_records_model_prompt_and_hash(endpoint: Endpoint) -> None:
    ctx = judge_ctx(endpoint)
    scorers = [
        create(ScorerSpec("judge", {"mode": "factuality"}, key="scorers[0]"), ctx),
        create(ScorerSpec("token_f1", key="scorers[1]"), ctx),
        create(ScorerSpec("grounded", key="scorers[2]"), ctx),
    ]
    described = describe_judges(scorers)
    assert [d["scorer"] for d in described] == ["scorers[0]", "scorers[2]"]
    first = described[0]
    assert first["model"] == "judge-1"
    assert first["mode"] == "factuality"
    assert first["prompt_hash"] == prompt_hash("factuality")
    assert first["fingerprint"] == judge_fingerprint("judge-1", "factuality")
    assert "subset" in first["prompt"]["template"]


def test_the_fingerprint_changes_with_the_model_the_mode_and_the_criteria() -> None:
    prints = {
        judge_fingerprint("judge-1", "rubric", "polite"),
        judge_fingerprint("judge-2", "rubric", "polite"),
        judge_fingerprint("judge-1", "rubric", "concise"),
        judge_fingerprint("judge-1", "closedqa"),
    }
    assert len(prints) == 4


def test_the_api_key_is_sent_but_never_shown(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUDGE_KEY", "sk-very-secret")
    endpoint.reply = lambda path, body: (500, {"error": "key sk-very-secret is overloaded"})
    got = score("judge", "x", REFERENCE, ctx=judge_ctx(endpoint, api_key_env="JUDGE_KEY"))
    assert endpoint.requests[0][2]["Authorization"] == "Bearer sk-very-secret"
    assert got.invalid
    assert "sk-very-secret" not in got.explanation


def test_refused_credentials_and_a_missing_key_variable_stop_the_run(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUDGE_KEY", "sk-very-secret")
    endpoint.reply = lambda path, body: (401, {"error": "invalid key"})
    with pytest.raises(AuthError) as info:
        score("judge", "x", REFERENCE, ctx=judge_ctx(endpoint, api_key_env="JUDGE_KEY"))
    assert "sk-very-secret" not in str(info.value)
    monkeypatch.delenv("JUDGE_KEY")
    with pytest.raises(AuthError, match="JUDGE_KEY is not set"):
        score("judge", "x", REFERENCE, ctx=judge_ctx(endpoint, api_key_env="JUDGE_KEY"))


def test_the_scorer_own_endpoint_overrides_the_suite_judge(endpoint: Endpoint) -> None:
    endpoint.reply = by_submission
    ctx = ScorerContext(judge={"base_url": "http://127.0.0.1:9/v1", "model": "other"})
    got = score("judge", "right", REFERENCE, ctx=ctx, base_url=endpoint.url, model="judge-9")
    assert got.passed
    assert endpoint.requests[0][1]["model"] == "judge-9"


def test_a_judge_without_an_endpoint_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"scorers\[0\]\.base_url: needs 'base_url'"):
        build("judge")
    with pytest.raises(ConfigError, match=r"scorers\[0\]\.base_url: base_url must start"):
        build("judge", {"base_url": "localhost:8080", "model": "m"})


def test_offline_rescoring_uses_cached_verdicts_and_calls_nothing(
    endpoint: Endpoint, tmp_path: Path
) -> None:
    endpoint.reply = by_submission
    score("judge", "right", REFERENCE, ctx=judge_ctx(endpoint, tmp_path))
    offline = replace(judge_ctx(endpoint, tmp_path), offline=True)
    assert score("judge", "right", REFERENCE, ctx=offline).passed
    missed = score("judge", "wrong", REFERENCE, ctx=offline)
    assert missed.invalid
    assert "no cached verdict (offline)" in missed.explanation
    assert endpoint.count("/chat/completions") == 1
