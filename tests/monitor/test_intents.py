"""The intent classifier: trained at start on the canary set and extra labelled files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from canary_eval.errors import ConfigError
from canary_eval.monitor.intents import (
    OTHER,
    IntentTagger,
    LabelledExamples,
    load_examples,
    normalise,
    train_intent_classifier,
)
from canary_eval.monitor.learn import stratified_kfold

from .conftest import NEW_TOPIC, TEMPLATES, fill, write_evalset


def test_the_canary_sets_cases_and_extra_files_become_training_pairs(tmp_path: Path) -> None:
    evalset = write_evalset(tmp_path)
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"input": "Is my crypto wallet safe?", "intent": "crypto"}) + "\n")
    csv_extra = tmp_path / "extra.csv"
    csv_extra.write_text("input,intent\nBitcoin fees?,crypto\n")
    examples = load_examples(evalset, [extra, csv_extra])
    assert len(examples.canary_texts) == 60
    assert len(examples.texts) == 62
    assert examples.intents[-2:] == ("crypto", "crypto")
    assert set(examples.canary_intents) == set(TEMPLATES)


def test_a_bad_extra_examples_file_is_a_config_error_naming_the_line(tmp_path: Path) -> None:
    extra = tmp_path / "extra.jsonl"
    extra.write_text('{"input": "a", "intent": "b"}\n{"input": "no intent"}\n')
    with pytest.raises(ConfigError) as caught:
        load_examples(None, [extra])
    assert caught.value.line == 2


def _examples(seed: int = 0) -> LabelledExamples:
    rng = random.Random(seed)
    texts, intents = [], []
    for intent, templates in TEMPLATES.items():
        for template in templates * 2:
            texts.append(fill(template, rng))
            intents.append(intent)
    return LabelledExamples(tuple(texts), tuple(intents))


def test_the_classifier_reports_cross_validated_accuracy_and_tags_new_inputs() -> None:
    classifier, report = train_intent_classifier(_examples(), min_confidence=0.5)
    assert classifier is not None
    assert report.trained
    assert report.cv_folds == 5
    assert report.cv_accuracy is not None
    assert report.cv_accuracy > 0.8
    rng = random.Random(1)
    held_out = [(fill(t, rng), intent) for intent, ts in TEMPLATES.items() for t in ts]
    predicted = classifier.predict([text for text, _ in held_out])
    correct = sum(p == intent for p, (_, intent) in zip(predicted, held_out, strict=True))
    assert correct / len(held_out) > 0.9


def test_inputs_the_classifier_is_unsure_about_become_other() -> None:
    classifier, _ = train_intent_classifier(_examples(), min_confidence=0.5)
    assert classifier is not None
    assert classifier.predict(NEW_TOPIC).count(OTHER) >= len(NEW_TOPIC) - 1
    strict, _ = train_intent_classifier(_examples(), min_confidence=0.99)
    assert strict is not None
    assert set(strict.predict(["Where is my package, order 1?"])) == {OTHER}


def test_without_two_intents_there_is_no_classifier_and_everything_is_other() -> None:
    classifier, report = train_intent_classifier(LabelledExamples(("a b",), ("x",)))
    assert classifier is None
    assert not report.trained
    tagger = IntentTagger(None)
    assert tagger(["anything"]) == [OTHER]
    assert (tagger.tagged, tagger.other) == (1, 1)


def test_examples_without_a_single_word_train_no_classifier_rather_than_fail() -> None:
    # Words are runs of two or more letters or digits: "?", "a" and "1" carry none.
    examples = LabelledExamples(("?", "a", "1", "!"), ("x", "y", "x", "y"))
    classifier, report = train_intent_classifier(examples)
    assert classifier is None
    assert not report.trained


def test_a_fold_without_a_word_to_learn_from_counts_as_all_wrong() -> None:
    # Only two of the twelve examples have words; when both fall in one fold's test part, that
    # fold's training part has no vocabulary at all.
    texts = (
        "billing question",
        "shipping question",
        *["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"],
    )
    intents = ("x", "y") + ("x", "y") * 5
    folds = stratified_kfold(list(intents), 5, seed=2)
    assert any({0, 1} <= set(test) for _, test in folds)  # seed 2 puts both in one test part
    classifier, report = train_intent_classifier(LabelledExamples(texts, intents), seed=2)
    assert classifier is not None
    assert report.cv_accuracy is not None  # that fold scores 0, the mean of five at most 4/5
    assert report.cv_accuracy <= 4 / 5


def test_the_tagger_classifies_each_normalised_input_once() -> None:
    calls: list[list[str]] = []

    class Spy:
        def predict(self, texts: list[str]) -> list[str]:
            calls.append(list(texts))
            return ["shipping"] * len(texts)

    tagger = IntentTagger(Spy())  # type: ignore[arg-type]
    out = tagger(["Where is order 123?", "where is order 999?", "Where is order 5?"])
    out += tagger(["WHERE IS ORDER 42?"], count=False)
    assert out == ["shipping"] * 4
    assert calls == [["where is order 0?"]]
    assert tagger.tagged == 3


def test_normalise_folds_case_and_digit_runs() -> None:
    assert normalise("Order #48213 FAILED 2x") == "order #0 failed 0x"
