"""The judge's prompts, their hash, and how a judge's JSON verdict becomes a score.

Each mode asks for one JSON object with a short "reasoning" and:
- `closedqa`: "answer": "yes" or "no" (does the output answer correctly, given the reference?);
- `factuality`: "choice" comparing the output's facts with the reference's, scored same 1.0,
  immaterial 1.0 (differences that do not matter factually), subset 0.6 (correct but
  incomplete), superset 0.4 (adds claims the reference cannot vouch for), disagree 0.0; the
  letters A-E of OpenAI's `fact` eval (subset, superset, same, disagree, immaterial) work too;
- `rubric`: "score" from 0 to 1 against the configured criteria;
- `grounded` (the `grounded` scorer's judge): "claims", "supported" and "unsupported".
Anything else is an InvalidVerdict. Changing a template changes the prompt hash, and so the judge
fingerprint a run records and the cache keys.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping

from canary_eval.scorers.structured import unfence

SYSTEM = (
    "You are a careful, impartial grader of an AI assistant's answers. "
    "Reply with exactly one JSON object, no prose and no code fence."
)
TEMPLATES: dict[str, str] = {
    "closedqa": (
        "Assess a submitted answer to a question, given the expert reference.\n"
        "[Question]: {{input}}\n[Reference]: {{reference}}\n[Submission]: {{output}}\n"
        "Does the submission answer the question correctly, consistent with the reference? "
        "Ignore style, length and wording.\n"
        'Reply as {"reasoning": "<one or two sentences>", "answer": "yes" or "no"}'
    ),
    "factuality": (
        "Compare the factual content of a submitted answer with an expert answer.\n"
        "[Question]: {{input}}\n[Expert]: {{reference}}\n[Submission]: {{output}}\n"
        "Ignore differences in style, grammar or punctuation. Choose one:\n"
        '"subset": the submission is a subset of the expert answer and fully consistent with it;\n'
        '"superset": it is a superset of the expert answer and fully consistent with it;\n'
        '"same": it contains the same details as the expert answer;\n'
        '"disagree": it disagrees with the expert answer;\n'
        '"immaterial": the answers differ, but not in a way that matters for factuality.\n'
        'Reply as {"reasoning": "<one or two sentences>", "choice": "<one of the five>"}'
    ),
    "rubric": (
        "Grade a submitted answer against these criteria.\n[Criteria]: {{criteria}}\n"
        "[Question]: {{input}}\n[Reference, may be empty]: {{reference}}\n"
        "[Submission]: {{output}}\n"
        "Score from 0 (does not meet the criteria at all) to 1 (fully meets them).\n"
        'Reply as {"reasoning": "<one or two sentences>", "score": <number from 0 to 1>}'
    ),
    "grounded": (
        "Check that every factual claim of a submitted answer is supported by the sources.\n"
        "[Sources]: {{reference}}\n{{context}}\n[Question]: {{input}}\n[Submission]: {{output}}\n"
        "List the submission's factual claims (numbers, amounts, dates, names, statements of "
        "fact) and count those the sources support.\n"
        'Reply as {"reasoning": "<one or two sentences>", "claims": <int>, "supported": <int>, '
        '"unsupported": ["<claim>", ...]}'
    ),
}
FACTUALITY = {"same": 1.0, "immaterial": 1.0, "subset": 0.6, "superset": 0.4, "disagree": 0.0}
_LETTERS = dict(zip("abcde", ("subset", "superset", "same", "disagree", "immaterial"), strict=True))
MODES = ("closedqa", "factuality", "rubric")
_SLOT = re.compile(r"\{\{(\w+)\}\}")


class InvalidVerdict(ValueError):
    """The judge answered, but not with a verdict we can use."""


def prompt_hash(mode: str, criteria: str | None = None) -> str:
    """SHA-256 of everything that defines a judge's prompt except the case being judged."""
    blob = json.dumps({"system": SYSTEM, "template": TEMPLATES[mode], "criteria": criteria})
    return hashlib.sha256(blob.encode()).hexdigest()


def judge_fingerprint(model: str, mode: str, criteria: str | None = None) -> str:
    """Short stable id of a judge: its model plus its prompt hash."""
    return hashlib.sha256(f"{model}\n{prompt_hash(mode, criteria)}".encode()).hexdigest()[:16]


def render(template: str, slots: Mapping[str, str]) -> str:
    # One pass, so text inside an output that looks like a slot is never expanded.
    return _SLOT.sub(lambda m: slots.get(m[1], ""), template)


def parse_verdict(mode: str, content: str) -> tuple[float, str]:
    """(value, summary) of a judge's reply, or InvalidVerdict saying what is wrong with it."""
    try:
        data = json.loads(unfence(content))
    except json.JSONDecodeError as exc:
        raise InvalidVerdict(f"verdict is not JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise InvalidVerdict("verdict is not a JSON object")
    if mode == "closedqa":
        answer = data.get("answer")
        if isinstance(answer, bool):
            answer = "yes" if answer else "no"
        if not isinstance(answer, str) or answer.strip().lower() not in ("yes", "no", "y", "n"):
            raise InvalidVerdict(f'"answer" must be "yes" or "no", got {answer!r}')
        yes = answer.strip().lower().startswith("y")
        return float(yes), "correct" if yes else "incorrect"
    if mode == "factuality":
        choice = str(data.get("choice", "")).strip().lower().strip("()")
        choice = _LETTERS.get(choice, choice)
        if choice not in FACTUALITY:
            raise InvalidVerdict(f'"choice" must be one of {", ".join(FACTUALITY)}')
        return FACTUALITY[choice], choice
    if mode == "rubric":
        value = data.get("score")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise InvalidVerdict(f'"score" must be a number from 0 to 1, got {value!r}')
        return float(value), f"rubric {float(value):.2f}"
    claims, supported = data.get("claims"), data.get("supported")
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (claims, supported)):
        raise InvalidVerdict('"claims" and "supported" must be integers')
    assert isinstance(claims, int)
    assert isinstance(supported, int)
    if not 0 <= supported <= claims:
        raise InvalidVerdict(f"supported ({supported}) must be between 0 and claims ({claims})")
    unsupported = [str(u) for u in data.get("unsupported") or []][:5]
    summary = f"{supported}/{claims} claims supported"
    if unsupported:
        summary += "; unsupported: " + "; ".join(unsupported)
    return (supported / claims if claims else 1.0), summary


def reasoning_of(content: str) -> str:
    """The verdict's reasoning, shortened for an explanation; empty when there is none."""
    try:
        text = json.loads(unfence(content)).get("reasoning", "")
    except (ValueError, AttributeError):
        return ""
    text = " ".join(str(text).split())
    return text if len(text) <= 200 else text[:199] + "…"
