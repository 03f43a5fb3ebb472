"""The suite's scorers, built and validated per case before any model is called, and the
hash and judge list a run records so that a scoring change cannot pass for a model change."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from canary_eval.errors import ConfigError
from canary_eval.models import EvalSet, ScorerSpec
from canary_eval.scorers import BoundScorer, ScorerContext, create, describe_judges
from canary_eval.suite.config import SuiteConfig
from canary_eval.suite.document import KeyPath, parse_key
from canary_eval.suite.prompts import check_case_keys, check_slots

CaseScorers = dict[str, list[BoundScorer]]
LineOf = Callable[[KeyPath], int | None]


def build_scorers(config: SuiteConfig, evalset: EvalSet, *, offline: bool = False) -> CaseScorers:
    """Every case's scorers (the suite's defaults plus its own), built and validated up front.

    `offline` (re-scoring) lets model-graded scorers use only cached verdicts.
    """
    ctx = ScorerContext(
        config_path=config.path,
        judge=config.judge,
        cache_dir=config.history_path.parent / "cache",
        offline=offline,
        allow_custom_scorers=config.allow_custom_scorers,
    )
    defaults = [_create(spec, ctx, config.line_of) for spec in config.scorers]
    # A case's own scorers live in the eval set: errors name it, schema files are relative to it.
    # An eval set is data: its cases may name registered scorers only, never import a module.
    case_ctx = replace(ctx, config_path=Path(evalset.path), allow_custom_scorers=False)
    return {
        case.id: defaults + [_create(spec, case_ctx, _on_line(case.line)) for spec in case.scorers]
        for case in evalset.cases
    }


def _on_line(line: int | None) -> LineOf:
    """An eval set keeps only the line each case starts on."""
    return lambda _key: line


def _create(spec: ScorerSpec, ctx: ScorerContext, line_of: LineOf) -> BoundScorer:
    """`create`, with the line the faulty key is on added to its error."""
    try:
        return create(spec, ctx)
    except ConfigError as error:
        line = line_of(parse_key(error.key or spec.key))
        raise ConfigError(error.message, path=error.path, line=line, key=error.key) from None


def scorers_hash(scorers: CaseScorers) -> str:
    """One hash over every case's scorers and the judges behind them: a scoring change shows."""
    specs = {
        case_id: [(b.spec.type, dict(b.spec.params), b.spec.weight) for b in bound]
        for case_id, bound in scorers.items()
    }
    fingerprints = [j["fingerprint"] for j in judges(scorers)]
    text = json.dumps([specs, fingerprints], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def judges(scorers: CaseScorers) -> list[dict[str, Any]]:
    """The judge models and prompts the scores depend on, once each."""
    unique: dict[str, dict[str, Any]] = {}
    for bound in scorers.values():
        for judge in describe_judges(bound):
            unique.setdefault(str(judge["fingerprint"]), judge)
    return list(unique.values())


def check_suite(config: SuiteConfig, evalset: EvalSet, *, offline: bool = False) -> CaseScorers:
    """Everything `canary validate` checks, without calling a model."""
    check_slots(config, evalset)
    check_case_keys(config, evalset)
    return build_scorers(config, evalset, offline=offline)
