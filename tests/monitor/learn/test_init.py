"""The package: everything the monitor fits, without scikit-learn or scipy.stats."""

from __future__ import annotations

from imports import modules_after

USE_EVERYTHING = """
from canary_eval.monitor.intents import normalise
from canary_eval.monitor.learn import *

texts = ["where is my parcel", "refund my card", "parcel late again", "card charged twice"] * 5
labels = ["shipping", "billing"] * 10
features = TfidfVectorizer(
    word_analyser(normalise, ngram_range=(1, 2), stop_words="english"), max_features=5
).fit_transform(texts)
LogisticRegression(C=10.0).fit(features, labels).predict_proba(features)
stratified_kfold(labels, 5, seed=0), stratified_split(labels, test_size=0.5, seed=0)
"""


def test_fitting_imports_neither_scikit_learn_nor_scipy_stats_nor_scipy_optimize() -> None:
    # scikit-learn brings scipy.stats, and the two cost an hourly monitor pass about a second.
    loaded = modules_after(USE_EVERYTHING)
    assert "scipy.sparse" in loaded
    assert {"sklearn", "scipy.stats", "scipy.optimize"} & loaded == set()
