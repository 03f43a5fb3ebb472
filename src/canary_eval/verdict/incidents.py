"""One incident per cause: the alerts of a run, or of a monitor pass, grouped under the most
likely reason they fired.

On-call needs one thing to act on, not a message per gate. A run knows what changed since its
reference: the provider failing (an outage), the served model or fingerprint, the prompt, the
eval set and its scorers; a monitor pass also knows a model change seen in production and
whether its inputs drifted. Those are the candidate causes, most likely first; with none of them,
the cause is stated as unexplained, which says what was ruled out. An incident's `key` is its
identity across runs: the same key an hour later is the same incident (a reminder at most, no
new message), a different one is a changed incident.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from canary_eval.models import Alert, Severity
from canary_eval.verdict.compare import Comparison

CauseKind = Literal[
    "outage",
    "model_change",
    "prompt_change",
    "evalset_change",
    "scorer_change",
    "input_drift",
    "unexplained",
]
PAGE_ON = frozenset({"regression", "error"})


@dataclass(frozen=True)
class Cause:
    kind: CauseKind
    summary: str  # one line a person reads first
    subject: str = ""  # what tells two causes of one kind apart: the new model, a prompt hash


@dataclass(frozen=True)
class Incident:
    """The alerts of one run or pass under their causes, most likely first (never empty)."""

    source: str  # the suite, or the monitor's name
    severity: Severity  # page or warn
    causes: tuple[Cause, ...]
    alerts: tuple[Alert, ...]  # pages first, then warnings

    @property
    def cause(self) -> Cause:
        return self.causes[0]

    @property
    def key(self) -> str:
        """Its identity across runs: severity, most likely cause and the layers alerting."""
        layers = "+".join(sorted({a.layer for a in self.alerts}))
        return "/".join((self.severity, self.cause.kind, self.cause.subject, layers))

    @property
    def title(self) -> str:
        pages = sum(a.severity == "page" for a in self.alerts)
        warnings = sum(a.severity == "warn" for a in self.alerts)
        counts = ", ".join(
            f"{n} {word}{'s' if n != 1 else ''}"
            for n, word in ((pages, "page"), (warnings, "warning"))
            if n
        )
        return f"{self.source}: {self.cause.summary}" + (f" ({counts})" if counts else "")


def run_incident(comparison: Comparison, page_on: Iterable[str] = PAGE_ON) -> Incident | None:
    """The incident of a canary run; None when it has nothing to page or warn about.

    It pages when the verdict is one of `page_on` (alerts.on: regression and error by default),
    warns when only warnings fired.
    """
    c = comparison
    alerts = _notable(c.alerts)
    if c.verdict in set(page_on):
        severity: Severity = "page"
    elif alerts:
        severity = "warn"
    else:
        return None
    run, base = c.run.info, c.baseline.info
    causes: list[Cause] = []
    if c.verdict == "error":
        causes.append(
            Cause("outage", f"the provider failed: {c.ops.error_rate:.0%} of calls errored")
        )
    if c.model_changed:
        causes.append(
            Cause(
                "model_change",
                f"the served model changed: {c.baseline_model} -> {c.served_model}",
                c.served_model or "",
            )
        )
    if run.prompt_hash != base.prompt_hash:
        causes.append(
            Cause("prompt_change", "the prompt changed since the baseline", run.prompt_hash)
        )
    moved = (c.pairing.changed, c.pairing.added, c.pairing.removed)
    if run.evalset_hash != base.evalset_hash or any(moved):
        causes.append(
            Cause(
                "evalset_change",
                f"the eval set changed since the baseline ({len(moved[0])} changed, "
                f"{len(moved[1])} added, {len(moved[2])} removed cases)",
                run.evalset_hash,
            )
        )
    if run.scorers_hash != base.scorers_hash or run.judges != base.judges:
        causes.append(
            Cause(
                "scorer_change",
                "the scorers or the judge changed since the baseline",
                run.scorers_hash,
            )
        )
    if c.verdict != "error" and any(a.layer == "ops" and "error" in a.metric for a in alerts):
        causes.append(Cause("outage", "the provider's error rate rose"))
    if not causes:
        causes.append(
            Cause(
                "unexplained",
                "no change canary can see (same served model, prompt and eval set): the model "
                "may have changed behind the same name",
            )
        )
    return Incident(c.suite, severity, tuple(causes), alerts)


def monitor_incident(
    name: str, alerts: Iterable[Alert], model_change: tuple[str, str, str] | None = None
) -> Incident | None:
    """The incident of a monitor pass; `model_change` is (before, after, when) if production's
    served model changed inside the windows."""
    notable = _notable(alerts)
    if not notable:
        return None
    severity: Severity = "page" if any(a.severity == "page" for a in notable) else "warn"
    causes: list[Cause] = []
    if any(a.layer == "ops" and a.metric in ("error_rate", "rate_limited_rate") for a in notable):
        causes.append(Cause("outage", "production calls fail more often"))
    if model_change is not None:
        before, after, when = model_change
        causes.append(
            Cause(
                "model_change", f"production's model changed at {when}: {before} -> {after}", after
            )
        )
    drifted = sorted({a.metric for a in notable if a.layer == "drift"})
    if drifted:
        causes.append(Cause("input_drift", f"production inputs drifted ({', '.join(drifted)})"))
    if not causes:
        causes.append(
            Cause("unexplained", "no model change, outage or input drift seen in the logs")
        )
    return Incident(name, severity, tuple(causes), notable)


def _notable(alerts: Iterable[Alert]) -> tuple[Alert, ...]:
    """Pages, then warnings; info alerts are evidence for a cause, not something to send."""
    order: Mapping[str, int] = {"page": 0, "warn": 1}
    chosen = [a for a in alerts if a.severity in order]
    return tuple(sorted(chosen, key=lambda a: order[a.severity]))


def incident_dict(incident: Incident | None) -> dict[str, Any] | None:
    """The incident as the JSON reports and the webhook carry it."""
    if incident is None:
        return None
    return {
        "key": incident.key,
        "title": incident.title,
        "severity": incident.severity,
        "causes": [{"kind": c.kind, "summary": c.summary} for c in incident.causes],
        "alerts": len(incident.alerts),
    }
