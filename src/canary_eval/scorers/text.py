"""Text scorers that check a string exactly: `exact`, the `contains` family, `starts_with`, `regex`.

Normalisation follows the SQuAD v1.1 evaluation script (lower case, punctuation and the articles
a/an/the removed, whitespace collapsed). With `numbers: true` (the default) numbers are first
put in canonical form ("1,000.50" = "1000.5", "$5" = "5", "three" = "3") and a decimal point
between digits survives; with `numbers: false` the normalisation is exactly SQuAD's on ASCII
text. Beyond ASCII, Unicode punctuation (guillemets, CJK full stops and commas, ¿) is removed
like ASCII punctuation (SQuAD removes only ASCII's), so "«Bonjour»" matches "bonjour".
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from canary_eval.models import Score
from canary_eval.scorers.numbers import canonicalise_numbers
from canary_eval.scorers.registry import ParamError, ScoreFn, ScoreInput, scorer

_ASCII_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
TEXT_OR_LIST = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}


def normalise(text: str, *, numbers: bool = True) -> str:
    """SQuAD's answer normalisation, optionally after number canonicalisation."""
    return _normalised(text, numbers)


@lru_cache(maxsize=4096)  # references repeat: every repeat, and every case that shares one
def _normalised(text: str, numbers: bool) -> str:
    text = text.lower()
    if numbers:
        text = canonicalise_numbers(text)
        # A decimal point survives, so 3.5 and 35 stay different numbers.
        pieces = _split_at_decimal_points(text)
    else:
        pieces = [text]
    kept = ".".join(_without_punctuation(piece) for piece in pieces)
    return " ".join(_ARTICLES.sub(" ", kept).split())


def _split_at_decimal_points(text: str) -> list[str]:
    pieces, start, i = [], 0, text.find(".")
    while i != -1:
        if 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            pieces.append(text[start:i])
            start = i + 1
        i = text.find(".", i + 1)
    pieces.append(text[start:])
    return pieces


def _without_punctuation(text: str) -> str:
    text = _ASCII_PUNCTUATION.sub("", text)
    if text.isascii():
        return text
    for mark in {ch for ch in set(text) if ch > "\x7f" and unicodedata.category(ch)[0] == "P"}:
        text = text.replace(mark, "")
    return text


def fold(text: str) -> str:
    """Case-folded, whitespace collapsed: how the `contains` family compares text."""
    return " ".join(text.casefold().split())


def targets(value: str | Sequence[str] | None, item: ScoreInput) -> tuple[str, ...]:
    """The strings to compare with: the configured `value`, else the case's references."""
    if value is None:
        return item.references
    return (value,) if isinstance(value, str) else tuple(value)


def no_reference() -> Score:
    return Score(0.0, False, "no reference", invalid=True)


