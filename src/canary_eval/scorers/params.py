"""Scorer parameter schemas: derived from a factory's signature, and described in messages.

A custom factory that is not registered with `@scorer` still gets its parameters validated: names
must match its keyword parameters, those without a default are required (`ctx` is supplied by
canary, never by the config), `**kwargs` allows any other name, and simple annotations become
JSON Schema types: str, int, float, bool, list/tuple/Sequence, dict/Mapping, Literal[...] and
unions such as `X | None`. Other annotations accept any value.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def signature_schema(
    factory: Callable[..., Any],
) -> tuple[dict[str, Any], tuple[str, ...], bool]:
    """(properties, required names, whether unknown names are allowed) of a factory."""
    sig = inspect.signature(factory)
    try:
        hints = typing.get_type_hints(factory)
    except Exception:  # unresolvable annotations: fall back to accepting any value
        hints = {}
    params: dict[str, Any] = {}
    required: list[str] = []
    open_params = False
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            open_params = True
            continue
        if p.name == "ctx" or p.kind in (p.VAR_POSITIONAL, p.POSITIONAL_ONLY):
            continue
        params[p.name] = _annotation_schema(hints.get(p.name, Any))
        if p.default is p.empty:
            required.append(p.name)
    return params, tuple(required), open_params


_SIMPLE_TYPES: dict[Any, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    list: "array",
    tuple: "array",
    dict: "object",
    type(None): "null",
}


def _annotation_schema(hint: Any) -> dict[str, Any]:
    origin = typing.get_origin(hint)
    if hint in _SIMPLE_TYPES:
        return {"type": _SIMPLE_TYPES[hint]}
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_annotation_schema(a) for a in typing.get_args(hint)]}
    if origin is typing.Literal:
        return {"enum": list(typing.get_args(hint))}
    if origin in (list, tuple, Sequence):
        return {"type": "array"}
    if origin in (dict, Mapping):
        return {"type": "object"}
    return {}


_JSON_TYPES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


def describe_schema(schema: Any) -> str:
    """What a schema accepts, in words: `a string or a list of strings`."""
    if not isinstance(schema, Mapping):
        return "a valid value"
    if "anyOf" in schema:
        return " or ".join(describe_schema(s) for s in schema["anyOf"])
    kind = schema.get("type")
    items = schema.get("items")
    if kind == "array" and isinstance(items, Mapping) and "enum" in items:
        return "a list of values from: " + ", ".join(map(str, items["enum"]))
    if kind == "array" and isinstance(items, Mapping):
        inner = describe_schema(items).removeprefix("a ").removeprefix("an ")
        return f"a list of {inner}s"
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    return _JSON_TYPES.get(str(kind), "a valid value")


def json_type(value: Any) -> str:
    """A config value's kind and value, for messages: `integer 3`."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    kind = {str: "string", int: "integer", float: "number", list: "list", dict: "mapping"}
    return kind.get(type(value), type(value).__name__) + f" {value!r}"[:60]
