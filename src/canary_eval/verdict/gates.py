"""The gates: each compares one figure of a run with its baseline against a configured limit
and raises an `Alert` when it is breached, with the severity the paging policy gives that gate.
A gate whose limit is not configured stays silent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from canary_eval.models import Alert
from canary_eval.suite.config import Thresholds
from canary_eval.verdict import stats
from canary_eval.verdict.metrics import BehaviourFigures, OpsFigures
from canary_eval.verdict.policy import Policy

if TYPE_CHECKING:
    from canary_eval.verdict.calibration import SeriesResult
    from canary_eval.verdict.compare import Pairing, Quality


class _Rate(NamedTuple):
    """A share of outputs, now and in the baseline, and how much it may rise (absolute)."""

    metric: str
    label: str
    gate: str
    allowed: float | None
    events_now: int
    outputs_now: int
    events_before: int
    outputs_before: int


def paired_test_alerts(
    quality: Quality, policy: Policy, series: SeriesResult | None = None
) -> list[Alert]:
    """The per-run paired test against the one baseline draw: reported (`warn`), never a page
    on its own, since the baseline's own noise is reused every hour (the calibrated CUSUM in
    verdict/alarm.py pages). `fail_on_suspect: true` restores the uncalibrated per-run page.

    `series` is the overall score's calibrated CUSUM step. A drop past the limit warns only
    while that CUSUM is past half its paging threshold: a baseline that happened to be a lucky
    draw makes every healthy run look a few per cent worse, and a noisy model crosses the limit
    on a third of its runs, but the deficit builds to half of H only about once a month."""
    thresholds = policy.thresholds
    limit = thresholds.max_relative_drop
    if not quality.n or quality.relative_drop <= limit:
        return []
    building = series is None or series.state.s > series.threshold / 2
    if not building and not thresholds.fail_on_suspect:
        return []
    significant = quality.p_value < thresholds.alpha
    verdict = "significant" if significant else "not significant"
    building_up = (
        f"; the calibrated deficit is building (CUSUM {series.state.s:.1f}, "
        f"pages at {series.threshold:.1f})"
        if series is not None and building
        else ""
    )
    return [
        Alert(
            layer="quality",
            metric="score",
            gate="max_relative_drop",
            severity=policy.severity("max_relative_drop") if thresholds.fail_on_suspect else "warn",
            observed=quality.relative_drop,
            allowed=limit,
            message=(
                f"canary score fell {quality.relative_drop:.1%} "
                f"({quality.baseline_score:.3f} -> {quality.score:.3f}) against the baseline, "
                f"above the {limit:.1%} limit; {verdict} on this run alone "
                f"(p={quality.p_value:.3g}, {quality.method}){building_up}"
            ),
        )
    ]


def behaviour_alerts(
    pairing: Pairing, now: BehaviourFigures, before: BehaviourFigures, policy: Policy
) -> list[Alert]:
    thresholds = policy.thresholds
    alerts = []
    limit = thresholds.max_length_increase
    if limit is not None and before.mean_chars:
        increase = now.mean_chars / before.mean_chars - 1
        # Significance on the paired per-case lengths, so one long answer cannot trip the gate.
        diffs = [
            (b.behaviour.chars - c.behaviour.chars) / before.mean_chars for c, b in pairing.pairs
        ]
        p = stats.sign_flip_test(diffs) if diffs else 1.0
        if increase > limit and p < thresholds.alpha:
            alerts.append(
                Alert(
                    layer="behaviour",
                    metric="output_length",
                    gate="max_length_increase",
                    severity=policy.severity("max_length_increase"),
                    observed=increase,
                    allowed=limit,
                    message=(
                        f"answers got {increase:.0%} longer ({before.mean_chars:.0f} -> "
                        f"{now.mean_chars:.0f} chars on average; p={p:.3g})"
                    ),
                )
            )
    rates = (
        _Rate("refusal_rate", "refusals", "max_refusal_rate_increase",
              thresholds.max_refusal_rate_increase,
              now.refusals, now.answered, before.refusals, before.answered),
        _Rate("hedging_rate", "hedged answers", "max_hedging_rate_increase",
              thresholds.max_hedging_rate_increase,
              now.hedged, now.answered, before.hedged, before.answered),
        _Rate("format_failure_rate", "malformed structured outputs",
              "max_format_failure_increase", thresholds.max_format_failure_increase,
              now.format_failures, now.format_checked,
              before.format_failures, before.format_checked),
        # The tool-call rate gate is two-sided: a model that stops calling tools is as wrong
        # as one that starts calling them where it should answer.
        _Rate("tool_call_rate", "answers with a tool call", "max_tool_call_rate_change",
              thresholds.max_tool_call_rate_change,
              now.tool_calling, now.answered, before.tool_calling, before.answered),
        _Rate("tool_call_rate", "answers without a tool call", "max_tool_call_rate_change",
              thresholds.max_tool_call_rate_change, now.answered - now.tool_calling,
              now.answered, before.answered - before.tool_calling, before.answered),
        _Rate("wrong_tool_rate", "wrong-tool calls (a tool the case does not expect)",
              "max_wrong_tool_rate_increase", thresholds.max_wrong_tool_rate_increase,
              now.wrong_tool, now.tool_expected, before.wrong_tool, before.tool_expected),
    )  # fmt: skip
    for rate in rates:
        metric, label, gate, allowed, x_now, n_now, x_before, n_before = rate
        if allowed is None or not n_now or not n_before:
            continue
        rate_now, rate_before = x_now / n_now, x_before / n_before
        p = stats.two_proportion_test(x_before, n_before, x_now, n_now)
        if rate_now - rate_before > allowed and p < thresholds.alpha:
            low, high = stats.wilson_interval(x_now, n_now)
            alerts.append(
                Alert(
                    layer="behaviour",
                    metric=metric,
                    gate=gate,
                    severity=policy.severity(gate),
                    observed=rate_now - rate_before,
                    allowed=allowed,
                    message=(
                        f"{label} rose from {rate_before:.1%} to {rate_now:.1%} "
                        f"(95 % CI {low:.1%}-{high:.1%}; p={p:.3g})"
                    ),
                )
            )
    return alerts


def ops_alerts(
    now: OpsFigures,
    before: OpsFigures,
    policy: Policy,
    latencies: tuple[Sequence[float], Sequence[float]] = ((), ()),
    costs: Sequence[tuple[float, float]] = (),
) -> list[Alert]:
    """p95 latency: relative limit, absolute floor (`min_p95_latency_increase_ms`) and a
    bootstrap test of the p95 difference on the per-call `latencies` (now, baseline); cost per
    case: relative limit, absolute floor (`min_cost_per_case_increase_usd`) and a paired
    sign-flip test on the per-case `costs` (now, baseline) of the cases both runs answered."""
    thresholds = policy.thresholds
    p95_floor = thresholds.min_p95_latency_increase_ms
    cost_floor = thresholds.min_cost_per_case_increase_usd
    alerts = _rise(
        policy,
        "latency_p95_ms",
        "max_p95_latency_increase",
        (before.latency_p95_ms, now.latency_p95_ms),
        p95_floor,
        lambda: stats.quantile_increase_test(*latencies, seed=0) if all(latencies) else 1.0,
        lambda base, value, limit, p: (
            f"p95 latency rose {value / base - 1:.0%} ({base:.0f} ms -> {value:.0f} ms), above "
            f"the {limit:.0%} limit and the {p95_floor:.0f} ms floor (bootstrap p={p:.3g})"
        ),
    )
    alerts += _rise(
        policy,
        "cost_per_case_usd",
        "max_cost_per_case_increase",
        (before.cost_per_case_usd, now.cost_per_case_usd),
        cost_floor,
        lambda: _cost_increase_p(costs, before.cost_per_case_usd),
        lambda base, value, limit, p: (
            f"cost per case rose {value / base - 1:.0%} (${base:.6f} -> ${value:.6f}), above "
            f"the {limit:.0%} limit and the ${cost_floor:g} floor (paired p={p:.3g})"
        ),
    )
    allowed_errors = thresholds.max_error_rate_increase
    if allowed_errors is not None and now.error_rate - before.error_rate > allowed_errors:
        alerts.append(
            Alert(
                layer="ops",
                metric="error_rate",
                gate="max_error_rate_increase",
                severity=policy.severity("max_error_rate_increase"),
                observed=now.error_rate - before.error_rate,
                allowed=allowed_errors,
                message=f"error rate rose from {before.error_rate:.1%} to {now.error_rate:.1%}",
            )
        )
    return alerts


def _rise(
    policy: Policy,
    metric: str,
    gate: str,
    figures: tuple[float, float],
    floor: float,
    p_value: Callable[[], float],
    describe: Callable[[float, float, float, float], str],
) -> list[Alert]:
    """A relative ops gate: the figure (baseline, now) rose past the gate's limit and by more
    than `floor`, and significantly at `alpha` (the test runs only then)."""
    base, value = figures
    limit: float | None = getattr(policy.thresholds, gate)
    if limit is None or not base or value / base - 1 <= limit or value - base <= floor:
        return []
    p = p_value()
    if p >= policy.thresholds.alpha:
        return []
    return [
        Alert(
            layer="ops",
            metric=metric,
            gate=gate,
            severity=policy.severity(gate),
            observed=value / base - 1,
            allowed=limit,
            message=describe(base, value, limit, p),
        )
    ]


def _cost_increase_p(costs: Sequence[tuple[float, float]], per_case: float) -> float:
    """One-sided paired sign-flip p-value that cases cost more now than in the baseline, on
    differences relative to the baseline's cost per case (so they are not all below the
    permutation test's grid tolerance); 1.0 without pairs."""
    diffs = [(before - now) / per_case for now, before in costs]
    return stats.sign_flip_test(diffs) if diffs else 1.0


