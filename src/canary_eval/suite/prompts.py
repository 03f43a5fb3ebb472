"""The production prompt rendered for one case: every message's `{{field}}` slots filled from
the case, the case's conversation history put before the turn under test, and the tools and
response format carried along. Slots are checked against the whole eval set before any model is
called.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from canary_eval.errors import ConfigError, EvalSetError
from canary_eval.models import Case, EvalSet
from canary_eval.suite.config import PromptConfig, SuiteConfig
from canary_eval.suite.document import parse_key

_SLOT = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")


@dataclass(frozen=True)
class RenderedPrompt:
    system: str | None
    user: str  # the turn under test
    messages: tuple[Mapping[str, Any], ...] = ()  # the whole conversation, in chat format
    tools: tuple[Mapping[str, Any], ...] = ()
    tool_choice: Any = None
    response_format: Mapping[str, Any] | None = None


def slots(template: str) -> list[str]:
    return _SLOT.findall(template)


def render(prompt: PromptConfig, case: Case) -> RenderedPrompt:
    """The prompt's turns filled for `case`; the case's history goes before the prompt's last
    user turn (the one under test), after the system prompt and any few-shot examples."""

    def fill(text: str) -> str:
        return _SLOT.sub(lambda m: _value(case, m.group(1)), text)

    turns: list[Mapping[str, Any]] = [_fill_message(m, fill) for m in prompt.turns]
    users = [i for i, m in enumerate(turns) if m.get("role") == "user"]
    if users:
        at = users[-1]
        turns[at:at] = case.messages
        at += len(case.messages)
    else:
        turns += [*case.messages, {"role": "user", "content": case.input}]
        at = len(turns) - 1
    system = next((m for m in turns if m.get("role") in ("system", "developer")), None)
    return RenderedPrompt(
        system=_text(system["content"]) if system else None,
        user=_text(turns[at]["content"]),
        messages=tuple(turns),
        tools=prompt.tools,
        tool_choice=prompt.tool_choice,
        response_format=prompt.response_format,
    )


def check_slots(config: SuiteConfig, evalset: EvalSet) -> None:
    """Every slot of the prompt must be fillable by every case; the first gap is a ConfigError."""
    for key, text in _templates(config.prompt):
        for slot in slots(text):
            missing = [c for c in evalset.cases if not _has(c, slot)]
            if not missing:
                continue
            who = "no case" if len(missing) == len(evalset.cases) else f"case '{missing[0].id}'"
            raise ConfigError(
                f"slot {{{{{slot}}}}} cannot be filled: {who} in {evalset.path} "
                f"has a field '{slot}'",
                path=config.prompt.file or config.path,
                line=None if config.prompt.file else config.line_of(parse_key(key)),
                key=key,
            )


# Case keys canary reads besides the schema's: extra references, grounding context, the format.
_READ_KEYS = frozenset({"references", "context", "format"})


def check_case_keys(config: SuiteConfig, evalset: EvalSet) -> None:
    """A case key that neither canary nor any prompt slot reads is a typo (`refernce:`): the
    first one is an EvalSetError naming the nearest known key."""
    import difflib

    from canary_eval.suite.schemas import load_schema

    known = set(load_schema("evalset")["properties"]) | _READ_KEYS
    texts = [text for _, text in _templates(config.prompt)]
    texts += _strings(config.provider.options.get("body"))
    known |= {slot.split(".")[0] for text in texts for slot in slots(text)}
    for i, case in enumerate(evalset.cases):
        for key in case.fields:
            if key in known:
                continue
            near = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
            hint = f"did you mean '{near[0]}'?" if near else "not read by canary or any prompt slot"
            raise EvalSetError(
                f"unknown key ({hint})", path=evalset.path, line=case.line, key=f"cases[{i}].{key}"
            )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _templates(prompt: PromptConfig) -> Iterator[tuple[str, str]]:
    """(key, text) of every text that may hold slots."""
    if not prompt.messages:
        yield "prompt.system", prompt.system or ""
        yield "prompt.template", prompt.template
        return
    for i, message in enumerate(prompt.messages):
        content = message.get("content")
        if isinstance(content, str):
            yield f"prompt.messages[{i}].content", content
        elif isinstance(content, list):
            for j, part in enumerate(content):
                if isinstance(part.get("text"), str):
                    yield f"prompt.messages[{i}].content[{j}].text", part["text"]


def _fill_message(message: Mapping[str, Any], fill: Callable[[str], str]) -> dict[str, Any]:
    content = message.get("content")
    if isinstance(content, str):
        content = fill(content)
    elif isinstance(content, list):
        content = [
            {**part, "text": fill(part["text"])} if isinstance(part.get("text"), str) else part
            for part in content
        ]
    return {**message, "content": content}


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return content if isinstance(content, str) else ""


def _lookup(case: Case, slot: str) -> object:
    value: object = case.fields
    for part in slot.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(slot)
        value = value[part]
    return value


def _has(case: Case, slot: str) -> bool:
    try:
        _lookup(case, slot)
    except KeyError:
        return False
    return True


def _value(case: Case, slot: str) -> str:
    value = _lookup(case, slot)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
