"""Structured output: `json_valid`, `json_schema` and `json_fields`, with code fences unwrapped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canary_eval.errors import ConfigError
from canary_eval.scorers import ScorerContext
from canary_eval.scorers.structured import parse_json, unfence

from .conftest import score

ORDER_SCHEMA = {
    "type": "object",
    "required": ["id", "items"],
    "properties": {
        "id": {"type": "string"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["sku", "price"],
                "properties": {"sku": {"type": "string"}, "price": {"type": "number"}},
            },
        },
    },
}


@pytest.mark.parametrize(
    "output",
    ['{"a": 1}', '```json\n{"a": 1}\n```', '```\n{"a": 1}\n```', '  ```JSON {"a": 1}```  ', "[]"],
)
def test_json_valid_accepts_bare_or_fenced_json(output: str) -> None:
    assert score("json_valid", output).passed


@pytest.mark.parametrize(
    "output", ["", "not json", '{"a": 1,}', 'Here it is: ```json\n{"a": 1}\n```', "{'a': 1}"]
)
def test_json_valid_rejects_anything_else(output: str) -> None:
    got = score("json_valid", output)
    assert got.value == 0.0
    assert not got.invalid


def test_unfence_leaves_unfenced_text_alone() -> None:
    assert unfence('  {"a": "```"}  ') == '{"a": "```"}'
    assert parse_json("")[1] == "empty output"


def test_json_schema_passes_valid_output() -> None:
    output = '```json\n{"id": "A1", "items": [{"sku": "x", "price": 9.5}]}\n```'
    assert score("json_schema", output, schema=ORDER_SCHEMA).passed


def test_json_schema_explanation_names_the_failing_path() -> None:
    output = json.dumps({"id": "A1", "items": [{"sku": "x", "price": "free"}]})
    got = score("json_schema", output, schema=ORDER_SCHEMA)
    assert not got.passed
    assert got.explanation.startswith("at $.items[0].price: 'free' is not of type 'number'")


def test_json_schema_reports_a_missing_key_at_its_parent() -> None:
    got = score("json_schema", '{"items": []}', schema=ORDER_SCHEMA)
    assert got.explanation == "at $: 'id' is a required property"


def test_json_schema_is_draft_2020_12() -> None:
    schema = {"prefixItems": [{"type": "integer"}], "items": False}
    assert score("json_schema", "[1]", schema=schema).passed
    assert not score("json_schema", "[1, 2]", schema=schema).passed


def test_json_schema_reads_a_file_relative_to_the_suite(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "order.json").write_text(json.dumps(ORDER_SCHEMA))
    ctx = ScorerContext(config_path=tmp_path / "suite.yaml")
    assert score("json_schema", '{"id": "1", "items": []}', ctx=ctx, schema="schemas/order.json")


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "is not JSON"), ("[1]", "must be an object"), ('{"type": 3}', "invalid JSON")],
)
def test_a_bad_schema_file_is_a_config_error(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "bad.json").write_text(content)
    ctx = ScorerContext(config_path=tmp_path / "suite.yaml")
    with pytest.raises(ConfigError, match=rf"scorers\[0\]\.schema: .*{message}"):
        score("json_schema", "{}", ctx=ctx, schema="bad.json")


def test_json_schema_on_non_json_output_says_so() -> None:
    got = score("json_schema", "Sure! Here is the order.", schema=ORDER_SCHEMA)
    assert got.value == 0.0
    assert got.explanation.startswith("not JSON")


def test_json_fields_gives_partial_credit_per_key() -> None:
    output = '{"intent": "Billing", "priority": 2, "refund": false}'
    got = score(
        "json_fields", output, fields={"intent": "billing", "priority": 2.0, "refund": True}
    )
    assert got.value == pytest.approx(2 / 3)
    assert "refund" in got.explanation


def test_json_fields_defaults_to_the_reference_object_and_may_restrict_keys() -> None:
    reference = '{"intent": "billing", "priority": 1}'
    assert score("json_fields", '{"intent": "billing", "priority": 3}', reference).value == 0.5
    assert score(
        "json_fields", '{"intent": "billing", "priority": 3}', reference, keys=["intent"]
    ).passed


def test_json_fields_follows_dotted_paths() -> None:
    output = '{"customer": {"name": "Ana"}, "items": [{"sku": "X1"}]}'
    got = score("json_fields", output, fields={"customer.name": "ana", "items.0.sku": "X1"})
    assert got.passed


def test_json_fields_case_sensitive_when_asked_and_missing_keys_count_as_wrong() -> None:
    assert not score("json_fields", '{"a": "X"}', fields={"a": "x"}, ignore_case=False).passed
    assert score("json_fields", "{}", fields={"a": None}).value == 0.0


def test_json_fields_without_an_object_reference_is_invalid() -> None:
    assert score("json_fields", "{}", "plain text reference").invalid


def test_json_fields_compares_nested_values_and_booleans_strictly() -> None:
    assert score("json_fields", '{"a": [1, {"b": "X"}]}', fields={"a": [1.0, {"b": "x"}]}).passed
    assert not score("json_fields", '{"a": 1}', fields={"a": True}).passed
