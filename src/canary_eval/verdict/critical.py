"""Critical cases: a case marked `critical: true` (a safety or compliance answer that must never
go wrong) pages by itself when it fails where its baseline passed, whatever the statistics say,
once re-runs of that case confirm it: the majority of its calls fail. A flip the re-runs do not
confirm is one noisy call, so it only warns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from canary_eval.models import Alert, CaseResult
from canary_eval.verdict.policy import Policy

PASS_SCORE = 0.5  # a call passes at this score, as in the flaky-case check
CONFIRM_CALLS = 3  # the original call and two re-runs: a majority needs two failures


@dataclass(frozen=True)
class CriticalFlip:
    """A critical case that failed this run where its baseline passed, with every call's score:
    the run's own, then its confirmation re-runs'."""

    case_id: str
    intent: str | None
    calls: tuple[float, ...]

    @property
    def failed(self) -> int:
        return sum(score < PASS_SCORE for score in self.calls)

    @property
    def confirmed(self) -> bool:
        return len(self.calls) >= CONFIRM_CALLS and 2 * self.failed > len(self.calls)

    @property
    def reruns_needed(self) -> int:
        return max(0, CONFIRM_CALLS - len(self.calls))


def critical_flips(
    pairs: Sequence[tuple[CaseResult, CaseResult]], critical: frozenset[str]
) -> tuple[CriticalFlip, ...]:
    """The critical cases among the (current, baseline) pairs that fail now and passed before.

    Only scored, unchanged, unquarantined pairs count: an errored call is the error budget's
    business, and a case whose content changed has no baseline to have passed."""
    flips = []
    for now, before in pairs:
        if now.id not in critical or now.score is None or before.score is None:
            continue
        if now.score < PASS_SCORE <= before.score:
            flips.append(CriticalFlip(now.id, now.intent, now.samples or (now.score,)))
    return tuple(flips)


def confirm(
    flips: Sequence[CriticalFlip], reruns: Sequence[CaseResult]
) -> tuple[CriticalFlip, ...]:
    """Each flip with the scores of its re-runs added (a re-run that errored adds nothing)."""
    again = {c.id: c.samples or ((c.score,) if c.score is not None else ()) for c in reruns}
    return tuple(
        CriticalFlip(f.case_id, f.intent, (*f.calls, *again.get(f.case_id, ()))) for f in flips
    )


def critical_alerts(flips: Sequence[CriticalFlip], policy: Policy) -> list[Alert]:
    """A confirmed flip alerts at the `critical_case` gate's severity (page by default); an
    unconfirmed one warns at most."""
    configured = policy.severity("critical_case")
    alerts = []
    for flip in flips:
        calls = f"{flip.failed} of {len(flip.calls)} call(s) failed"
        if flip.confirmed:
            severity = configured
            message = f"critical case '{flip.case_id}' fails where its baseline passed ({calls})"
        else:
            severity = "info" if configured == "info" else "warn"
            message = (
                f"critical case '{flip.case_id}' failed once where its baseline passed, "
                f"not confirmed by re-runs ({calls})"
            )
        alerts.append(
            Alert(
                layer="quality",
                metric="critical_case",
                message=message,
                severity=severity,
                intent=flip.intent,
                observed=flip.failed / len(flip.calls),
                allowed=0.5,
                gate="critical_case",
            )
        )
    return alerts
