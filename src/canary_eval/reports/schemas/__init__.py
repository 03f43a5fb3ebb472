"""The published JSON Schemas of canary's JSON output, one per document kind:

    run-report      `canary run/compare/rescore --json`
    saved-run       a baseline or `--save-run` file
    monitor-report  `canary monitor --json`

Each document carries `schema_version`; a change that removes or retypes a key raises it, a new
key does not (the schemas allow keys they do not list, so consumers must too).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

REPORT_SCHEMA_VERSION = 1
NAMES = ("run-report", "saved-run", "monitor-report")


@cache
def report_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) named `name`, one of NAMES."""
    if name not in NAMES:
        raise KeyError(name)
    # Beside this module (importlib.resources would cost its import and zipfile's at start-up).
    text = Path(__file__).with_name(f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def report_validator(name: str) -> Any:
    """A draft 2020-12 validator for `name` that resolves the schemas' references to each other."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry().with_resources(
        (f"{n}.schema.json", Resource.from_contents(report_schema(n))) for n in NAMES
    )
    return Draft202012Validator(report_schema(name), registry=registry)
