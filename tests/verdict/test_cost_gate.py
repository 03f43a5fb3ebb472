"""The cost-per-case gate: a relative limit, an absolute floor and a paired test on the per-case
costs, so one rambling answer cannot raise a warning but a model that got verbose does."""

from __future__ import annotations

from dataclasses import replace

from canary_eval.models import CaseResult, Usage
from canary_eval.verdict.compare import Comparison, compare

from factories import THRESHOLDS, case, run

# Output tokens of twenty answers in the baseline: the same question costs about the same.
BASELINE_TOKENS = [100, 120, 80, 110, 95, 130, 90, 105, 85, 115] * 2


def with_tokens(output_tokens: list[int]) -> list[CaseResult]:
    return [
        replace(case(f"faq-{i:02d}", "faq", 1.0), usage=Usage(40, tokens))
        for i, tokens in enumerate(output_tokens)
    ]


def compared(output_tokens: list[int]) -> Comparison:
    base = run(with_tokens(BASELINE_TOKENS), created_at="2024-05-01T09:00:00+00:00")
    return compare(run(with_tokens(output_tokens)), base, THRESHOLDS)


def cost_alerts(comparison: Comparison) -> list[str]:
    return [a.message for a in comparison.alerts if a.gate == "max_cost_per_case_increase"]


def test_one_rambling_answer_on_an_equal_cost_run_does_not_warn() -> None:
    # Half the answers a little longer, half a little shorter, and one that ran on to 700
    # tokens: the mean cost per case is 27 % up, past the 20 % limit and the floor, but the
    # rise is one case's.
    noisy = [t + (8 if i % 2 else -8) for i, t in enumerate(BASELINE_TOKENS)]
    noisy[3] = 700
    comparison = compared(noisy)

    rise = comparison.ops.cost_per_case_usd / comparison.baseline_ops.cost_per_case_usd - 1
    assert 0.2 < rise < 0.3
    assert comparison.ops.cost_per_case_usd - comparison.baseline_ops.cost_per_case_usd > 1e-5
    assert cost_alerts(comparison) == []


def test_a_verbose_model_warns_with_the_paired_p_value() -> None:
    # Every answer about three times as long, with the same per-case jitter.
    verbose = [3 * t + (8 if i % 2 else -8) for i, t in enumerate(BASELINE_TOKENS)]
    comparison = compared(verbose)

    [message] = cost_alerts(comparison)
    [alert] = [a for a in comparison.alerts if a.gate == "max_cost_per_case_increase"]
    assert alert.severity == "warn"
    assert alert.observed is not None
    assert 1.5 < alert.observed < 2.5
    assert "paired p=" in message
    p = float(message.rsplit("paired p=", 1)[1].rstrip(")"))
    assert p < 0.001  # all twenty cases dearer
