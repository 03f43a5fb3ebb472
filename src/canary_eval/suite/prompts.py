"""The production prompt: a system message and a user template with `{{field}}` slots filled
from the case. Slots are checked against the whole eval set before any model is called.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from canary_eval.errors import ConfigError
from canary_eval.models import Case, EvalSet
from canary_eval.suite.config import PromptConfig, SuiteConfig

_SLOT = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")


@dataclass(frozen=True)
class RenderedPrompt:
    system: str | None
    user: str


def slots(template: str) -> list[str]:
    return _SLOT.findall(template)


def render(prompt: PromptConfig, case: Case) -> RenderedPrompt:
    def fill(text: str) -> str:
        return _SLOT.sub(lambda m: _value(case, m.group(1)), text)

    system = fill(prompt.system) if prompt.system else None
    return RenderedPrompt(system, fill(prompt.template))


def check_slots(config: SuiteConfig, evalset: EvalSet) -> None:
    """Every slot of the prompt must be fillable by every case; the first gap is a ConfigError."""
    for key, text in (("system", config.prompt.system), ("template", config.prompt.template)):
        for slot in slots(text or ""):
            missing = [c for c in evalset.cases if not _has(c, slot)]
            if not missing:
                continue
            who = "no case" if len(missing) == len(evalset.cases) else f"case '{missing[0].id}'"
            raise ConfigError(
                f"slot {{{{{slot}}}}} cannot be filled: {who} in {evalset.path} "
                f"has a field '{slot}'",
                path=config.path,
                line=config.line_of(("prompt", key)),
                key=f"prompt.{key}",
            )


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
