"""The compiled schema checks say yes only where jsonschema does: they may send a valid document
to jsonschema, never let an invalid one through. Checked on the shipped configs and eval sets
and on thousands of seeded mutations of them."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from canary_eval.suite.schemas import load_schema, plainly_valid_schema
from canary_eval.suite.schemas.compiled import compile_check

ROOT = Path(__file__).parents[2]
ODD_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 1.0, 2.5, -0.5, float("nan"), float("inf"), 10**20, "", "x",
    "user", "function", "page", "30m", [], [1], ["a"], {}, {"type": "x"},
    {"role": "user", "content": "hi"},
]  # fmt: skip
KEYS = ["extra", "type", "role", "content", "weight", "id", "input", "minimum", "model"]


def documents() -> dict[str, list[Any]]:
    suite = yaml.safe_load((ROOT / "configs" / "support-bot.yaml").read_text())
    monitor = yaml.safe_load((ROOT / "configs" / "support-bot-monitor.yaml").read_text())
    cases = yaml.safe_load((ROOT / "evalsets" / "support-bot.yaml").read_text())["cases"]
    return {"suite": [suite], "monitor": [monitor], "prompt": [suite["prompt"]], "evalset": cases}


def mutated(document: Any, rng: random.Random) -> Any:
    """The document with one to three values replaced, removed or added somewhere inside."""
    document = copy.deepcopy(document)
    for _ in range(rng.randint(1, 3)):
        node = document
        while True:
            if isinstance(node, dict) and node:
                key = rng.choice(list(node))
                roll = rng.random()
                if roll < 0.3:
                    node[key] = rng.choice(ODD_VALUES)
                elif roll < 0.4:
                    del node[key]
                elif roll < 0.5:
                    node[rng.choice(KEYS)] = rng.choice(ODD_VALUES)
                else:
                    node = node[key]
                    continue
            elif isinstance(node, list) and node:
                i = rng.randrange(len(node))
                if rng.random() < 0.4:
                    node[i] = rng.choice(ODD_VALUES)
                else:
                    node = node[i]
                    continue
            break
    return document


@pytest.mark.parametrize("name", ["suite", "monitor", "prompt", "evalset"])
def test_the_compiled_check_never_accepts_what_jsonschema_rejects(name: str) -> None:
    schema = load_schema(name)
    check, validator = compile_check(schema), jsonschema.Draft202012Validator(schema)
    assert check is not None
    originals = documents()[name]
    assert all(check(d) for d in originals)  # the shipped files take the quick path
    rng = random.Random(name)
    rejected = 0
    for _ in range(3000):
        document = mutated(rng.choice(originals), rng)
        if not validator.is_valid(document):
            rejected += 1
            assert not check(document), document
    assert rejected > 500  # the mutations do reach the schemas' constraints


def test_jsonschemas_type_rules_hold() -> None:
    check = compile_check({"type": "object", "properties": {"n": {"type": "integer"}}})
    assert check is not None
    assert [check({"n": v}) for v in (1, 1.0, True, 1.5)] == [True, True, False, False]
    assert not check([])  # 1.0 is an integer in JSON Schema, true is not
    enum = compile_check({"enum": [1, "a", None]})
    assert enum is not None
    assert [enum(v) for v in (1, 1.0, "a", None, True, "1")] == [True] * 4 + [False] * 2


def test_a_schema_with_a_keyword_it_does_not_know_is_left_to_jsonschema() -> None:
    assert compile_check({"type": "object", "patternProperties": {"^x": {}}}) is None
    assert compile_check({"$ref": "other.json#/x"}) is None
    assert compile_check({"properties": {"a": {"format": "date"}}}) is None


SCHEMA_KEYS = [
    "type", "properties", "additionalProperties", "items", "required", "enum", "const", "anyOf",
    "oneOf", "allOf", "pattern", "format", "minimum", "exclusiveMinimum", "minLength",
    "maxItems", "description", "default", "examples", "uniqueItems", "$ref", "nullable",
]  # fmt: skip
SCHEMA_VALUES: list[Any] = [
    *ODD_VALUES, "string", "object", "(", "^INV-[0-9]{4}$", ["a", "a"], [1, True], [1, 1.0],
    {"a": {}}, {"a": 3}, [{}], [3],
]  # fmt: skip


def random_schema(rng: random.Random, depth: int = 0) -> Any:
    """A schema-like mapping of tools' usual keywords with odd values, nested a little."""
    if rng.random() < 0.1:
        return rng.choice([True, False])
    schema: dict[str, Any] = {}
    for _ in range(rng.randint(0, 4)):
        key = rng.choice(SCHEMA_KEYS)
        nest = depth < 2 and rng.random() < 0.5
        if nest and key in ("items", "additionalProperties"):
            schema[key] = random_schema(rng, depth + 1)
        elif nest and key == "properties":
            schema[key] = {"p": random_schema(rng, depth + 1)}
        elif nest and key in ("anyOf", "oneOf", "allOf"):
            schema[key] = [random_schema(rng, depth + 1)]
        else:
            schema[key] = rng.choice(SCHEMA_VALUES)
    return schema


def test_a_tool_schema_passes_without_jsonschema_only_when_jsonschema_finds_it_valid() -> None:
    rng = random.Random(16)
    accepted = 0
    for _ in range(5000):
        schema = random_schema(rng)
        if plainly_valid_schema(schema):
            accepted += 1
            jsonschema.Draft202012Validator.check_schema(schema)
    assert accepted > 1000  # the usual ones pass without jsonschema
    suite = yaml.safe_load((ROOT / "configs" / "support-bot.yaml").read_text())
    assert all(plainly_valid_schema(t["function"]["parameters"]) for t in suite["prompt"]["tools"])
