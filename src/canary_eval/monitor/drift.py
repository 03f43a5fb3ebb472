"""Input drift: has production moved away from the reference window and from the canary set?

* Domain classifier: a linear model on TF-IDF features learns to tell reference inputs from
  current ones; its ROC AUC on held-out inputs is compared with the (1 - alpha) quantile of a
  permutation null. The classifier never saw the held-out inputs, so under "no drift" their
  labels are exchangeable given the scores: shuffling them gives an exact null without refitting.
* Intent mix: chi-square test and population stability index over intent shares.
* Input length: two-sample Kolmogorov-Smirnov over every call's input length.
* Coverage: the share of current inputs whose nearest canary case (TF-IDF cosine) is below a
  floor, with the terms that set those inputs apart, and intents whose share of traffic is far
  above their share of the canary set: the canary set no longer represents production.
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
from canary_eval.monitor.intents import normalise

_PSI_FLOOR = 1e-4


@dataclass(frozen=True)
class DomainTest:
    auc: float
    null_quantile: float  # (1 - alpha) quantile of the permutation null
    p_value: float
    n_reference: int
    n_current: int
    labels: tuple[int, ...] = ()  # held-out labels (1 = current) ...
    scores: tuple[float, ...] = ()  # ... and the classifier's scores on them


@dataclass(frozen=True)
class MixShift:
    chi2: float
    p_value: float
    psi: float
    reference: Mapping[str, float]  # intent -> share of calls
    current: Mapping[str, float]


@dataclass(frozen=True)
class LengthShift:
    ks: float
    p_value: float
    reference_mean: float
    current_mean: float


@dataclass(frozen=True)
class Coverage:
    floor: float
    uncovered_share: float
    reference_uncovered_share: float | None
    sampled: int
    top_terms: tuple[str, ...]
    per_intent: Mapping[str, float]  # intent -> uncovered share of its sampled inputs
    canary_share: Mapping[str, float]  # intent -> share of canary cases


@dataclass(frozen=True)
class DriftFigures:
    domain: DomainTest | None
    intent_mix: MixShift | None
    length: LengthShift | None
    coverage: Coverage | None


def auc_from_scores(labels: Any, scores: Any) -> float:
    """ROC AUC as the Mann-Whitney statistic over average ranks (ties count half)."""
    from scipy.stats import rankdata

    labels = np.asarray(labels, dtype=bool)
    ranks = rankdata(scores)
    n1 = int(labels.sum())
    n0 = labels.size - n1
    return float((ranks[labels].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def domain_classifier_test(
    reference: Sequence[str],
    current: Sequence[str],
    *,
    alpha: float = 0.05,
    permutations: int = 1000,
    seed: int = 0,
) -> DomainTest | None:
    """Can a classifier tell current inputs from reference ones better than chance?

    Balanced samples, half for fitting and half held out; None with under 20 inputs a side.
    """
    from scipy.stats import rankdata
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(seed)
    n = min(len(reference), len(current))
    if n < 20:
        return None
    ref = [reference[i] for i in rng.choice(len(reference), n, replace=False)]
    cur = [current[i] for i in rng.choice(len(current), n, replace=False)]
    labels = np.array([0] * n + [1] * n)
    train_x, test_x, train_y, test_y = train_test_split(
        ref + cur, labels, test_size=0.5, stratify=labels, random_state=seed
    )
    vectorizer = TfidfVectorizer(
        preprocessor=normalise, ngram_range=(1, 2), sublinear_tf=True, max_features=50_000
    )
    try:
        features = vectorizer.fit_transform(train_x)
    except ValueError:  # no usable token at all: nothing to tell apart
        scores = np.zeros(len(test_y))
    else:
        model = LogisticRegression(C=1.0, solver="newton-cg", max_iter=1000, random_state=seed)
        scores = model.fit(features, train_y).decision_function(vectorizer.transform(test_x))
    ranks = rankdata(scores)
    n1 = int(test_y.sum())
    n0 = test_y.size - n1
    auc = auc_from_scores(test_y, scores)
    shuffled = rng.permuted(np.tile(test_y.astype(bool), (permutations, 1)), axis=1)
    null = (shuffled @ ranks - n1 * (n1 + 1) / 2) / (n1 * n0)
    return DomainTest(
        auc=auc,
        null_quantile=float(np.quantile(null, 1 - alpha)),
        p_value=float((1 + np.count_nonzero(null >= auc - 1e-12)) / (permutations + 1)),
        n_reference=n,
        n_current=n,
        labels=tuple(int(v) for v in test_y),
        scores=tuple(float(v) for v in scores),
    )


def intent_mix_shift(reference: Mapping[str, int], current: Mapping[str, int]) -> MixShift | None:
    from scipy.stats import chi2_contingency

    names = sorted(k for k in set(reference) | set(current) if reference.get(k) or current.get(k))
    ref = np.array([reference.get(k, 0) for k in names], dtype=float)
    cur = np.array([current.get(k, 0) for k in names], dtype=float)
    if len(names) < 2 or not ref.sum() or not cur.sum():
        return None
    chi2, p, _, _ = chi2_contingency(np.vstack([ref, cur]))
    ref_share, cur_share = ref / ref.sum(), cur / cur.sum()
    r, c = np.maximum(ref_share, _PSI_FLOOR), np.maximum(cur_share, _PSI_FLOOR)
    psi = float(((c - r) * np.log(c / r)).sum())
    return MixShift(
        float(chi2),
        float(p),
        psi,
        dict(zip(names, map(float, ref_share), strict=True)),
        dict(zip(names, map(float, cur_share), strict=True)),
    )


def length_shift(reference: Any, current: Any) -> LengthShift | None:
    from scipy.stats import ks_2samp

    if not len(reference) or not len(current):
        return None
    result = ks_2samp(reference, current)
    return LengthShift(
        float(result.statistic),
        float(result.pvalue),
        float(np.mean(reference)),
        float(np.mean(current)),
    )


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
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not canary_texts or not current:
        return None
    # Fitted on production text too, so words the canary set never uses still weigh on the
    # norm of the inputs that use them; English stop words would otherwise make anything close.
    vectorizer = TfidfVectorizer(preprocessor=normalise, sublinear_tf=True, stop_words="english")
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


def drift_alerts(
    figures: DriftFigures, traffic: Mapping[str, float], t: DriftThresholds
) -> list[Alert]:
    """Alerts with layer `drift` for every configured gate."""
    alerts: list[Alert] = []
    domain = figures.domain
    if domain is not None and (t.auc_alpha is not None or t.min_auc is not None):
        beyond_null = t.auc_alpha is None or domain.p_value < t.auc_alpha
        large = t.min_auc is None or domain.auc >= t.min_auc
        if beyond_null and large:
            allowed = t.min_auc if t.min_auc is not None else domain.null_quantile
            alerts.append(
                Alert(
                    layer="drift",
                    metric="domain_auc",
                    message=(
                        f"current inputs can be told from the reference window's: domain "
                        f"classifier AUC {domain.auc:.3f} (null {1 - (t.auc_alpha or 0.05):.0%} "
                        f"quantile {domain.null_quantile:.3f}, p={domain.p_value:.3g})"
                    ),
                    observed=round(domain.auc, 6),
                    allowed=round(allowed, 6),
                )
            )
    mix = figures.intent_mix
    if mix is not None and t.max_psi is not None and mix.psi > t.max_psi and mix.p_value < t.alpha:
        moved = max(mix.current, key=lambda k: abs(mix.current[k] - mix.reference.get(k, 0.0)))
        alerts.append(
            Alert(
                layer="drift",
                metric="intent_mix_psi",
                message=(
                    f"the intent mix shifted: PSI {mix.psi:.3f} (allowed {t.max_psi:g}, "
                    f"chi-square p={mix.p_value:.3g}); most moved: {moved} "
                    f"{mix.reference.get(moved, 0.0):.1%} -> {mix.current[moved]:.1%}"
                ),
                observed=round(mix.psi, 6),
                allowed=t.max_psi,
            )
        )
    length = figures.length
    if (
        length is not None
        and t.max_length_ks is not None
        and length.ks > t.max_length_ks
        and length.p_value < t.alpha
    ):
        alerts.append(
            Alert(
                layer="drift",
                metric="input_length_ks",
                message=(
                    f"input lengths shifted: KS {length.ks:.3f} (allowed {t.max_length_ks:g}), "
                    f"mean {length.reference_mean:.0f} -> {length.current_mean:.0f} characters"
                ),
                observed=round(length.ks, 6),
                allowed=t.max_length_ks,
            )
        )
    alerts += _coverage_alerts(figures.coverage, traffic, t)
    return alerts


def _coverage_alerts(
    cov: Coverage | None, traffic: Mapping[str, float], t: DriftThresholds
) -> list[Alert]:
    if cov is None:
        return []
    alerts = []
    if t.max_uncovered_share is not None and cov.uncovered_share > t.max_uncovered_share:
        terms = ", ".join(cov.top_terms) or "none stand out"
        alerts.append(
            Alert(
                layer="drift",
                metric="uncovered_share",
                message=(
                    f"the canary set no longer represents production: {cov.uncovered_share:.1%} "
                    f"of current inputs have no canary case within cosine {cov.floor:g} (allowed "
                    f"{t.max_uncovered_share:.1%}); new topic terms: {terms}"
                ),
                observed=round(cov.uncovered_share, 6),
                allowed=t.max_uncovered_share,
            )
        )
    if t.overrepresented_ratio is not None:
        for intent, share in sorted(traffic.items()):
            canary = cov.canary_share.get(intent, 0.0)
            ratio = share / canary if canary else math.inf
            if share < t.min_share or ratio <= t.overrepresented_ratio:
                continue
            alerts.append(
                Alert(
                    layer="drift",
                    metric="intent_overrepresented",
                    message=(
                        f"the canary set no longer represents production: intent {intent} "
                        f"carries {share:.1%} of traffic but {canary:.1%} of the canary set "
                        f"(allowed ratio {t.overrepresented_ratio:g})"
                    ),
                    intent=intent,
                    observed=round(ratio, 6) if math.isfinite(ratio) else None,
                    allowed=t.overrepresented_ratio,
                )
            )
    return alerts
