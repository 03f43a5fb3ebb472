"""YAML documents that remember the line of every key, so errors can point at it; and the
durations configs spell as 30m, 24h or 7d.

The text is composed once into nodes, which carry the lines, and the data is constructed from
those nodes by the safe loader's constructors: exactly what `yaml.safe_load` would build.

Files come from people and tools canary does not control, so the nodes are checked before
anything is built from them: a duplicate key is an error (YAML forbids it; PyYAML would keep the
last), aliases may expand to at most `MAX_ALIAS_NODES` nodes (a 670-byte "billion laughs" file
would otherwise expand to hundreds of millions), nesting is bounded by `MAX_DEPTH`, and a NUL or
other control byte is reported with its line instead of PyYAML's two-line message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from canary_eval.errors import InputError

KeyPath = tuple[str | int, ...]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_ALIAS_NODES = 10_000  # nodes reached through aliases, all aliases together
MAX_DEPTH = 64  # nested mappings and lists, in YAML and in JSON
_BAD_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# libyaml's safe loader when it is there: the same safe constructors, parsed in C.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Document:
    """Parsed YAML plus the 1-based line where each key path starts."""

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, key: KeyPath) -> int | None:
        """The line of `key`, or of its nearest ancestor that has one."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)


def parse_yaml(text: str) -> Any:
    """What `yaml.safe_load` returns, parsed by libyaml when it is there."""
    loader = _SafeLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def parse_duration(text: str) -> timedelta:
    """'24h' -> timedelta(hours=24); units s, m, h, d, w."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 24h, 7d)")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def format_key(key: KeyPath) -> str:
    """`("provider", "concurrency")` -> `provider.concurrency`; `("cases", 3)` -> `cases[3]`."""
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def parse_key(text: str) -> KeyPath:
    """`scorers[1].value` -> `("scorers", 1, "value")`: the inverse of `format_key`."""
    return tuple(
        int(index) if index else name for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", text)
    )


def load_document(path: Path, error: type[InputError]) -> Document:
    """Read and parse `path`; a missing file or bad YAML raises `error` naming the line."""
    text = read_text(path, error)
    bad = _BAD_CHARACTER.search(text)
    if bad:
        at = text.count("\n", 0, bad.start()) + 1
        what = "a NUL byte" if bad.group() == "\0" else f"control character {bad.group()!r}"
        raise error(f"invalid YAML: {what} (YAML text cannot hold one)", path=path, line=at)
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[KeyPath, int] = {}
        data = _Walk(path, error, loader).collect(node, (), lines) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise error(f"invalid YAML: {exc.problem or exc.context}", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", path=path) from None
    except RecursionError:
        raise error(f"invalid YAML: nested more than {MAX_DEPTH} levels deep", path=path) from None
    finally:
        loader.dispose()
    return Document(path, data, lines)


def read_text(path: Path, error: type[InputError]) -> str:
    """The file as UTF-8; a byte that is not UTF-8 is reported with its line."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error("file not found", path=path) from None
    except IsADirectoryError:
        raise error("is a directory, not a file", path=path) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", path=path) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        message = f"not UTF-8: byte {raw[exc.start]:#04x} cannot be decoded"
        raise error(message, path=path, line=line) from None


_CONTAINERS = (dict, list)  # a tuple: isinstance takes it faster than the union dict | list


def json_depth(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when parsed JSON nests at most `limit` levels (checked level by level, without
    recursion; only containers are visited, so a 2,000-case baseline takes milliseconds)."""
    level = [value] if isinstance(value, _CONTAINERS) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return False
        inner: list[Any] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            inner += [child for child in children if isinstance(child, _CONTAINERS)]
        level = inner
    return True


_STR, _MAP, _SEQ = (f"tag:yaml.org,2002:{kind}" for kind in ("str", "map", "seq"))


@dataclass
class _Walk:
    """One pass over the nodes: lines collected, duplicate keys, alias expansion and depth
    checked, and the data built. An alias is the same node object met again, so re-visits are
    what aliases cost. Plain strings, mappings and lists, nearly all of a suite or eval set, are
    built here, as the safe loader would build them; every other node (numbers, booleans, dates,
    merge keys) by the loader's own constructors."""

    path: Path
    error: type[InputError]
    loader: Any
    seen: set[int] = field(default_factory=set)
    aliased: int = 0
    built: dict[int, Any] = field(default_factory=dict)

    def collect(
        self, node: yaml.Node, key: KeyPath, lines: dict[KeyPath, int], via_alias: bool = False
    ) -> Any:
        line = node.start_mark.line + 1
        if len(key) > MAX_DEPTH:
            self.fail(f"nested more than {MAX_DEPTH} levels deep", line, key)
        via_alias = via_alias or id(node) in self.seen
        if via_alias:
            self.aliased += 1
            if self.aliased > MAX_ALIAS_NODES:
                message = f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes (an alias bomb?)"
                self.fail(message, line, key)
        elif isinstance(node, yaml.CollectionNode):
            self.seen.add(id(node))
        lines.setdefault(key, line)
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            values = []
            for k, v in node.value:
                name, at = str(k.value), k.start_mark.line + 1
                if name in first and k.tag != "tag:yaml.org,2002:merge" and not via_alias:
                    self.fail(f"duplicate key '{name}' (first at line {first[name]})", at, key)
                first.setdefault(name, at)
                child = (*key, name)
                lines[child] = at
                values.append(self.collect(v, child, lines, via_alias))
            plain = node.tag == _MAP and all(k.tag == _STR for k, _ in node.value)
            if not plain:
                return self.construct(node)
            return self.built.setdefault(
                id(node), {k.value: v for (k, _), v in zip(node.value, values, strict=True)}
            )
        if isinstance(node, yaml.SequenceNode):
            items = [
                self.collect(item, (*key, i), lines, via_alias) for i, item in enumerate(node.value)
            ]
            return (
                self.built.setdefault(id(node), items) if node.tag == _SEQ else self.construct(node)
            )
        return node.value if node.tag == _STR else self.construct(node)

    def construct(self, node: yaml.Node) -> Any:
        if id(node) not in self.built:
            self.built[id(node)] = self.loader.construct_object(node, deep=True)
        return self.built[id(node)]

    def fail(self, message: str, line: int, key: KeyPath) -> None:
        raise self.error(message, path=self.path, line=line, key=format_key(key) or None)
