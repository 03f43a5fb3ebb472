"""A quick yes for documents that are valid: a JSON Schema compiled into nested Python checks.

Validating 2,000 eval-set cases one by one with jsonschema takes longer than the rest of
`canary validate` together, and importing jsonschema is a good part of start-up. Nearly every
document is valid, so a compiled check answers first; only a document it does not accept goes
to jsonschema, which then finds and words the problem. The check may therefore be stricter than
the schema (a refusal only costs the slow path) but never more lenient: it knows the keywords
canary's own schemas and scorer parameters use, with draft 2020-12's meaning and jsonschema's
type rules (1.0 is an integer, true is not a number), and `compile_check` gives None for a
schema with any other keyword, which then always goes to jsonschema.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

# Keywords that describe and never constrain.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated"}
)


class _Unsupported(Exception):
    """A keyword or value this module does not check: the schema goes to jsonschema."""


def compile_check(schema: Any) -> Check | None:
    """A function that is True only for instances valid under `schema`; None when the schema
    uses something this module cannot check."""
    try:
        return _Compiler(schema).compile(schema)
    except _Unsupported:
        return None


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _unique(value: Any) -> bool:
    """No two items equal, as JSON Schema compares them (true is not 1); only lists of
    scalars are accepted, anything else is left to jsonschema."""
    if not isinstance(value, list):
        return True
    if not all(v is None or isinstance(v, (str, int, float)) for v in value):
        return False
    seen = {(type(v) is bool, v) for v in value}
    return len(seen) == len(value)


def _is_regex(value: str) -> bool:
    """The `regex` format as jsonschema asserts it: Python's `re` compiles it."""
    try:
        re.compile(value)
    except re.error:
        return False
    return True


_NUMBERS = (int, float)  # a tuple: isinstance takes it faster than the union int | float


def is_number(value: Any) -> bool:
    """A JSON number as JSON Schema reads one: an int or a float, never a bool."""
    return isinstance(value, _NUMBERS) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": _is_integer,
    "number": is_number,
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _every(checks: list[Check]) -> Check:
    """True when every check is. A loop, not `all(...)`: the checks run on every value of
    2,000 cases, and a generator costs more than most of the tests it would wrap."""
    if len(checks) == 1:
        return checks[0]

    def every(v: Any) -> bool:
        for check in checks:  # noqa: SIM110 (all() and a generator: 2.5x slower here)
            if not check(v):
                return False
        return True

    return every


def _some(checks: list[Check]) -> Check:
    """True when any check is."""
    if len(checks) == 1:
        return checks[0]

    def some(v: Any) -> bool:
        for check in checks:  # noqa: SIM110 (as in _every)
            if check(v):
                return True
        return False

    return some


def _equal_to(expected: Any) -> Check:
    """Equality as JSON Schema means it: true is not 1, 1.0 is 1."""
    if expected is None:
        return lambda v: v is None
    if isinstance(expected, bool):
        return lambda v: isinstance(v, bool) and v == expected
    if isinstance(expected, str):
        return lambda v: isinstance(v, str) and v == expected
    if is_number(expected):
        return lambda v: is_number(v) and v == expected
    raise _Unsupported(f"const {expected!r}")


class _Compiler:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        if not isinstance(schema, Mapping):
            raise _Unsupported("schema")
        if "$id" in schema and schema is not self.root:
            raise _Unsupported("$id below the root changes what $ref resolves against")
        keywords = (self._keyword(k, v, schema) for k, v in schema.items() if k not in _ANNOTATIONS)
        checks = [c for c in keywords if c is not None]
        return _every(checks)

    def _keyword(self, key: str, value: Any, schema: Mapping[str, Any]) -> Check | None:
        if key == "$defs":
            return None  # definitions, checked where a $ref uses them
        if key == "type":
            names = [value] if isinstance(value, str) else value
            if not isinstance(names, list) or not all(n in _TYPES for n in names):
                raise _Unsupported("type")
            return _some([_TYPES[n] for n in names])
        if key == "$ref":
            return self._ref(value)
        if key == "properties":
            return self._properties(value)
        if key == "additionalProperties":
            return self._additional(value, schema.get("properties", {}))
        if key == "required":
            names = frozenset(value)
            return lambda v: not isinstance(v, dict) or names.issubset(v)
        if key == "items":
            item = self.compile(value)
            return lambda v: not isinstance(v, list) or all(item(x) for x in v)
        if key in ("anyOf", "oneOf"):
            options = [self.compile(s) for s in value]
            if key == "anyOf":
                return _some(options)
            return lambda v: sum(1 for option in options if option(v)) == 1
        if key in ("enum", "const"):
            return _some([_equal_to(e) for e in (value if key == "enum" else [value])])
        if key == "pattern":
            search = re.compile(value).search
            return lambda v: not isinstance(v, str) or search(v) is not None
        if key == "uniqueItems":
            return _unique if value is True else None
        if key == "format" and value == "regex":
            return lambda v: not isinstance(v, str) or _is_regex(v)
        return self._bound(key, value)

    def _bound(self, key: str, limit: Any) -> Check:
        if key in ("minLength", "maxLength", "minItems", "maxItems"):
            kind = str if key.endswith("Length") else list
            if key.startswith("min"):
                return lambda v: not isinstance(v, kind) or len(v) >= limit
            return lambda v: not isinstance(v, kind) or len(v) <= limit
        if not is_number(limit):
            raise _Unsupported(key)
        compare: dict[str, Check] = {
            "minimum": lambda v: v >= limit,
            "maximum": lambda v: v <= limit,
            "exclusiveMinimum": lambda v: v > limit,
            "exclusiveMaximum": lambda v: v < limit,
        }
        if key not in compare:
            raise _Unsupported(key)
        within = compare[key]
        return lambda v: not is_number(v) or within(v)

    def _properties(self, properties: Mapping[str, Any]) -> Check:
        checks = [(name, self.compile(sub)) for name, sub in properties.items()]

        def check(v: Any) -> bool:
            if isinstance(v, dict):
                for name, sub in checks:
                    if name in v and not sub(v[name]):
                        return False
            return True

        return check

    def _additional(self, value: Any, properties: Mapping[str, Any]) -> Check:
        known = frozenset(properties)
        if value is True:
            return lambda v: True
        if value is False:
            return lambda v: not isinstance(v, dict) or known.issuperset(v)
        extra = self.compile(value)
        return lambda v: (
            not isinstance(v, dict)
            or all(extra(item) for key, item in v.items() if key not in known)
        )

    def _ref(self, ref: Any) -> Check:
        if not isinstance(ref, str) or not ref.startswith("#/$defs/") or "~" in ref:
            raise _Unsupported(f"$ref {ref!r}")
        if ref not in self.refs:
            name = ref.removeprefix("#/$defs/")
            definitions = self.root.get("$defs", {}) if isinstance(self.root, Mapping) else {}
            if name not in definitions:
                raise _Unsupported(f"$ref {ref!r}")
            slot: list[Check] = []
            self.refs[ref] = lambda v: slot[0](v)  # a definition may refer to itself
            slot.append(self.compile(definitions[name]))
        return self.refs[ref]
