"""Coverage: does the canary set still represent production?

The share of current inputs whose nearest canary case (TF-IDF cosine) is below a floor, with the
terms that set those inputs apart, and the intents whose share of traffic is far above their
share of the canary set. Both gates use exact binomial tests against what they allow, so a
handful of odd inputs in a quiet window does not alert.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from canary_eval.models import Alert
from canary_eval.monitor.config import DriftThresholds
from canary_eval.monitor.gates import GateTest
from canary_eval.monitor.intents import OTHER
from canary_eval.monitor.text import tfidf
from canary_eval.verdict.stats import binomial_excess_test


@dataclass(frozen=True)
class Coverage:
    floor: float
    uncovered_share: float
    reference_uncovered_share: float | None
    sampled: int
    top_terms: tuple[str, ...]
    per_intent: Mapping[str, float]  # intent -> uncovered share of its sampled inputs
    canary_share: Mapping[str, float]  # intent -> share of canary cases


def coverage(
    canary_texts: Sequence[str],
    canary_intents: Sequence[str | None],
    current: Sequence[str],
    current_intents: Sequence[str],
    reference: Sequence[str] = (),
    *,
    floor: float = 0.25,
    top: int = 8,
) -> Coverage | None:
    """How much of current traffic has no nearby canary case, and what it is about."""
    if not canary_texts or not current:
        return None
    # Fitted on production text too, so words the canary set never uses still weigh on the
    # norm of the inputs that use them; English stop words would otherwise make anything close.
    vectorizer = tfidf(sublinear_tf=True, stop_words="english")
    try:
        vectorizer.fit([*canary_texts, *current, *reference])
    except ValueError:
        return None
    canary = vectorizer.transform(canary_texts)

    def nearest(texts: Sequence[str]) -> tuple[Any, Any]:
        matrix = vectorizer.transform(texts)
        return matrix, np.asarray((matrix @ canary.T).max(axis=1).todense()).ravel()

    matrix, best = nearest(current)
    far = best < floor
    ref_share = float((nearest(reference)[1] < floor).mean()) if reference else None
    terms: tuple[str, ...] = ()
    if far.any():
        inside = np.asarray(matrix[far].mean(axis=0)).ravel()
        outside = np.asarray(matrix[~far].mean(axis=0)).ravel() if (~far).any() else 0.0
        lift = inside - outside
        vocabulary = vectorizer.get_feature_names_out()
        terms = tuple(str(vocabulary[i]) for i in np.argsort(-lift)[:top] if lift[i] > 0)
    per_intent: dict[str, float] = {}
    intents = np.asarray(current_intents, dtype=object)
    for name in sorted(set(current_intents)):
        chosen = intents == name
        per_intent[name] = float(far[chosen].mean())
    labelled = Counter(i for i in canary_intents if i)
    total = sum(labelled.values())
    shares = {k: v / total for k, v in sorted(labelled.items())} if total else {}
    return Coverage(floor, float(far.mean()), ref_share, len(current), terms, per_intent, shares)


def coverage_tests(
    cov: Coverage | None, traffic: Mapping[str, int], t: DriftThresholds
) -> list[GateTest]:
    """Exact binomial tests that a share is above what its gate allows, not just its estimate."""
    if cov is None:
        return []
    tests = []
    if t.max_uncovered_share is not None and cov.sampled:
        alert = None
        if cov.uncovered_share > t.max_uncovered_share:
            terms = ", ".join(cov.top_terms) or "none stand out"
            alert = Alert(
                layer="drift",
                metric="uncovered_share",
                message=(
                    f"the canary set no longer represents production: {cov.uncovered_share:.1%} "
                    f"of current inputs have no canary case within cosine {cov.floor:g}; new "
                    f"topic terms: {terms} (allowed {t.max_uncovered_share:.1%}"
                ),
                observed=round(cov.uncovered_share, 6),
                allowed=t.max_uncovered_share,
            )
        far = round(cov.uncovered_share * cov.sampled)
        p = binomial_excess_test(far, cov.sampled, t.max_uncovered_share)
        tests.append(GateTest(None, p, alert, t.alpha))
    total = sum(traffic.values())
    if t.overrepresented_ratio is None or not total:
        return tests
    for intent, calls in sorted(traffic.items()):
        if intent == OTHER:  # not an intent: what it holds is the uncovered share's business
            continue
        canary = cov.canary_share.get(intent, 0.0)
        share = calls / total
        ratio = share / canary if canary else math.inf
        # The gate allows up to `ratio` times the canary share, and any share below min_share.
        allowed_share = min(1.0, max(t.min_share, t.overrepresented_ratio * canary))
        alert = None
        if share > allowed_share:
            alert = Alert(
                layer="drift",
                metric="intent_overrepresented",
                message=(
                    f"the canary set no longer represents production: intent {intent} "
                    f"carries {share:.1%} of traffic but {canary:.1%} of the canary set "
                    f"(allowed ratio {t.overrepresented_ratio:g}"
                ),
                intent=intent,
                observed=round(ratio, 6) if math.isfinite(ratio) else None,
                allowed=t.overrepresented_ratio,
            )
        tests.append(
            GateTest(intent, binomial_excess_test(calls, total, allowed_share), alert, t.alpha)
        )
    return tests
