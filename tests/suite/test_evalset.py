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