def _quote(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


@scorer("exact", params={"value": TEXT_OR_LIST, "numbers": {"type": "boolean"}})
def exact(value: str | list[str] | None = None, numbers: bool = True) -> ScoreFn:
    """1 when the normalised output equals a normalised reference (any of several)."""

    def score(item: ScoreInput) -> Score:
        refs = targets(value, item)
        if not refs:
            return no_reference()
        got = normalise(item.output, numbers=numbers)
        for i, ref in enumerate(refs):
            if got == normalise(ref, numbers=numbers):
                which = f" {i + 1} of {len(refs)}" if len(refs) > 1 else ""
                return Score(1.0, True, f"matches reference{which}")
        return Score(0.0, False, f"{_quote(got)} matches no reference")

    return score


def _contains_family(value: str | list[str] | None, case_sensitive: bool, mode: str) -> ScoreFn:
    def prepare(text: str) -> str:
        return " ".join(text.split()) if case_sensitive else fold(text)

    def score(item: ScoreInput) -> Score:
        wanted = [w for w in targets(value, item) if w.strip()]
        if not wanted:
            return no_reference() if value is None else Score(1.0, True, "nothing to look for")
        haystack = prepare(item.output)
        hits = [w for w in wanted if prepare(w) in haystack]
        missing = [w for w in wanted if w not in hits]
        if mode == "all":
            ratio = len(hits) / len(wanted)
            why = "all found" if not missing else "missing " + ", ".join(map(_quote, missing))
            return Score(ratio, not missing, why)
        if mode == "any":
            why = (
                f"found {_quote(hits[0])}" if hits else "none of " + ", ".join(map(_quote, wanted))
            )
            return Score(float(bool(hits)), bool(hits), why)
        why = "none found" if not hits else "found " + ", ".join(map(_quote, hits))
        return Score(float(not hits), not hits, why)

    return score


_CONTAINS_PARAMS = {"value": TEXT_OR_LIST, "case_sensitive": {"type": "boolean"}}


@scorer("contains", params=_CONTAINS_PARAMS)
def contains(value: str | list[str] | None = None, case_sensitive: bool = False) -> ScoreFn:
    """The output contains `value` (every one, if a list), or the reference when no value."""
    return _contains_family(value, case_sensitive, "all")


@scorer("contains_all", params=_CONTAINS_PARAMS, required=["value"])
def contains_all(value: str | list[str], case_sensitive: bool = False) -> ScoreFn:
    """The share of the values found in the output; passes when all are."""
    return _contains_family(value, case_sensitive, "all")


@scorer("contains_any", params=_CONTAINS_PARAMS, required=["value"])
def contains_any(value: str | list[str], case_sensitive: bool = False) -> ScoreFn:
    """1 when at least one of the values is in the output."""
    return _contains_family(value, case_sensitive, "any")


@scorer("not_contains", params=_CONTAINS_PARAMS, required=["value"])
def not_contains(value: str | list[str], case_sensitive: bool = False) -> ScoreFn:
    """1 when none of the values is in the output (a banned phrase, a leaked secret...)."""
    return _contains_family(value, case_sensitive, "none")


@scorer("starts_with", params=_CONTAINS_PARAMS)
def starts_with(value: str | list[str] | None = None, case_sensitive: bool = False) -> ScoreFn:
    """The output, leading whitespace ignored, starts with one of the values (or references)."""

    def prepare(text: str) -> str:
        return " ".join(text.split()) if case_sensitive else fold(text)

    def score(item: ScoreInput) -> Score:
        wanted = [w for w in targets(value, item) if w.strip()]
        if not wanted:
            return no_reference()
        head = prepare(item.output)
        for w in wanted:
            if head.startswith(prepare(w)):
                return Score(1.0, True, f"starts with {_quote(w)}")
        return Score(0.0, False, f"starts with {_quote(head)}")

    return score


@scorer(
    "regex",
    params={
        "pattern": {"type": "string"},
        "group": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]},
        "value": TEXT_OR_LIST,
        "ignore_case": {"type": "boolean"},
        "full_match": {"type": "boolean"},
    },
    required=["pattern"],
)
def regex(
    pattern: str,
    group: int | str | None = None,
    value: str | list[str] | None = None,
    ignore_case: bool = False,
    full_match: bool = False,
) -> ScoreFn:
    """Pass when the pattern matches; with `group`, when that group equals a value or reference.

    The extracted group is compared like `exact` (normalised, numbers canonical).
    """
    try:
        compiled = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise ParamError("pattern", f"invalid regular expression: {exc}") from exc
    if isinstance(group, int) and group > compiled.groups:
        raise ParamError("group", f"pattern has {compiled.groups} group(s), not {group}")
    if isinstance(group, str) and group not in compiled.groupindex:
        raise ParamError("group", f"pattern has no group named {group!r}")

    def score(item: ScoreInput) -> Score:
        text = item.output.strip() if full_match else item.output
        m = compiled.fullmatch(text) if full_match else compiled.search(text)
        if m is None:
            return Score(0.0, False, f"no match for /{pattern}/")
        if group is None:
            return Score(1.0, True, f"matched {_quote(m[0])}")
        got = m[group] or ""
        refs = targets(value, item)
        if not refs:
            return no_reference()
        if any(normalise(got) == normalise(r) for r in refs):
            return Score(1.0, True, f"group {group} = {_quote(got)}")
        return Score(0.0, False, f"group {group} = {_quote(got)}, expected {_quote(refs[0])}")

    return score
