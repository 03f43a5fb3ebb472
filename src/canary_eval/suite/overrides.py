"""`--set KEY=VALUE`: change any suite-config key from the command line without editing the
file (`--set provider.model=gpt-4o-2026-01`), for trying a vendor's new model version against the
baseline by hand. Keys use the config's own paths (`thresholds.per_intent.min_cases`,
`scorers[0].threshold`); values are YAML scalars or flow collections (`0.05`, `true`, `[a, b]`).
The result is validated like the file, and an error names the `--set` it came from.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from canary_eval.errors import ConfigError
from canary_eval.suite.document import format_key, parse_key, parse_yaml


def parse_assignments(items: list[str]) -> dict[str, str]:
    """`["a.b=1", ...]` -> `{"a.b": "1"}`; raises ValueError naming a malformed one."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not parse_key(key.strip()):
            raise ValueError(f"'{item}' is not KEY=VALUE")
        out[format_key(parse_key(key.strip()))] = value
    return out


def apply_overrides(
    data: dict[str, Any], overrides: Mapping[str, str], path: Path
) -> dict[str, Any]:
    """A copy of `data` with every override set; `data` is not changed."""
    if not overrides:
        return data
    result = copy.deepcopy(data)
    for key, text in overrides.items():
        try:
            value = parse_yaml(text) if text.strip() else ""
        except yaml.YAMLError:
            raise ConfigError(
                f"'{text}' is not a valid value", path=path, key=_where(key)
            ) from None
        _set(result, parse_key(key), value, path, key)
    return result


def _set(node: Any, parts: tuple[str | int, ...], value: Any, path: Path, key: str) -> None:
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise ConfigError(f"there is no item {part} to set", path=path, key=_where(key))
        elif not isinstance(node, dict):
            raise ConfigError(
                f"'{format_key(parts[:i])}' is not a mapping", path=path, key=_where(key)
            )
        elif not last and not isinstance(node.get(part), dict | list):
            node[part] = {}
        if last:
            node[part] = value
        else:
            node = node[part]


@contextmanager
def blame_override(overrides: Mapping[str, str]) -> Iterator[None]:
    """A ConfigError about an overridden key names the `--set`, not a line of the file."""
    try:
        yield
    except ConfigError as error:
        key = error.key or ""
        culprit = next(
            (k for k in overrides if key == k or key.startswith((f"{k}.", f"{k}["))), None
        )
        if culprit is None:
            raise
        raise ConfigError(error.message, path=error.path, key=_where(key)) from None


def _where(key: str) -> str:
    return f"{key} (--set)"
