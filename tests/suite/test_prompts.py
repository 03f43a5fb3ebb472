"""The production prompt, filled from the case: any field, nested fields, non-text values; the
message-list form, the case history and prompt files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


# The production form: a message list with few-shot turns, from the config or a prompt file.

FEW_SHOT: list[dict[str, Any]] = [
    {"role": "system", "content": "You are the Ledgerly assistant. Plan: {{metadata.plan}}."},
    {"role": "user", "content": "How do I export invoices?"},
    {"role": "assistant", "content": "Settings > Export."},
    {"role": "user", "content": [{"type": "text", "text": "{{input}}"}]},
]


def test_a_case_history_goes_between_the_few_shot_turns_and_the_turn_under_test(
    tmp_path: Path,
) -> None:
    case = {"id": "a", "metadata": {"plan": "Growth"}, "messages": [
        {"role": "user", "content": "My invoice INV-7 is wrong."},
        {"role": "assistant", "content": "What is wrong with it?"},
        {"role": "user", "content": "The amount."},
    ]}  # fmt: skip
    path = tmp_path / "cases.yaml"
    path.write_text(yaml.safe_dump({"cases": [case]}))
    (loaded,) = load_evalset(path).cases

    rendered = render(PromptConfig(messages=tuple(FEW_SHOT)), loaded)

    assert loaded.input == "The amount."  # the last user message is the turn under test
    assert [m["content"] for m in rendered.messages] == [
        "You are the Ledgerly assistant. Plan: Growth.",
        "How do I export invoices?",
        "Settings > Export.",
        "My invoice INV-7 is wrong.",
        "What is wrong with it?",
        [{"type": "text", "text": "The amount."}],
    ]
    assert (rendered.system, rendered.user) == (
        "You are the Ledgerly assistant. Plan: Growth.", "The amount.")  # fmt: skip


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_prompt_file_is_loaded_relative_to_the_config_and_hashed(
    tmp_path: Path, suffix: str
) -> None:
    (tmp_path / "prompts").mkdir()
    prompt_file = tmp_path / "prompts" / f"support{suffix}"
    tools = [{"type": "function", "function": {"name": "lookup_invoice", "parameters": {
        "type": "object", "properties": {"invoice_id": {"type": "string"}}}}}]  # fmt: skip
    prompt_file.write_text(json.dumps({"model": "gpt-4o", "messages": FEW_SHOT, "tools": tools}))
    suite = _suite(tmp_path, "prompt: {file: prompts/support" + suffix + ", tool_choice: auto}\n")

    config = load_config(suite)

    assert config.prompt.messages == tuple(FEW_SHOT)
    assert (config.prompt.tools, config.prompt.tool_choice) == (tuple(tools), "auto")
    before = config.prompt.hash
    prompt_file.write_text(json.dumps({"messages": FEW_SHOT[:1] + FEW_SHOT[3:], "tools": tools}))
    assert load_config(suite).prompt.hash != before


def test_the_short_form_hashes_as_before_tools_existed() -> None:
    short = PromptConfig(system="Be brief.", template="{{input}}")  # hash of the code before
    assert short.hash == "2e87ca58a0eeb314"


@pytest.mark.parametrize(
    ("prompt", "where", "message"),
    [
        ("prompt: {system: S, messages: [{role: user, content: x}]}", "prompt",
         "use one prompt form, not system/template and messages"),
        ("prompt: {messages: [{role: bot, content: x}]}", "prompt.messages[0].role",
         "must be one of"),
        ("prompt:\n  template: x\n  tools: [{type: function, function: {name: f, parameters: "
         "{type: objekt}}}]\n", "prompt.tools[0].function.parameters", "not a JSON Schema"),
        ("prompt:\n  template: x\n  tools: [{type: function, function: {name: f}}]\n"
         "  tool_choice: {type: function, function: {name: g}}\n", "prompt.tool_choice",
         "names tool 'g', which the prompt's tools lack"),
        ("prompt: {file: missing.json}", "missing.json", "file not found"),
        ("provider: {type: anthropic, model: m}\nprompt: {response_format: {type: json_object}}",
         "prompt.response_format", "Anthropic has no json_object mode"),
    ],
)  # fmt: skip
def test_a_bad_prompt_is_one_line_naming_the_key(
    tmp_path: Path, prompt: str, where: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        load_config(_suite(tmp_path, prompt + "\n"))
    assert where in str(error.value)


def test_a_bad_message_in_a_prompt_file_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("- role: system\n  content: S\n- role: usr\n  content: x\n")
    with pytest.raises(ConfigError) as error:
        load_config(_suite(tmp_path, "prompt: {file: p.yaml}\n"))
    assert str(error.value).startswith(f"{tmp_path / 'p.yaml'}:3: messages[1].role: must be one")


def _suite(tmp_path: Path, prompt: str) -> Path:
    (tmp_path / "cases.yaml").write_text(yaml.safe_dump({"cases": [{"id": "a", "input": "x"}]}))
    path = tmp_path / "suite.yaml"
    if "provider:" not in prompt:
        prompt = "provider: {type: openai, model: m}\n" + prompt
    path.write_text("suite: s\nevalset: cases.yaml\n" + prompt)
    return path


def test_a_bad_tool_names_where_it_came_from_the_file_or_the_config_line(tmp_path: Path) -> None:
    bad = [{"type": "function", "function": {"name": "f", "parameters": {"type": "objekt"}}}]
    (tmp_path / "p.json").write_text(json.dumps({"messages": FEW_SHOT, "tools": bad}))
    with pytest.raises(ConfigError) as from_file:
        load_config(_suite(tmp_path, "prompt: {file: p.json}\n"))
    with pytest.raises(ConfigError) as from_config:
        load_config(_suite(tmp_path, "prompt:\n  template: x\n  tool_choice: {type: function, "
                                     "function: {name: g}}\n"))  # fmt: skip

    assert str(from_file.value).startswith(f"{tmp_path / 'p.json'}: tools[0].function.parameters:")
    assert str(from_config.value).startswith(f"{tmp_path / 'suite.yaml'}:6: prompt.tool_choice:")
