"""The `grounded` scorer: are the output's facts supported by the reference or the case context?

Without a judge the check is lexical. It finds the output's dates, numbers and amounts, and
capitalised names, and looks each up in the sources (the references plus a `context` field):
- a date is supported by the same date, written any way ("2024-03-05", "March 5, 2024",
  "5 March 2024"; a date without a year matches any year);
- a number by the same value ("$1,200" by "1200.00", "3" by "three"), anywhere in the sources;
- a name (a run of capitalised words) by the same words, case-insensitively; common words
  ("The", "Please", "I") and a lone capitalised word that starts a sentence are not names.
The score is the share of supported facts; it passes when all are (`threshold`, default 1).
An output with no checkable facts scores 1. With a judge (its own `base_url`/`model` or the
suite's judge) and `method: auto` or `judge`, the judge lists and checks the claims instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from canary_eval.models import Score
from canary_eval.scorers.endpoint import ENDPOINT_PARAMS, endpoint_from
from canary_eval.scorers.judge import Judge
from canary_eval.scorers.numbers import canonicalise_numbers, find_numbers
from canary_eval.scorers.registry import ParamError, ScoreFn, ScoreInput, ScorerContext, scorer

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTH = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATES = [
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"),
    re.compile(rf"\b{_MONTH}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{{4}})\b)?", re.I),
    re.compile(
        rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+(?P<y>\d{{4}})\b)?", re.I
    ),
    re.compile(rf"\b{_MONTH}\s+(?P<y>\d{{4}})\b", re.I),
    re.compile(r"\b(?P<slash>\d{1,2}/\d{1,2}/\d{2,4})\b"),
]
_NAME = re.compile(r"\b[A-Z][\w'\u2019&-]*(?:[ \t]+[A-Z][\w'\u2019&-]*)*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n\s*(?:[-*•]|\d+[.)])?\s*)$")
COMMON_WORDS = frozenset((
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "because",
    "before", "both", "but", "by", "can", "could", "dear", "do", "does", "each", "every", "first",
    "for", "from", "get", "go", "good", "great", "has", "have", "he", "hello", "her", "here",
    "hey", "hi", "his", "how", "however", "i", "i'll", "i'm", "i've", "if", "in", "is", "it",
    "it's", "its", "just", "let", "let's", "may", "might", "most", "my", "next", "no", "not",
    "note", "now", "of", "ok", "okay", "on", "once", "one", "only", "or", "our", "please",
    "second", "she", "should", "since", "so", "some", "sorry", "step", "sure", "thank", "thanks",
    "that", "the", "their", "then", "there", "these", "they", "third", "this", "those", "though",
    "to", "try", "unfortunately", "until", "us", "we", "what", "when", "where", "which", "while",
    "who", "why", "will", "with", "would", "yes", "you", "you're", "your", "click", "contact",
    "check", "choose", "enter", "open", "select", "sign", "tap", "use", "visit", "log", "make",
    "see", "set", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "april", "june", "july", "august", "september", "october",
    "november", "december",
))  # fmt: skip

Date = tuple[int | None, int | None, int | None]  # year, month, day
FactKind = Literal["dates", "numbers", "names"]


def find_dates(text: str) -> list[tuple[str, Date | None, tuple[int, int]]]:
    """(as written, (year, month, day) when known, span) of every date, earliest first."""
    found: list[tuple[str, Date | None, tuple[int, int]]] = []
    for pattern in _DATES:
        for m in pattern.finditer(text):
            if any(s <= m.start() < e or m.start() <= s < m.end() for _, _, (s, e) in found):
                continue
            groups = m.groupdict()
            if groups.get("slash"):
                found.append((m[0], None, m.span()))
                continue
            mon = groups.get("mon")
            month = _MONTHS.index(mon[:3].lower()) + 1 if mon else int(groups["m"])
            y, d = groups.get("y"), groups.get("d")
            found.append((m[0], (int(y) if y else None, month, int(d) if d else None), m.span()))
    return sorted(found, key=lambda f: f[2])


def _same_date(a: Date, b: Date) -> bool:
    return all(x is None or y is None or x == y for x, y in zip(a, b, strict=True)) and (
        a[1] == b[1]
    )


def _mask(text: str, spans: Sequence[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def find_names(text: str) -> list[str]:
    """Runs of capitalised words, minus common words and lone sentence-initial words.

    A single capitalised word that starts a sentence is skipped: without a dictionary it cannot be
    told apart from an ordinary word ("Happy to help"). Mid-sentence mentions are still checked.
    """
    names = []
    for m in _NAME.finditer(text):
        words = m[0].replace("\u2019", "'").split()
        if _SENTENCE_START.search(text[: m.start()]) is not None:
            if len(words) == 1:
                continue
            if words[0].lower() in COMMON_WORDS:
                words.pop(0)
        if not (len(words) == 1 and words[0].lower() in COMMON_WORDS):
            names.append(" ".join(words))
    return list(dict.fromkeys(names))


def unsupported_facts(output: str, sources: str, kinds: Sequence[str]) -> tuple[int, list[str]]:
    """How many facts the output states, and those the sources do not support."""
    src_dates = [d for _, d, _ in find_dates(sources) if d]
    src_text = " ".join(sources.casefold().split())
    src_numbers = {n.value for n in find_numbers(canonicalise_numbers(sources))}
    src_words = set(re.findall(r"\w+", src_text))
    dates = find_dates(output)
    total, missing = 0, []
    if "dates" in kinds:
        for written, date, _ in dates:
            total += 1
            ok = " ".join(written.casefold().split()) in src_text or (
                date is not None and any(_same_date(date, s) for s in src_dates)
            )
            if not ok:
                missing.append(written)
    if "numbers" in kinds:
        masked = _mask(output, [span for _, _, span in dates])
        for n in find_numbers(masked):
            total += 1
            if n.value not in src_numbers:
                missing.append(masked[n.start : n.end])
    if "names" in kinds:
        for name in find_names(output):
            total += 1
            folded = name.casefold()
            if folded not in src_text and not set(re.findall(r"\w+", folded)) <= src_words:
                missing.append(name)
    return total, missing


@scorer(
    "grounded",
    params={
        **ENDPOINT_PARAMS,
        "method": {"enum": ["auto", "lexical", "judge"]},
        "facts": {
            "type": "array",
            "items": {"enum": ["dates", "numbers", "names"]},
            "minItems": 1,
            "uniqueItems": True,
        },
        "threshold": {"type": "number", "minimum": 0, "maximum": 1},
    },
)
def grounded(
    ctx: ScorerContext,
    method: Literal["auto", "lexical", "judge"] = "auto",
    facts: list[FactKind] | None = None,
    threshold: float = 1.0,
    **endpoint: Any,
) -> ScoreFn:
    """The share of the output's facts found in the reference or the case's `context` field."""
    has_judge = ctx.judge is not None or bool(endpoint.get("base_url") or endpoint.get("model"))
    if method == "judge" or (method == "auto" and has_judge):
        if not has_judge:
            raise ParamError("method", "method 'judge' needs base_url and model, or a suite judge")
        return Judge(
            endpoint_from(endpoint, ctx.judge),
            "grounded",
            threshold=threshold,
            cache_dir=ctx.cache_dir,
            offline=ctx.offline,
        )
    kinds = tuple(facts or ("dates", "numbers", "names"))

    def score(item: ScoreInput) -> Score:
        context = item.case.fields.get("context")
        parts = [*item.references, *(context if isinstance(context, list) else [context])]
        sources = "\n".join(str(p) for p in parts if p)
        if not sources.strip():
            return Score(0.0, False, "no reference or context", invalid=True)
        total, missing = unsupported_facts(item.output, sources, kinds)
        if total == 0:
            return Score(1.0, True, "no checkable facts")
        value = 1 - len(missing) / total
        why = f"{total - len(missing)}/{total} facts supported"
        if missing:
            why += "; unsupported: " + ", ".join(repr(m) for m in missing[:5])
        return Score(value, value >= threshold, why)

    return score
