"""Builders of runs and comparisons for the report, alert and history tests.

`comparison(kind)` returns a real `Comparison` made by `canary_eval.compare.compare` from
hand-built runs, so the reports are tested on the same values the CLI hands them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from canary_eval.compare import Comparison, compare
from canary_eval.config import IntentThresholds, Thresholds
from canary_eval.models import Behaviour, CallError, CaseResult, RunInfo, RunResult, Score, Usage

Kind = Literal["pass", "suspect", "regression", "error"]

SUITE = "support-bot"
SCRIPT_OUTPUT = "Click here <script>alert(1)</script> | pipes | and\na new line & more"

THRESHOLDS = Thresholds(
    max_relative_drop=0.03,
    alpha=0.05,
    per_intent=IntentThresholds(max_relative_drop=0.10, min_cases=10),
    max_length_increase=0.25,
    max_refusal_rate_increase=0.05,
    max_hedging_rate_increase=0.10,
    max_p95_latency_increase=0.50,
    max_cost_per_case_increase=0.20,
    max_error_rate_increase=0.05,
)


def case(
    case_id: str,
    intent: str | None,
    score: float | None,
    output: str | None = None,
    *,
    latency_ms: float = 100.0,
    chars: int | None = None,
    model: str = "sim-stable",
    fingerprint: str | None = "fp_a",
    error: CallError | None = None,
) -> CaseResult:
    text = output if output is not None or error else f"answer for {case_id}"
    length = chars if chars is not None else len(text or "")
    scores = () if score is None else (Score(score, score >= 0.5, "mismatch", "token_f1"),)
    return CaseResult(
        id=case_id,
        intent=intent,
        content_hash=f"h-{case_id}",
        output=text,
        score=score,
        scores=scores,
        error=error,
        latency_ms=latency_ms,
        usage=Usage(40, 20),
        model=None if error else model,
        fingerprint=None if error else fingerprint,
        behaviour=Behaviour(chars=length, words=max(1, length // 5), tokens=length // 4),
    )


def run(cases: Sequence[CaseResult], created_at: str = "2024-05-07T14:00:00+00:00") -> RunResult:
    info = RunInfo(
        suite=SUITE,
        evalset_hash="e1",
        prompt_hash="p1",
        provider="openai",
        model="sim",
        created_at=created_at,
        pricing={"input_per_mtok": 0.15, "output_per_mtok": 0.60},
    )
    return RunResult(info, tuple(cases))


def baseline_cases(n_per_intent: int = 20) -> list[CaseResult]:
    return [
        case(f"{intent}-{i:02d}", intent, 1.0, chars=100)
        for intent in ("billing", "shipping")
        for i in range(n_per_intent)
    ]


def current_cases(kind: Kind) -> list[CaseResult]:
    cases = baseline_cases()
    if kind == "pass":
        return cases
    if kind == "suspect":
        # Two worse cases of forty: past the 3 % limit but far from significant.
        return [replace(c, score=0.0) if c.id in ("billing-00", "shipping-00") else c for c in cases]
    if kind == "error":
        failure = CallError("server_error", "HTTP 500", status=500)
        return [
            case(c.id, c.intent, None, error=failure) if i % 3 == 0 else c
            for i, c in enumerate(cases)
        ]
    # A drifted vendor model: billing collapses, answers double in length, p95 latency triples.
    drifted = []
    for c in cases:
        worse = c.intent == "billing" and int(c.id[-2:]) < 12
        output = SCRIPT_OUTPUT if c.id == "billing-00" else f"a much longer answer for {c.id}"
        drifted.append(
            case(
                c.id,
                c.intent,
                0.0 if worse else 1.0,
                output,
                chars=200,
                latency_ms=300.0,
                model="sim-drift",
                fingerprint="fp_b",
            )
        )
    return drifted


def comparison(
    kind: Kind = "regression",
    *,
    thresholds: Thresholds = THRESHOLDS,
    created_at: str = "2024-05-07T14:00:00+00:00",
) -> Comparison:
    """A real comparison whose verdict is `kind`."""
    base = run(baseline_cases(), created_at="2024-05-01T09:00:00+00:00")
    result = compare(run(current_cases(kind), created_at), base, thresholds)
    assert result.verdict == kind, (result.verdict, [a.message for a in result.alerts])
    return result