def error_budget_alert(ops: OpsFigures, thresholds: Thresholds) -> list[Alert]:
    """More failed calls than the budget: the run could not be evaluated (verdict `error`)."""
    if ops.error_rate <= thresholds.max_error_rate:
        return []
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(ops.errors_by_kind.items()))
    return [
        Alert(
            layer="ops",
            metric="error_budget",
            gate="max_error_rate",
            observed=ops.error_rate,
            allowed=thresholds.max_error_rate,
            message=(
                f"could not evaluate: {ops.error_rate:.1%} of calls failed ({kinds}), above the "
                f"{thresholds.max_error_rate:.1%} error budget"
            ),
        )
    ]


def model_alerts(now: str | None, before: str | None, policy: Policy) -> list[Alert]:
    if before is None or now is None or now == before:
        return []
    return [
        Alert(
            layer="model",
            metric="served_model",
            gate="model_change",
            severity=policy.severity("model_change"),
            message=f"the served model changed: {before} -> {now}",
        )
    ]


def prompt_alerts(now: str, before: str, policy: Policy) -> list[Alert]:
    """A changed prompt (messages, tools, response format or prompt file) is reported like a
    changed model: the scores compare two different prompts, not one model over time."""
    if not before or now == before:
        return []
    return [
        Alert(
            layer="model",
            metric="prompt",
            gate="prompt_change",
            severity=policy.severity("prompt_change"),
            message=f"the prompt changed since the baseline (hash {before} -> {now})",
        )
    ]
