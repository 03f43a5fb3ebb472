"""Eval sets in YAML, JSONL and CSV, with content hashes that pair runs only on unchanged cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from canary_eval.errors import EvalSetError
from canary_eval.suite.evalset import load_evalset

CASES: list[dict[str, Any]] = [
    {"id": "a", "intent": "faq", "input": "Export?", "reference": "Settings > Export",
     "scorers": [{"type": "contains", "value": "Export"}], "metadata": {"owner": "docs"}},
    {"id": "b", "intent": "billing", "input": "Refund window?",
     "reference": ["30 days", "a month"]},
]  # fmt: skip


def write(path: Path, cases: list[dict[str, Any]]) -> Path:
    if path.suffix == ".yaml":
        path.write_text(yaml.safe_dump({"cases": cases}))
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(c) + "\n" for c in cases))
    return path


@pytest.mark.parametrize("name", ["cases.yaml", "cases.jsonl"])
def test_every_format_loads_the_same_cases(tmp_path: Path, name: str) -> None:
    evalset = load_evalset(write(tmp_path / name, CASES))
    a, b = evalset.cases
    assert (a.id, a.intent, a.reference, a.scorers[0].type) == ("a", "faq", "Settings > Export",
                                                                "contains")  # fmt: skip
    assert a.scorers[0].params == {"value": "Export"}
    assert b.references == ("30 days", "a month")
    assert b.reference == "30 days"


def test_csv_takes_a_header_row_and_json_columns(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(
        "id,intent,input,reference,scorers\n"
        'a,faq,"Export, please?",Settings,"[{""type"": ""contains""}]"\n'
    )
    (case,) = load_evalset(path).cases
    assert (case.input, case.scorers[0].type, case.line) == ("Export, please?", "contains", 2)


def test_a_bad_json_column_in_csv_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("id,input,scorers\na,x,[]\nb,y,not json\n")
    with pytest.raises(EvalSetError, match=r"cases.csv:3: column 'scorers' must hold JSON"):
        load_evalset(path)


def test_the_content_hash_ignores_id_intent_and_metadata_but_not_what_defines_the_case(
    tmp_path: Path,
) -> None:
    before = load_evalset(write(tmp_path / "v1.yaml", CASES)).cases[0].content_hash
    renamed = [{**CASES[0], "intent": "other", "metadata": {}}]
    edited = [{**CASES[0], "reference": "Settings > Data > Export"}]
    assert load_evalset(write(tmp_path / "v2.yaml", renamed)).cases[0].content_hash == before
    assert load_evalset(write(tmp_path / "v3.yaml", edited)).cases[0].content_hash != before


def test_the_set_hash_changes_when_a_case_is_added(tmp_path: Path) -> None:
    one = load_evalset(write(tmp_path / "one.yaml", CASES[:1]))
    two = load_evalset(write(tmp_path / "two.yaml", CASES))
    assert one.hash != two.hash


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    (tmp_path / "cases.txt").write_text("a")
    with pytest.raises(EvalSetError, match="unknown eval-set format"):
        load_evalset(tmp_path / "cases.txt")


def test_a_conversation_case_takes_its_last_user_message_as_the_turn_under_test(
    tmp_path: Path,
) -> None:
    history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    cases: list[dict[str, Any]] = [
        {"id": "a", "messages": [*history, {"role": "user", "content": "Is INV-7 paid?"}],
         "tool_results": {"lookup_invoice": {"status": "paid"}}, "max_turns": 3},
        {"id": "b", "messages": history, "input": "And INV-8?",
         "tool_results": [{"name": "lookup_invoice", "arguments": {"invoice_id": "INV-8"},
                           "content": "unpaid"}]},
    ]  # fmt: skip
    a, b = load_evalset(write(tmp_path / "cases.yaml", cases)).cases

    assert (a.input, a.messages, a.max_turns) == ("Is INV-7 paid?", tuple(history), 3)
    assert a.fields["input"] == "Is INV-7 paid?"  # so {{input}} fills the turn under test
    assert [(r.name, r.content, r.arguments) for r in a.tool_results] == [
        ("lookup_invoice", '{"status": "paid"}', None)]  # fmt: skip
    assert (b.input, b.messages) == ("And INV-8?", tuple(history))
    assert b.tool_results[0].arguments == {"invoice_id": "INV-8"}


@pytest.mark.parametrize(
    ("case", "key", "message"),
    [
        ({"id": "a"}, "cases[0].input", "required"),
        (
            {
                "id": "a",
                "messages": [
                    {"role": "user", "content": "x"},
                    {"role": "assistant", "content": "y"},
                ],
            },
            "cases[0].messages[1]",
            "must end with the user turn",
        ),
        (
            {"id": "a", "input": "x", "messages": [{"content": "y"}]},
            "cases[0].messages[0].role",
            "required",
        ),
        (
            {"id": "a", "input": "x", "tool_results": [{"name": "f"}]},
            "cases[0].tool_results[0].content",
            "required",
        ),
    ],
)
def test_a_bad_conversation_case_names_its_key(
    tmp_path: Path, case: dict[str, Any], key: str, message: str
) -> None:
    with pytest.raises(EvalSetError, match=message) as error:
        load_evalset(write(tmp_path / "cases.yaml", [case]))
    assert f": {key}: " in str(error.value)
