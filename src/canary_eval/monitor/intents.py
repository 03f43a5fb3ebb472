"""The intent classifier: tags production inputs that arrive without an intent.

TF-IDF and logistic regression (canary_eval.monitor.learn: scikit-learn's model without importing
it), trained at start (well under a second) on the canary set's (input, intent) pairs plus
optional extra labelled files; nothing is pickled. A prediction below `min_confidence` becomes
`other`. Its stratified cross-validated accuracy is reported so a reader knows how far to trust
the per-intent figures. The tagger classifies distinct inputs in batches and caches them by
normalised text, because production repeats itself and a million one-by-one predictions would
take minutes.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from canary_eval.errors import ConfigError

if TYPE_CHECKING:
    from numpy.typing import NDArray

OTHER = "other"
_DIGITS = re.compile(r"\d+")
_CACHE_LIMIT = 200_000


def normalise(text: str) -> str:
    """Lower case with digit runs folded: order numbers carry no intent, and caching gets easy."""
    return _DIGITS.sub("0", text.lower())


@dataclass(frozen=True)
class LabelledExamples:
    """Training pairs, and which of them are canary cases (for coverage and canary shares)."""

    texts: tuple[str, ...]
    intents: tuple[str, ...]
    canary_texts: tuple[str, ...] = ()
    canary_intents: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class ClassifierReport:
    trained: bool
    examples: int
    labels: tuple[str, ...]
    cv_accuracy: float | None
    cv_folds: int
    min_confidence: float
    tagged: int = 0  # records whose intent came from the classifier
    other: int = 0  # ...of which fell below min_confidence


class TextClassifier:
    """TF-IDF over normalised words and bigrams (sublinear tf), then logistic regression (C=10):
    scikit-learn's `make_pipeline(TfidfVectorizer(preprocessor=normalise, ngram_range=(1, 2),
    sublinear_tf=True), LogisticRegression(C=10.0))`, multinomial beyond two intents."""

    def __init__(self) -> None:
        from canary_eval.monitor.learn import LogisticRegression, TfidfVectorizer, word_analyser

        analyser = word_analyser(normalise, ngram_range=(1, 2))
        self._vectoriser = TfidfVectorizer(analyser, sublinear_tf=True)
        self._model = LogisticRegression(C=10.0, max_iter=1000)

    def fit(self, texts: Sequence[str], intents: Sequence[str]) -> TextClassifier:
        self._model.fit(self._vectoriser.fit_transform(texts), intents)
        return self

    @property
    def classes_(self) -> NDArray[Any]:
        """The intents, sorted: the columns of `predict_proba`."""
        return self._model.classes_

    def predict_proba(self, texts: Sequence[str]) -> NDArray[Any]:
        return self._model.predict_proba(self._vectoriser.transform(texts))

    def accuracy(self, texts: Sequence[str], intents: Sequence[str]) -> float:
        predicted = self._model.predict(self._vectoriser.transform(texts))
        return float(sum(p == i for p, i in zip(predicted, intents, strict=True)) / len(intents))


class IntentClassifier:
    """A fitted TF-IDF + logistic-regression pipeline; predicts whole batches at once."""

    def __init__(self, pipeline: TextClassifier, min_confidence: float) -> None:
        self._pipeline = pipeline
        self._labels: list[str] = [str(c) for c in pipeline.classes_]
        self.min_confidence = min_confidence

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self._labels)

    def predict(self, texts: Sequence[str]) -> list[str]:
        if not texts:
            return []
        proba = self._pipeline.predict_proba(list(texts))
        best = proba.argmax(axis=1)
        confident = proba[range(len(best)), best] >= self.min_confidence
        return [self._labels[b] if ok else OTHER for b, ok in zip(best, confident, strict=True)]


# A process that monitors every hour (a scheduler, bench/bench_alerting_monitor.py) trains once:
# the same examples and seed give the same fit, and the fit is only read afterwards.
@lru_cache(maxsize=2)
def train_intent_classifier(
    examples: LabelledExamples, *, min_confidence: float = 0.5, seed: int = 0
) -> tuple[IntentClassifier | None, ClassifierReport]:
    """Fit on every example and cross-validate; None when fewer than two intents are known or
    no example has a word to learn from (every untagged call is then `other`).

    The accuracy is the mean over stratified folds, shuffled by `seed` (learn.stratified_kfold).
    """
    labels = tuple(sorted(set(examples.intents)))
    untrained = ClassifierReport(False, len(examples.texts), labels, None, 0, min_confidence)
    if len(labels) < 2:
        return None, untrained
    from collections import Counter

    from canary_eval.monitor.learn import stratified_kfold

    texts, intents = list(examples.texts), list(examples.intents)
    try:
        pipeline = TextClassifier().fit(texts, intents)
    except ValueError:  # an empty vocabulary: no example has a word of two letters
        return None, untrained
    folds = min(5, min(Counter(intents).values()))
    accuracy = None
    if folds >= 2:
        scores = []
        for train, test in stratified_kfold(intents, folds, seed=seed):
            try:
                model = TextClassifier().fit([texts[i] for i in train], [intents[i] for i in train])
            except ValueError:  # this fold's training part has no word: it predicts nothing
                scores.append(0.0)
                continue
            scores.append(model.accuracy([texts[i] for i in test], [intents[i] for i in test]))
        accuracy = sum(scores) / len(scores)
    report = ClassifierReport(True, len(texts), labels, accuracy, max(folds, 0), min_confidence)
    return IntentClassifier(pipeline, min_confidence), report


class IntentTagger:
    """Tags batches of inputs through the classifier, caching by normalised text."""

    def __init__(self, classifier: IntentClassifier | None) -> None:
        self._classifier = classifier
        self._cache: dict[str, str] = {}
        self.tagged = 0
        self.other = 0

    def __call__(self, texts: Sequence[str], *, count: bool = True) -> list[str]:
        """Intents for `texts`; `count` adds them to the tagged / other tallies."""
        keys = [normalise(t) for t in texts]
        cache = self._cache
        missing = list({k: None for k in keys if k not in cache})
        if missing:
            if len(cache) + len(missing) > _CACHE_LIMIT:
                cache.clear()
            predicted = (
                self._classifier.predict(missing) if self._classifier else [OTHER] * len(missing)
            )
            cache.update(zip(missing, predicted, strict=True))
        out = [cache[k] for k in keys]
        if count:
            self.tagged += len(out)
            self.other += out.count(OTHER)
        return out

    def report(self, base: ClassifierReport) -> ClassifierReport:
        from dataclasses import replace

        return replace(base, tagged=self.tagged, other=self.other)


def load_examples(evalset: Path | None, extra: Sequence[Path]) -> LabelledExamples:
    """The canary set's cases (via canary_eval.suite.evalset) and extra labelled files, as pairs."""
    texts: list[str] = []
    intents: list[str] = []
    canary_texts: list[str] = []
    canary_intents: list[str | None] = []
    if evalset is not None:
        from canary_eval.suite.evalset import load_evalset

        for case in load_evalset(evalset).cases:
            canary_texts.append(case.input)
            canary_intents.append(case.intent)
            if case.intent:
                texts.append(case.input)
                intents.append(case.intent)
    for path in extra:
        for text, intent in _labelled_file(path):
            texts.append(text)
            intents.append(intent)
    return LabelledExamples(
        tuple(texts), tuple(intents), tuple(canary_texts), tuple(canary_intents)
    )


def _labelled_file(path: Path) -> list[tuple[str, str]]:
    """Rows with `input` and `intent` from JSONL, CSV or YAML (a list, or under examples/cases)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read labelled examples: {exc.strerror or exc}", path=path
        ) from exc
    suffix = path.suffix.lower()
    rows: list[tuple[int | None, Any]]
    if suffix in (".jsonl", ".ndjson"):
        rows = []
        for number, content in enumerate(text.splitlines(), 1):
            if content.strip():
                try:
                    rows.append((number, json.loads(content)))
                except ValueError:
                    raise ConfigError("invalid JSON", path=path, line=number) from None
    elif suffix == ".csv":
        reader = csv.DictReader(text.splitlines())
        rows = [(reader.line_num, row) for row in reader]
    elif suffix in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"invalid YAML: {exc}".splitlines()[0], path=path) from None
        if isinstance(data, dict):
            data = data.get("examples", data.get("cases"))
        if not isinstance(data, list):
            raise ConfigError("expected a list of {input, intent} examples", path=path)
        rows = [(None, row) for row in data]
    else:
        raise ConfigError("unknown labelled-examples format (use .jsonl, .csv or .yaml)", path=path)
    pairs = []
    for index, (line, row) in enumerate(rows):
        if not isinstance(row, dict) or not row.get("input") or not row.get("intent"):
            raise ConfigError(
                "each example needs a non-empty input and intent",
                path=path,
                line=line,
                key=f"examples[{index}]",
            )
        pairs.append((str(row["input"]), str(row["intent"])))
    return pairs
