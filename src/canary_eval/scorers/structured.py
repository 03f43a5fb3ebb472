"""Scorers for structured (JSON) output: `json_valid`, `json_schema` and `json_fields`.

An output wrapped in one Markdown code fence (```json ... ```) is unwrapped before parsing, since
models do that even when asked for bare JSON. Prose around the fence is not tolerated.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canary_eval.models import Score
from canary_eval.scorers.registry import (
    ParamError,
    ScoreFn,
    ScoreInput,
    ScorerContext,
    scorer,
)
from canary_eval.suite.schemas import plainly_valid_schema

if TYPE_CHECKING:
    import jsonschema

_FENCE = re.compile(r"\A```[\w+-]*[ \t]*\n?(?P<body>.*?)\n?```\Z", re.DOTALL)
_MISSING = object()


def unfence(text: str) -> str:
    """The body of a Markdown code fence that wraps the whole text, else the text stripped."""
    stripped = text.strip()
    m = _FENCE.match(stripped)
    return m["body"].strip() if m else stripped


def parse_json(text: str) -> tuple[Any, str | None]:
    """The parsed JSON value of an output and None, or (None, why it is not JSON)."""
    body = unfence(text)
    if not body:
        return None, "empty output"
    try:
        return json.loads(body), None
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"


def json_path(parts: Sequence[Any]) -> str:
    """`$.items[0].price` style path of a jsonschema error location."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


@scorer("json_valid")
def json_valid() -> ScoreFn:
    """1 when the output (fence unwrapped) parses as JSON."""

    def score(item: ScoreInput) -> Score:
        _, error = parse_json(item.output)
        return Score(1.0, True, "valid JSON") if error is None else Score(0.0, False, error)

    return score


def load_schema(schema: Mapping[str, Any] | str, base_dir: Path) -> dict[str, Any]:
    """An inline schema, or one read from a JSON file relative to the suite config."""
    if isinstance(schema, str):
        path = Path(schema) if Path(schema).is_absolute() else base_dir / schema
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ParamError("schema", f"cannot read schema file {path}: {exc.strerror}") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ParamError("schema", f"schema file {path} is not JSON: {exc}") from exc
    else:
        loaded = dict(schema)
    if not isinstance(loaded, dict):
        raise ParamError("schema", "a JSON Schema must be an object")
    _check_schema(json.dumps(loaded, sort_keys=True))
    return loaded


def lazy_validator(schema: dict[str, Any]) -> Callable[[], jsonschema.Draft202012Validator]:
    """The (checked) schema's validator, built at its first use: checking a suite (`validate`,
    and a run before its first call) needs the schema valid, not jsonschema imported."""

    @functools.cache
    def validator() -> jsonschema.Draft202012Validator:
        import jsonschema

        return jsonschema.Draft202012Validator(schema)

    return validator


@functools.cache
def _check_schema(text: str) -> None:
    # Checking against the metaschema costs milliseconds; many cases share one schema.
    if plainly_valid_schema(json.loads(text)):
        return
    import jsonschema  # only for an unusual schema: most suites start without

    try:
        jsonschema.Draft202012Validator.check_schema(json.loads(text))
    except jsonschema.SchemaError as exc:
        raise ParamError("schema", f"invalid JSON Schema: {exc.message}") from exc


@scorer(
    "json_schema",
    params={
        "schema": {"anyOf": [{"type": "object"}, {"type": "string"}]},
        "tool": {"type": "string", "minLength": 1},
    },
    required=["schema"],
)
def json_schema(
    schema: Mapping[str, Any] | str, ctx: ScorerContext, tool: str | None = None
) -> ScoreFn:
    """1 when the output is JSON valid against the schema (draft 2020-12, inline or a file);
    with `tool`, the arguments of the first call to that tool instead of the output."""
    validator = lazy_validator(load_schema(schema, ctx.base_dir))

    def score(item: ScoreInput) -> Score:
        data, error = parse_json(item.output) if tool is None else _arguments(item, tool)
        if error is not None:
            return Score(0.0, False, error)
        errors = sorted(validator().iter_errors(data), key=lambda e: list(e.absolute_path))
        if not errors:
            return Score(1.0, True, "valid against schema")
        first = errors[0]
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        return Score(0.0, False, f"at {json_path(first.absolute_path)}: {first.message}{more}")

    return score


def _arguments(item: ScoreInput, tool: str) -> tuple[Any, str | None]:
    calls = item.completion.tool_calls if item.completion is not None else ()
    call = next((c for c in calls if c.name == tool), None)
    if call is None:
        return None, f"no call to {tool}"
    if call.arguments is None:
        return None, f"arguments of {tool} are not a JSON object: {call.raw_arguments[:80]!r}"
    return dict(call.arguments), None


def lookup(data: Any, path: str) -> Any:
    """The value at a dotted path (`customer.address.city`, `items.0.sku`), or _MISSING."""
    for part in path.split("."):
        if isinstance(data, Mapping) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return _MISSING
    return data


def same(got: Any, want: Any, ignore_case: bool) -> bool:
    """JSON equality, with numbers compared by value and strings optionally case-folded."""
    if isinstance(want, bool) or isinstance(got, bool):
        return got is want
    if isinstance(want, int | float) and isinstance(got, int | float):
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(want, str) and isinstance(got, str):
        return (got.strip().casefold() == want.strip().casefold()) if ignore_case else got == want
    if isinstance(want, list) and isinstance(got, list):
        return len(got) == len(want) and all(
            same(g, w, ignore_case) for g, w in zip(got, want, strict=True)
        )
    if isinstance(want, dict) and isinstance(got, dict):
        return got.keys() == want.keys() and all(same(got[k], want[k], ignore_case) for k in want)
    return bool(got == want)


@scorer(
    "json_fields",
    params={
        "fields": {"type": "object"},
        "keys": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "ignore_case": {"type": "boolean"},
    },
)
def json_fields(
    fields: Mapping[str, Any] | None = None,
    keys: list[str] | None = None,
    ignore_case: bool = True,
) -> ScoreFn:
    """The share of expected keys whose value in the output equals the expected one.

    Expected values come from `fields` (dotted paths allowed), else from the reference parsed as
    a JSON object. `keys` restricts the comparison to some of them.
    """

    def score(item: ScoreInput) -> Score:
        expected: Mapping[str, Any] | None = fields
        if expected is None:
            parsed = [parse_json(r)[0] for r in item.references]
            expected = next((p for p in parsed if isinstance(p, dict)), None)
            if expected is None:
                return Score(0.0, False, "no JSON object reference", invalid=True)
        wanted = {
            k: expected[k] if k in expected else lookup(expected, k) for k in keys or expected
        }
        data, error = parse_json(item.output)
        if error is not None:
            return Score(0.0, False, error)
        wrong = [k for k, v in wanted.items() if not same(lookup(data, k), v, ignore_case)]
        if not wanted:
            return Score(1.0, True, "no fields to compare")
        ratio = 1 - len(wrong) / len(wanted)
        why = "all fields match" if not wrong else "wrong or missing: " + ", ".join(wrong)
        return Score(ratio, not wrong, f"{len(wanted) - len(wrong)}/{len(wanted)}; {why}")

    return score
