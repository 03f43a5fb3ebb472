"""The JSON Schemas canary ships, and validation that reports the first problem as one line.

A document is first checked by the schema compiled into Python (`compiled`); jsonschema, slower
and slower to import, only looks at one that check does not accept, to find and word the problem.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canary_eval.errors import InputError
from canary_eval.suite.document import Document, KeyPath, format_key
from canary_eval.suite.schemas.compiled import Check, compile_check

if TYPE_CHECKING:
    import jsonschema


@cache
def load_schema(name: str) -> dict[str, Any]:
    # Beside this module (importlib.resources would cost its import and zipfile's at start-up).
    text = Path(__file__).with_name(f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _check(name: str) -> Check | None:
    # One per schema: an eval set is validated case by case, so each error names its line.
    return compile_check(load_schema(name))


def plainly_valid_schema(schema: Any) -> bool:
    """True for a JSON Schema written in the subset nearly every tool's parameters use
    (`plain-json-schema`): certainly valid, without importing jsonschema to check it. False
    says nothing: jsonschema's `check_schema` decides."""
    check = _check("plain-json-schema")
    return check is not None and check(schema)


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema(name))


def validate(doc: Document, name: str, error: type[InputError], data: Any = None) -> None:
    """Raise `error` for the first schema violation, naming the file, line and key path."""
    instance = doc.data if data is None else data
    check = _check(name)
    if check is not None and check(instance):
        return
    problems = sorted(_validator(name).iter_errors(instance), key=_order)
    if not problems:
        return
    problem = _deepest(problems[0])
    key: KeyPath = tuple(problem.absolute_path)
    message = _describe(problem)
    if problem.validator == "required":
        missing = _missing_property(problem)
        key = (*key, missing)
        message = "required"
    elif problem.validator == "additionalProperties":
        properties = _schema_of(problem).get("properties", {})
        instance = problem.instance if isinstance(problem.instance, dict) else {}
        extra = sorted(set(instance) - set(properties))
        if extra:
            key = (*key, extra[0])
        known = ", ".join(sorted(properties))
        message = f"unknown key (known: {known})"
    raise error(message, path=doc.path, line=doc.line_of(key), key=format_key(key) or None)


def _order(problem: jsonschema.ValidationError) -> tuple[int, str]:
    return (len(problem.absolute_path), str(problem.absolute_path))


def _deepest(problem: jsonschema.ValidationError) -> jsonschema.ValidationError:
    # oneOf/anyOf report the union; the branch that got furthest explains it best.
    while problem.context:
        problem = max(problem.context, key=lambda p: len(p.absolute_path))
    return problem


def _schema_of(problem: jsonschema.ValidationError) -> dict[str, Any]:
    return dict(problem.schema) if isinstance(problem.schema, dict) else {}


def _missing_property(problem: jsonschema.ValidationError) -> str:
    return str(problem.message).split("'")[1] if "'" in problem.message else "?"


def _describe(problem: jsonschema.ValidationError) -> str:
    schema = _schema_of(problem)
    kind = schema.get("type")
    article = {
        "integer": "an integer",
        "number": "a number",
        "string": "a string",
        "boolean": "true or false",
        "object": "a mapping",
        "array": "a list",
    }
    if problem.validator in ("type", "minimum", "maximum", "exclusiveMinimum"):
        parts = [article.get(kind, str(kind))] if isinstance(kind, str) else ["a value"]
        if "minimum" in schema:
            parts.append(f">= {schema['minimum']}")
        if "exclusiveMinimum" in schema:
            parts.append(f"> {schema['exclusiveMinimum']}")
        if "maximum" in schema:
            parts.append(f"<= {schema['maximum']}")
        return "must be " + " ".join(parts)
    if problem.validator == "enum":
        return "must be one of " + ", ".join(str(v) for v in schema["enum"])
    if problem.validator == "minLength":
        return "must not be empty"
    if problem.validator == "minItems":
        return f"must have at least {schema['minItems']} item(s)"
    if problem.validator == "pattern" and "description" in schema:
        return f"must be {schema['description']}, not {problem.instance!r}"
    return str(problem.message)
