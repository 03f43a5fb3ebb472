"""Choosing a canonical field's value from a vendor record: the `fields:` mapping first, then the
documented places of that vendor's export shape, in order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from canary_eval.monitor.readers.shape import ShapeOptions, dig


def pick(row: Mapping[str, Any], options: ShapeOptions, name: str, *paths: str) -> Any:
    mapped = options.fields.get(name)
    for path in (mapped,) if mapped else paths:
        value = dig(row, path)
        if value is not None and value != "":
            return value
    return None
