"""The production prompt, filled from the case: any field, nested fields, non-text values."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from canary_eval.errors import ConfigError
from canary_eval.suite.config import PromptConfig, load_config
from canary_eval.suite.evalset import load_evalset
from canary_eval.suite.prompts import check_slots, render


def test_slots_are_filled_from_any_field_of_the_case_including_metadata(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    case = {"id": "a", "input": "Why was I charged twice?", "context": {"plan": "Pro"},
            "metadata": {"locale": "de"}}  # fmt: skip
    path.write_text(yaml.safe_dump({"cases": [case]}))
    (loaded,) = load_evalset(path).cases
    prompt = PromptConfig(
        system="Reply in {{metadata.locale}}.", template="{{ input }}\nPlan: {{context.plan}}"
    )

    rendered = render(prompt, loaded)

    assert rendered.system == "Reply in de."
    assert rendered.user == "Why was I charged twice?\nPlan: Pro"


def test_a_slot_that_a_case_cannot_fill_is_found_before_any_call(tmp_path: Path) -> None:
    (tmp_path / "cases.yaml").write_text(
        yaml.safe_dump(
            {"cases": [{"id": "a", "input": "x", "context": "c"}, {"id": "b", "input": "y"}]}
        )
    )
    (tmp_path / "suite.yaml").write_text(
        "suite: s\nevalset: cases.yaml\nprovider: {type: openai, model: m}\n"
        "prompt:\n  template: '{{input}} {{context}}'\n"
    )
    config = load_config(tmp_path / "suite.yaml")

    with pytest.raises(ConfigError, match=r"case 'b'") as error:
        check_slots(config, load_evalset(tmp_path / "cases.yaml"))

    assert str(error.value).startswith(f"{tmp_path / 'suite.yaml'}:5: prompt.template: ")
