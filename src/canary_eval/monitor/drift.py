"""Input drift: has production moved away from the reference window and from the canary set?

* Domain classifier: a linear model on TF-IDF features learns to tell reference inputs from
  current ones; its ROC AUC on held-out inputs is tested against the permutation null. The
  classifier never saw the held-out inputs, so under "no drift" their labels are exchangeable
  given the scores: shuffling them gives an exact null without refitting. That null is the
  Mann-Whitney distribution of the AUC, so the p-value comes from it (exact for small samples,
  its tie-corrected normal limit beyond) rather than from 1,000 draws whose smallest p-value,
  0.001, would be too coarse for a Holm-corrected pass.
* Intent mix: chi-square test and population stability index over intent shares.
* Input length: two-sample Kolmogorov-Smirnov over every call's input length.
* Coverage (canary_eval.monitor.coverage): does the canary set still represent production?
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from canary_eval.models import Alert
from canary_eval.monitor.config import DriftThresholds
from canary_eval.monitor.coverage import Coverage, coverage_tests
from canary_eval.monitor.gates import GateTest
from canary_eval.monitor.text import tfidf
from canary_eval.verdict.twosample import (
    average_ranks,
    chi2_contingency,
    ks_2samp_p,
    mann_whitney_p,
)

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
class DriftFigures:
    domain: DomainTest | None
    intent_mix: MixShift | None
    length: LengthShift | None
    coverage: Coverage | None


def auc_from_scores(labels: Any, scores: Any) -> float:
    """ROC AUC as the Mann-Whitney statistic over average ranks (ties count half)."""
    labels = np.asarray(labels, dtype=bool)
    return float(_aucs(labels, average_ranks(scores)[0], int(labels.sum())))


def _aucs(labels: Any, ranks: Any, n1: int) -> Any:
    """The AUC of each row of boolean `labels`, every row with n1 positives, over `ranks`."""
    n0 = labels.shape[-1] - n1
    return (labels @ ranks - n1 * (n1 + 1) / 2) / (n1 * n0)


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
    from canary_eval.monitor.learn import LogisticRegression, stratified_split

    rng = np.random.default_rng(seed)
    n = min(len(reference), len(current))
    if n < 20:
        return None
    ref = [reference[i] for i in rng.choice(len(reference), n, replace=False)]
    cur = [current[i] for i in rng.choice(len(current), n, replace=False)]
    labels = np.array([0] * n + [1] * n)
    texts = ref + cur
    train, test = stratified_split(labels, test_size=0.5, seed=seed)
    train_x, test_x = [texts[i] for i in train], [texts[i] for i in test]
    train_y, test_y = labels[train], labels[test]
    vectorizer = tfidf(ngram_range=(1, 2), sublinear_tf=True, max_features=50_000)
    try:
        features = vectorizer.fit_transform(train_x)
    except ValueError:  # no usable token at all: nothing to tell apart
        scores = np.zeros(len(test_y))
    else:
        model = LogisticRegression(C=1.0, max_iter=1000)
        scores = model.fit(features, train_y).decision_function(vectorizer.transform(test_x))
    ranks, _ = average_ranks(scores)
    observed = test_y.astype(bool)
    n1 = int(observed.sum())
    auc = float(_aucs(observed, ranks, n1))
    null = _aucs(rng.permuted(np.tile(observed, (permutations, 1)), axis=1), ranks, n1)
    current_scores, reference_scores = scores[test_y == 1], scores[test_y == 0]
    p_value = mann_whitney_p(current_scores, reference_scores, alternative="greater")
    return DomainTest(
        auc=auc,
        null_quantile=float(np.quantile(null, 1 - alpha)),
        p_value=p_value,
        n_reference=n,
        n_current=n,
        labels=tuple(int(v) for v in test_y),
        scores=tuple(float(v) for v in scores),
    )


def intent_mix_shift(reference: Mapping[str, int], current: Mapping[str, int]) -> MixShift | None:
    names = sorted(k for k in set(reference) | set(current) if reference.get(k) or current.get(k))
    ref = np.array([reference.get(k, 0) for k in names], dtype=float)
    cur = np.array([current.get(k, 0) for k in names], dtype=float)
    if len(names) < 2 or not ref.sum() or not cur.sum():
        return None
    chi2, p = chi2_contingency(np.vstack([ref, cur]))
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


Histogram = tuple[Any, Any]  # distinct values, and how many calls had each


def length_shift(reference: Histogram, current: Histogram) -> LengthShift | None:
    """The two-sample Kolmogorov-Smirnov test on every call's input length, from the windows'
    histograms: the statistic and p-value of scipy's `ks_2samp` on the calls themselves,
    without expanding millions of them (exact up to 10,000 calls a side; beyond, Smirnov's
    asymptotic form, as `ks_2samp` uses there)."""
    (ref_values, ref_counts), (cur_values, cur_counts) = reference, current
    n1, n2 = int(np.sum(ref_counts)), int(np.sum(cur_counts))
    if not n1 or not n2:
        return None
    means = float(np.dot(ref_values, ref_counts) / n1), float(np.dot(cur_values, cur_counts) / n2)
    values = np.union1d(ref_values, cur_values)
    cdfs = []
    for own, counts, calls in ((ref_values, ref_counts, n1), (cur_values, cur_counts, n2)):
        spread = np.zeros(len(values))
        spread[np.searchsorted(values, own)] = counts
        cdfs.append(np.cumsum(spread) / calls)
    d, p = ks_2samp_p(float(np.max(np.abs(cdfs[0] - cdfs[1]))), n1, n2)
    return LengthShift(d, p, *means)


def drift_tests(
    figures: DriftFigures, traffic: Mapping[str, int], t: DriftThresholds
) -> list[GateTest]:
    """The tests of every `drift` gate that is on; `traffic` is current calls per intent."""
    tests: list[GateTest] = []
    domain = figures.domain
    if domain is not None and (t.auc_alpha is not None or t.min_auc is not None):
        alert = None
        if t.min_auc is None or domain.auc >= t.min_auc:
            allowed = t.min_auc if t.min_auc is not None else domain.null_quantile
            alert = Alert(
                layer="drift",
                metric="domain_auc",
                message=(
                    f"current inputs can be told from the reference window's: domain "
                    f"classifier AUC {domain.auc:.3f} (allowed {allowed:.3f}, chance 0.5"
                ),
                observed=round(domain.auc, 6),
                allowed=round(allowed, 6),
            )
        tests.append(GateTest(None, domain.p_value, alert, t.auc_alpha or t.alpha))
    mix = figures.intent_mix
    if mix is not None and t.max_psi is not None:
        alert = None
        if mix.psi > t.max_psi:
            moved = max(mix.current, key=lambda k: abs(mix.current[k] - mix.reference.get(k, 0.0)))
            alert = Alert(
                layer="drift",
                metric="intent_mix_psi",
                message=(
                    f"the intent mix shifted: PSI {mix.psi:.3f} (most moved: {moved} "
                    f"{mix.reference.get(moved, 0.0):.1%} -> {mix.current[moved]:.1%}; "
                    f"allowed {t.max_psi:g}, chi-square"
                ),
                observed=round(mix.psi, 6),
                allowed=t.max_psi,
            )
        tests.append(GateTest(None, mix.p_value, alert, t.alpha))
    length = figures.length
    if length is not None and t.max_length_ks is not None:
        alert = None
        if length.ks > t.max_length_ks:
            alert = Alert(
                layer="drift",
                metric="input_length_ks",
                message=(
                    f"input lengths shifted: mean {length.reference_mean:.0f} -> "
                    f"{length.current_mean:.0f} characters (KS {length.ks:.3f}, allowed "
                    f"{t.max_length_ks:g}"
                ),
                observed=round(length.ks, 6),
                allowed=t.max_length_ks,
            )
        tests.append(GateTest(None, length.p_value, alert, t.alpha))
    return tests + coverage_tests(figures.coverage, traffic, t)
