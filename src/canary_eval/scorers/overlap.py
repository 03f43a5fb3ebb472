"""Graded lexical overlap with a reference: `token_f1`, `rouge_l` and `levenshtein`.

With several references each scorer takes the best one, as SQuAD and rouge-score do.
- `token_f1` is SQuAD v1.1's F1: multiset overlap of normalised tokens (see `text.normalise`).
- `rouge_l` is the ROUGE-L F-measure of rouge-score (no stemming): the longest common
  subsequence of tokens. Tokens are Unicode words (`tokens.words`): on ASCII text exactly
  rouge-score's, so the scores are too; elsewhere they keep the letters rouge-score deletes.
  `tokenizer: rouge-score` reproduces rouge-score on any text.
- `levenshtein` is 1 - edit distance / length of the longer string, on case-folded text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Sequence

from canary_eval.models import Score
from canary_eval.scorers.registry import ScoreFn, ScoreInput, scorer
from canary_eval.scorers.text import TEXT_OR_LIST, fold, no_reference, normalise, targets
from canary_eval.scorers.tokens import rouge_score_tokens, split_cjk, words

THRESHOLD = {"type": "number", "minimum": 0, "maximum": 1}


def f1(prediction: str, reference: str, *, numbers: bool = True) -> float:
    """SQuAD v1.1 F1 between two strings (0 when either has no tokens, as in v1.1)."""
    pred = split_cjk(normalise(prediction, numbers=numbers)).split()
    gold = split_cjk(normalise(reference, numbers=numbers)).split()
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def _positions(items: Sequence[Hashable]) -> dict[Hashable, int]:
    """For each distinct item, a bit mask of where it occurs."""
    masks: dict[Hashable, int] = {}
    for i, item in enumerate(items):
        masks[item] = masks.get(item, 0) | (1 << i)
    return masks


def lcs_length(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Length of the longest common subsequence.

    Bit-parallel (Allison-Dix, Hyyrö): one big-integer step per item of `b`, so long outputs
    stay fast in pure Python.
    """
    if not a or not b:
        return 0
    masks = _positions(a)
    full = (1 << len(a)) - 1
    row = full
    for item in b:
        match = row & masks.get(item, 0)
        row = ((row + match) | (row - match)) & full
    return len(a) - row.bit_count()


def rouge_l(prediction: str, reference: str, tokenize: Callable[[str], list[str]] = words) -> float:
    """ROUGE-L F-measure, as rouge-score computes it, over `tokenize`'s tokens."""
    pred, gold = tokenize(prediction), tokenize(reference)
    if not pred or not gold:
        return 0.0
    lcs = lcs_length(gold, pred)
    precision, recall = lcs / len(pred), lcs / len(gold)
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def levenshtein(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Edit distance (insertions, deletions, substitutions of one item each).

    Myers' bit-vector algorithm in Hyyrö's form for the global distance: one big-integer step
    per item of `b`, instead of a len(a) x len(b) table.
    """
    if not a or not b:
        return len(a) + len(b)
    masks = _positions(a)
    full = (1 << len(a)) - 1
    top = 1 << (len(a) - 1)
    plus, minus, distance = full, 0, len(a)
    for item in b:
        eq = masks.get(item, 0)
        xv = eq | minus
        xh = (((eq & plus) + plus) ^ plus) | eq
        ph = (minus | ~(xh | plus)) & full
        mh = plus & xh
        if ph & top:
            distance += 1
        elif mh & top:
            distance -= 1
        ph = ((ph << 1) | 1) & full
        mh = (mh << 1) & full
        plus = (mh | ~(xv | ph)) & full
        minus = ph & xv
    return distance


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


@scorer(
    "rouge_l",
    params={
        "value": TEXT_OR_LIST,
        "threshold": THRESHOLD,
        "tokenizer": {"enum": ["unicode", "rouge-score"]},
    },
)
def rouge_l_scorer(
    value: str | list[str] | None = None, threshold: float = 0.5, tokenizer: str = "unicode"
) -> ScoreFn:
    """ROUGE-L F-measure with the best reference."""
    tokenize = rouge_score_tokens if tokenizer == "rouge-score" else words
    return _best_of(lambda p, r: rouge_l(p, r, tokenize), "ROUGE-L", value, threshold)


@scorer("levenshtein", params={"value": TEXT_OR_LIST, "threshold": THRESHOLD})
def levenshtein_scorer(value: str | list[str] | None = None, threshold: float = 0.8) -> ScoreFn:
    """Normalised edit similarity with the best reference."""
    return _best_of(similarity, "edit similarity", value, threshold)
