"""Numbers in text: finding them, canonicalising them, and the `numeric` scorer.

A number may carry a sign, a currency sign ($ € £ ¥ ₹), thousands separators (`1,234,567`), a
decimal part and a percent sign. "$1,200.50", "1200.5" and "1,200.50" are the same number.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from canary_eval.models import Score
from canary_eval.scorers.registry import ScoreFn, ScoreInput, scorer

CURRENCY = "$€£¥₹"

_NUMBER = re.compile(
    r"(?<![\w.,])"  # not the tail of a word or of another number
    "(?P<sign>[-+\u2212]?)"
    rf"(?P<cur>[{CURRENCY}]?)"
    r"(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)"
    r"(?P<frac>\.\d+)?"
    r"(?P<pct>%?)"
)

_NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
)  # fmt: skip
SMALL_NUMBERS = {word: str(i) for i, word in enumerate(_NUMBER_WORDS)}
_SMALL_WORD = re.compile(r"\b(" + "|".join(SMALL_NUMBERS) + r")\b", re.IGNORECASE)
# The same on ASCII text, twice as fast. Beyond ASCII, IGNORECASE also takes the dotted capital
# and the dotless small i for i, the long s for s and the Kelvin sign for k: `_ASCII_FOLD` maps
# them back to the word's letters.
_SMALL_WORD_ASCII = re.compile(_SMALL_WORD.pattern, re.IGNORECASE | re.ASCII)
_ASCII_FOLD = str.maketrans("\u0130\u0131\u017f\u212a", "iisk")
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class Number:
    """One number found in a text, with where it was."""

    value: Decimal
    start: int
    end: int
    currency: str = ""
    percent: bool = False

    @property
    def canonical(self) -> str:
        """The number without separators, currency or trailing zeros: `$1,200.50` -> `1200.5`."""
        text = format(self.value.normalize(), "f")
        return "0" if text in ("-0", "+0") else text


def find_numbers(text: str) -> list[Number]:
    """Every number in `text`, in order."""
    found: list[Number] = []
    if not _DIGIT.search(text):  # most answers have no number; the search is 10x faster
        return found
    for m in _NUMBER.finditer(text):
        digits = m["int"].replace(",", "") + (m["frac"] or "")
        try:
            value = Decimal(digits)
        except InvalidOperation:  # pragma: no cover - the pattern only matches digits
            continue
        if m["sign"] in ("-", "\u2212"):
            value = -value
        found.append(Number(value, m.start(), m.end(), m["cur"], bool(m["pct"])))
    return found


def canonicalise_numbers(text: str, *, words: bool = True) -> str:
    """Rewrite every number in canonical form; with `words`, also "zero".."twenty" as digits."""
    if words:
        small_word = _SMALL_WORD_ASCII if text.isascii() else _SMALL_WORD
        text = small_word.sub(_digits_of_word, text)
    out: list[str] = []
    last = 0
    for number in find_numbers(text):
        out.append(text[last : number.start])
        out.append(number.canonical + ("%" if number.percent else ""))
        last = number.end
    out.append(text[last:])
    return "".join(out)


def _digits_of_word(match: re.Match[str]) -> str:
    return SMALL_NUMBERS[match[0].translate(_ASCII_FOLD).lower()]


def close(a: float, b: float, abs_tol: float, rel_tol: float) -> bool:
    return math.isclose(a, b, abs_tol=abs_tol, rel_tol=rel_tol)


@scorer(
    "numeric",
    params={
        "value": {"type": "number"},
        "abs_tol": {"type": "number", "minimum": 0},
        "rel_tol": {"type": "number", "minimum": 0},
        "pick": {"enum": ["any", "first", "last"]},
    },
)
def numeric(
    value: float | None = None,
    abs_tol: float = 0.0,
    rel_tol: float = 1e-9,
    pick: Literal["any", "first", "last"] = "any",
) -> ScoreFn:
    """Pass when a number in the output is within tolerance of the expected one.

    The expected number is `value`, else the first number of each reference. `pick` chooses
    which numbers of the output count: any of them (default), the first or the last.
    """

    def score(item: ScoreInput) -> Score:
        if value is not None:
            expected = [float(value)]
        else:
            expected = [float(ns[0].value) for r in item.references if (ns := find_numbers(r))]
            if not expected:
                return Score(0.0, False, "no numeric reference", invalid=True)
        found = [float(n.value) for n in find_numbers(item.output)]
        if not found:
            return Score(0.0, False, f"no number in output; expected {_fmt(expected[0])}")
        candidates = {"any": found, "first": found[:1], "last": found[-1:]}[pick]
        for got in candidates:
            for want in expected:
                if close(got, want, abs_tol, rel_tol):
                    return Score(1.0, True, f"{_fmt(got)} matches {_fmt(want)}")
        shown = ", ".join(_fmt(x) for x in candidates[:5])
        return Score(0.0, False, f"{shown} not within tolerance of {_fmt(expected[0])}")

    return score


def _fmt(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e15 else repr(x)
