"""Figures of one run on their own: operational (latency, cost, errors, rate limits, fallback),
behaviour (length, refusals, hedging) and the served model versions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from canary_eval.models import CaseResult, RunResult, Usage


@dataclass(frozen=True)
class OpsFigures:
    cases: int
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    input_tokens: int
    output_tokens: int
    cost_usd: float
    cost_per_case_usd: float
    retries: int
    rate_limited: int
    error_rate: float
    errors_by_kind: Mapping[str, int] = field(default_factory=dict)
    fallback_share: float = 0.0
    cached_input_tokens: int = 0  # part of input_tokens
    reasoning_tokens: int = 0  # part of output_tokens


@dataclass(frozen=True)
class BehaviourFigures:
    answered: int
    mean_chars: float
    mean_words: float
    refusals: int
    hedged: int
    hedges_per_100_words: float
    format_checked: int = 0  # outputs of cases that ask for a format (JSON)
    format_failures: int = 0
    tool_calling: int = 0  # outputs with at least one tool call
    tool_expected: int = 0  # outputs of cases that expect a tool
    wrong_tool: int = 0  # ... that called a tool they do not expect

    @property
    def refusal_rate(self) -> float:
        return self.refusals / self.answered if self.answered else 0.0

    @property
    def hedging_rate(self) -> float:
        return self.hedged / self.answered if self.answered else 0.0

    @property
    def format_failure_rate(self) -> float:
        return self.format_failures / self.format_checked if self.format_checked else 0.0

    @property
    def tool_call_rate(self) -> float:
        return self.tool_calling / self.answered if self.answered else 0.0

    @property
    def wrong_tool_rate(self) -> float:
        return self.wrong_tool / self.tool_expected if self.tool_expected else 0.0


def percentile(values: Iterable[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), 0.0 for no values."""
    data = sorted(values)
    if not data:
        return 0.0
    position = (len(data) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (position - low)


def cost_usd(usage: Usage, pricing: Mapping[str, float]) -> float:
    """What one answer cost: cache reads and writes at their own price where one is set."""
    price_in = pricing.get("input_per_mtok", 0.0)
    cached = usage.cached_input_tokens * pricing.get("cached_input_per_mtok", price_in)
    written = usage.cache_write_tokens * pricing.get("cache_write_per_mtok", price_in)
    uncached = max(0, usage.input_tokens - usage.cached_input_tokens - usage.cache_write_tokens)
    output = usage.output_tokens * pricing.get("output_per_mtok", 0.0)
    return (uncached * price_in + cached + written + output) / 1e6


def call_cost_usd(case: CaseResult, pricing: Mapping[str, float]) -> float:
    """What one answered call of the case cost: its usage spans every `--repeat` sample."""
    return cost_usd(case.usage, pricing) / max(1, len(case.samples))


def ops_figures(run: RunResult) -> OpsFigures:
    cases = run.cases
    answered = [c for c in cases if c.error is None]
    latencies = [c.latency_ms for c in answered]
    tokens_in = sum(c.usage.input_tokens for c in cases)
    tokens_out = sum(c.usage.output_tokens for c in cases)
    cost = sum(cost_usd(c.usage, run.info.pricing) for c in cases)
    n = len(cases)
    # Per answered call: a run with --repeat costs more in all, not more per case.
    calls = sum(max(1, len(c.samples)) for c in answered)
    return OpsFigures(
        cases=n,
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        latency_p99_ms=percentile(latencies, 99),
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        cost_usd=cost,
        cost_per_case_usd=cost / calls if calls else 0.0,
        retries=sum(max(0, c.attempts - 1) for c in cases),
        rate_limited=sum(c.rate_limited for c in cases),
        error_rate=(n - len(answered)) / n if n else 0.0,
        errors_by_kind=dict(Counter(c.error.kind for c in cases if c.error)),
        fallback_share=sum(c.fallback for c in cases) / n if n else 0.0,
        cached_input_tokens=sum(c.usage.cached_input_tokens for c in cases),
        reasoning_tokens=sum(c.usage.reasoning_tokens for c in cases),
    )


def behaviour_figures(cases: Iterable[CaseResult]) -> BehaviourFigures:
    # One pass: it runs for the run, the baseline and every intent of both.
    answered = chars = words = refusals = hedged = hedges = 0
    checked = failures = calling = expected = wrong = 0
    for case in cases:
        if case.output is None:
            continue
        b = case.behaviour
        answered += 1
        chars += b.chars
        words += b.words
        refusals += b.refused
        hedged += b.hedges > 0
        hedges += b.hedges
        checked += b.format_ok is not None
        failures += b.format_ok is False
        calling += b.tool_calls > 0
        expected += b.wrong_tool is not None
        wrong += b.wrong_tool is True
    return BehaviourFigures(
        answered=answered,
        mean_chars=chars / answered if answered else 0.0,
        mean_words=words / answered if answered else 0.0,
        refusals=refusals,
        hedged=hedged,
        hedges_per_100_words=100 * hedges / words if words else 0.0,
        format_checked=checked,
        format_failures=failures,
        tool_calling=calling,
        tool_expected=expected,
        wrong_tool=wrong,
    )


def model_versions(run: RunResult) -> dict[str, int]:
    """Served model name and fingerprint -> how many answers came from it."""
    return dict(Counter(served_label(c) for c in run.cases if c.error is None).most_common())


def served_label(case: CaseResult) -> str:
    model = case.model or "unknown"
    return f"{model} ({case.fingerprint})" if case.fingerprint else model


def served_model(run: RunResult) -> str | None:
    """The majority served model of a run."""
    versions = model_versions(run)
    return next(iter(versions), None)
