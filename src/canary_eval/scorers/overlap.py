"""Graded lexical overlap with a reference: `token_f1`, `rouge_l` and `levenshtein`.

With several references each scorer takes the best one, as SQuAD and rouge-score do.
- `token_f1` is SQuAD v1.1's F1: multiset overlap of normalised tokens (see `text.normalise`).
- `rouge_l` is the ROUGE-L F-measure of rouge-score (no stemming): the longest common
  subsequence of lower-cased alphanumeric tokens. Tokens are Unicode-aware, so non-Latin text is
  not dropped; on ASCII text the tokens, and so the scores, are exactly rouge-score's.
- `levenshtein` is 1 - edit distance / length of the longer string, on case-folded text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

from canary_eval.models import Score
from canary_eval.scorers.registry import ScoreFn, ScoreInput, scorer
from canary_eval.scorers.text import TEXT_OR_LIST, fold, no_reference, normalise, targets

_WORD = re.compile(r"[^\W_]+")
THRESHOLD = {"type": "number", "minimum": 0, "maximum": 1}


def f1(prediction: str, reference: str, *, numbers: bool = True) -> float:
    """SQuAD v1.1 F1 between two strings (0 when either has no tokens, as in v1.1)."""
    pred = normalise(prediction, numbers=numbers).split()
    gold = normalise(reference, numbers=numbers).split()
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def rouge_tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence, in O(len(a) * len(b)) time, O(len(b)) space."""
    row = [0] * (len(b) + 1)
    for x in a:
        prev_diag = 0
        for j, y in enumerate(b, start=1):
            above = row[j]
            row[j] = prev_diag + 1 if x == y else max(row[j - 1], above)
            prev_diag = above
    return row[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure, as rouge-score computes it."""
    pred, gold = rouge_tokens(prediction), rouge_tokens(reference)
    if not pred or not gold:
        return 0.0
    lcs = lcs_length(gold, pred)
    precision, recall = lcs / len(pred), lcs / len(gold)
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions of one character each)."""
    if len(a) < len(b):
        a, b = b, a
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        prev_diag, row[0] = row[0], i
        for j, y in enumerate(b, start=1):
            above = row[j]
            row[j] = min(above + 1, row[j - 1] + 1, prev_diag + (x != y))
            prev_diag = above
    return row[-1]


def similarity(a: str, b: str) -> float:
    """Normalised Levenshtein similarity of the case-folded strings, 1.0 for two empty ones."""
    a, b = fold(a), fold(b)
    longest = max(len(a), len(b))
    return 1.0 if longest == 0 else 1.0 - levenshtein(a, b) / longest


def _best_of(
    measure: Callable[[str, str], float],
    name: str,
    value: str | list[str] | None,
    threshold: float,
) -> ScoreFn:
    def score(item: ScoreInput) -> Score:
        refs = targets(value, item)
        if not refs:
            return no_reference()
        results = [measure(item.output, ref) for ref in refs]
        best = max(range(len(refs)), key=results.__getitem__)
        which = f" (reference {best + 1} of {len(refs)})" if len(refs) > 1 else ""
        got = results[best]
        return Score(got, got >= threshold, f"{name} {got:.2f}{which}, pass at {threshold:g}")

    return score


@scorer(
    "token_f1",
    params={"value": TEXT_OR_LIST, "threshold": THRESHOLD, "numbers": {"type": "boolean"}},
)
def token_f1(
    value: str | list[str] | None = None, threshold: float = 0.5, numbers: bool = True
) -> ScoreFn:
    """SQuAD token F1 with the best reference; `numbers: false` is SQuAD's exact definition."""
    return _best_of(lambda p, r: f1(p, r, numbers=numbers), "token F1", value, threshold)


@scorer("rouge_l", params={"value": TEXT_OR_LIST, "threshold": THRESHOLD})
def rouge_l_scorer(value: str | list[str] | None = None, threshold: float = 0.5) -> ScoreFn:
    """ROUGE-L F-measure with the best reference."""
    return _best_of(rouge_l, "ROUGE-L", value, threshold)


@scorer("levenshtein", params={"value": TEXT_OR_LIST, "threshold": THRESHOLD})
def levenshtein_scorer(value: str | list[str] | None = None, threshold: float = 0.8) -> ScoreFn:
    """Normalised edit similarity with the best reference."""
    return _best_of(similarity, "edit similarity", value, threshold)
