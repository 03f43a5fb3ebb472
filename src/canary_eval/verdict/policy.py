"""The paging policy: which gate's breach pages on-call, which only warns, which only informs.

Only `page` alerts decide exit 1 (and trigger PagerDuty); `warn` alerts go to the reports and to
chat with exit 0; `info` alerts are shown. Quality (overall and per intent) pages by
default; behaviour, operations and a served-model change warn or inform. The suite config
overrides any gate: `alerting: {severity: {max_p95_latency_increase: page}}`. A blown error budget
is not a gate of this policy: it always decides the `error` verdict (exit 3).
"""

from __future__ import annotations

from dataclasses import dataclass

from canary_eval.models import Severity
from canary_eval.suite.config import Alerting, Thresholds


@dataclass(frozen=True)
class Gate:
    """One gate of a canary run as the policy knows it."""

    name: str  # the key it is configured and overridden by
    layer: str
    default: Severity
    what: str


GATES: tuple[Gate, ...] = (
    Gate("max_relative_drop", "quality", "page", "overall canary score"),
    Gate("per_intent", "intent", "page", "canary score per intent (Holm-corrected)"),
    Gate("critical_case", "quality", "page", "a critical case failing, confirmed by re-runs"),
    Gate("max_length_increase", "behaviour", "warn", "mean output length, relative"),
    Gate("max_refusal_rate_increase", "behaviour", "warn", "refusal rate, absolute"),
    Gate("max_hedging_rate_increase", "behaviour", "warn", "hedged-answer rate, absolute"),
    Gate("max_format_failure_increase", "behaviour", "warn", "malformed structured outputs"),
    Gate("max_tool_call_rate_change", "behaviour", "warn", "answers calling a tool, either way"),
    Gate("max_wrong_tool_rate_increase", "behaviour", "warn", "calls of a tool not expected"),
    Gate("max_p95_latency_increase", "ops", "warn", "p95 latency: relative, floor, bootstrap test"),
    Gate("max_cost_per_case_increase", "ops", "warn", "cost per case: relative, floor, paired"),
    Gate("max_error_rate_increase", "ops", "warn", "error rate, absolute"),
    Gate("model_change", "model", "info", "the served model or fingerprint changed"),
    Gate("prompt_change", "model", "info", "the prompt, its tools or its prompt file changed"),
)
GATE_NAMES = tuple(g.name for g in GATES)


@dataclass(frozen=True)
class Policy:
    """The effective severity of every gate: the defaults, `fail_on_model_change` and
    `fail_on_prompt_change`, then the config's `alerting.severity` overrides, in that order."""

    thresholds: Thresholds
    alerting: Alerting

    def severity(self, gate: str) -> Severity:
        configured = self.alerting.severity.get(gate)
        if configured is not None:
            return configured
        if gate == "model_change" and self.thresholds.fail_on_model_change:
            return "page"
        if gate == "prompt_change" and self.thresholds.fail_on_prompt_change:
            return "page"
        return next(g.default for g in GATES if g.name == gate)

    def effective(self) -> list[tuple[Gate, str, Severity]]:
        """Every gate with its setting and the severity it has under this config."""
        return [(g, self.setting(g.name), self.severity(g.name)) for g in GATES]

    def setting(self, gate: str) -> str:
        """The gate's configured limit as the config would spell it; `off` when unset."""
        t = self.thresholds
        if gate == "per_intent":
            limit = t.per_intent.max_relative_drop
            return "off" if limit is None else f"{limit:g} (min_cases {t.per_intent.min_cases})"
        if gate == "critical_case":
            return "on"  # cases opt in with `critical: true`
        if gate in ("model_change", "prompt_change"):
            name = f"fail_on_{gate}"
            return f"{name} {str(getattr(t, name)).lower()}"
        value = getattr(t, gate)
        return "off" if value is None else f"{value:g}"
