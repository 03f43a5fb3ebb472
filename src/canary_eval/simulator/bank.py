"""The answer bank: the bundled canary set's cases, each with a right and a wrong answer.

The simulator recognises a case by finding its input inside the user's message (whitespace
collapsed, longest input wins), so any prompt template that includes `{{input}}` works.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from canary_eval.suite.document import parse_yaml

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Entry:
    """One case of the bundled set as the simulator knows it."""

    id: str
    intent: str
    input: str
    reference: str
    right: str
    wrong: str
    risky: bool = False  # answerable, but sounds sensitive: a cautious update refuses it
    must_refuse: bool = False  # the case expects a refusal
    # A tool case: the call a good model makes (then `right`/`wrong` answer from the tool's
    # result), and the mistaken call of a drifted one (a wrong tool, or a dropped argument).
    call: Mapping[str, Any] | None = None
    wrong_call: Mapping[str, Any] | None = None

    @property
    def is_json(self) -> bool:
        return _is_json(self.right)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


class AnswerBank:
    """Every case of the bundled set, found by id or by a message that contains its input."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries: dict[str, Entry] = {e.id: e for e in entries}
        self._by_input = {_collapse(e.input): e for e in entries}
        self._longest_first = sorted(self._by_input, key=len, reverse=True)
        by_intent: dict[str, list[str]] = {}
        for e in entries:
            by_intent.setdefault(e.intent, []).append(e.id)
        self.by_intent: Mapping[str, tuple[str, ...]] = {k: tuple(v) for k, v in by_intent.items()}

    def __len__(self) -> int:
        return len(self.entries)

    def match(self, message: str) -> Entry | None:
        """The case whose input the message contains (the longest such input), or None."""
        text = _collapse(message)
        exact = self._by_input.get(text)
        if exact is not None:
            return exact
        for key in self._longest_first:
            if key in text:
                return self._by_input[key]
        return None


def bundled_text(*parts: str) -> str:
    return files("canary_eval").joinpath("bundled", *parts).read_text(encoding="utf-8")


@cache
def load_bank() -> AnswerBank:
    """The bundled eval set joined with the bundled answers (read once per process)."""
    cases: list[dict[str, Any]] = parse_yaml(bundled_text("evalsets", "support-bot.yaml"))["cases"]
    answers: dict[str, Any] = parse_yaml(bundled_text("simulator", "answers.yaml"))["answers"]
    entries = []
    for case in cases:
        answer = answers[case["id"]]
        entries.append(
            Entry(
                id=case["id"],
                intent=case.get("intent") or "other",
                input=case["input"],
                reference=str(case.get("reference") or ""),
                right=answer["right"],
                wrong=answer["wrong"],
                risky=bool(answer.get("risky", False)),
                call=answer.get("call"),
                wrong_call=answer.get("wrong_call"),
                must_refuse=any(
                    s.get("type") == "refusal" and s.get("expect") == "refuse"
                    for s in case.get("scorers", [])
                ),
            )
        )
    return AnswerBank(entries)
