"""Lexical scorers on any script: Unicode words, CJK characters one by one, rouge-score's
tokens on request; German, French and CJK answers score what a reader would expect."""

from __future__ import annotations

import pytest
from rouge_score import rouge_scorer

from canary_eval.scorers.overlap import f1, rouge_l
from canary_eval.scorers.similarity import tfidf_similarities
from canary_eval.scorers.tokens import rouge_score_tokens, words

from .conftest import score

GERMAN = ("Über die Gebühr: 5 €", "Die Gebühr beträgt 5 €")
CHINESE = ("退款将在三个工作日内到账。", "退款会在三个工作日内到账")


def test_words_keep_letters_whole_and_split_cjk_into_characters() -> None:
    assert words("Über die Gebühr: 5 €") == ["über", "die", "gebühr", "5"]
    assert words("L'été à Köln") == ["l", "été", "à", "köln"]
    assert words("STRASSE Straße") == ["strasse", "strasse"]  # case folding
    assert words("\uff21\uff22\uff23\uff11\uff12") == ["abc12"]  # full width ABC12, NFKC
    assert words("東京タワーへ") == ["東", "京", "タ", "ワ", "ー", "へ"]
    assert words("서울 특별시") == ["서울", "특별시"]  # Hangul has spaces: words


def test_rouge_l_is_rouge_scores_on_ascii_and_deliberately_keeps_other_letters() -> None:
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    ascii_pair = ("The refund arrives in 3 days", "Refunds arrive within 3 business days")
    expected = scorer.score(ascii_pair[1], ascii_pair[0])["rougeL"].fmeasure
    assert rouge_l(*ascii_pair) == pytest.approx(expected, abs=1e-9)
    # rouge-score deletes non-ASCII letters ("Gebühr" -> "geb", "hr"): 0.7273 on this pair.
    package = scorer.score(GERMAN[1], GERMAN[0])["rougeL"].fmeasure
    assert rouge_score_tokens(GERMAN[0]) == ["ber", "die", "geb", "hr", "5"]
    assert rouge_l(*GERMAN, rouge_score_tokens) == pytest.approx(package, abs=1e-9)
    assert rouge_l(*GERMAN) == pytest.approx(0.75)  # die, gebühr, 5 of four words each
    assert score("rouge_l", *GERMAN, tokenizer="rouge-score").value == pytest.approx(package)
    assert scorer.score(CHINESE[1], CHINESE[0])["rougeL"].fmeasure == 0.0  # no tokens at all


def test_cjk_answers_score_by_characters_with_every_lexical_scorer() -> None:
    output, reference = CHINESE
    assert f1(output, reference) == pytest.approx(11 / 12)  # 11 of 12 characters shared
    assert rouge_l(output, reference) > 0.9
    assert tfidf_similarities(output, [reference], "word")[0] > 0.5
    assert f1("完全不同的回答", reference) < 0.2


def test_unicode_punctuation_is_punctuation_for_exact_and_token_f1() -> None:
    assert score("exact", "«Bonjour !»", "bonjour").passed
    assert score("exact", "¿Dónde?", "dónde").passed
    assert f1("Die Gebühr beträgt „fünf“ Euro.", "die Gebühr beträgt fünf Euro") == 1.0
