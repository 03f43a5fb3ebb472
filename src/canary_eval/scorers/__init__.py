"""Scorers: turn one model output into scores in [0, 1], each with a pass flag and a reason.

`create` builds a configured scorer from its `ScorerSpec`; `scoring` (`score_case`, awaited) runs
a case's scorers and combines them; `measure_behaviour` takes the behaviour measures every output
gets, scored or not; `describe_judges` says which judge models and prompts a run's scores depend
on.
"""

from __future__ import annotations

from canary_eval.scorers.behaviour import measure_behaviour
from canary_eval.scorers.judge import describe_judges
from canary_eval.scorers.registry import (
    BoundScorer,
    Scored,
    ScoreFn,
    ScoreInput,
    ScorerContext,
    ScorerType,
    create,
    registered,
    score_case,
    scorer,
    scoring,
)
from canary_eval.scorers.verdicts import judge_fingerprint, prompt_hash

__all__ = [
    "BoundScorer",
    "ScoreFn",
    "ScoreInput",
    "Scored",
    "ScorerContext",
    "ScorerType",
    "create",
    "describe_judges",
    "judge_fingerprint",
    "measure_behaviour",
    "prompt_hash",
    "registered",
    "score_case",
    "scorer",
    "scoring",
]
