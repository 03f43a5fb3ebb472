"""Eval sets: YAML (`cases:`), JSONL (one case a line) or CSV (a header row) -> `EvalSet`.

Every case gets a content hash over what defines it (input, history, tool results, references,
scorers and any other prompt field, but not its id, intent, metadata or `critical` flag), so a
later run pairs with the baseline only where the case is unchanged. A case without `input` is a
conversation: the last user message of its `messages` is the turn under test.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from canary_eval.errors import EvalSetError
from canary_eval.models import Case, EvalSet, ToolResult
from canary_eval.suite.config import scorer_specs
from canary_eval.suite.document import MAX_DEPTH, Document, json_depth, load_document, read_text
from canary_eval.suite.schemas import validate

# Fields that describe a case rather than define what is asked and expected.
_DESCRIPTIVE = {"id", "intent", "metadata", "critical"}


def load_evalset(path: str | Path) -> EvalSet:
    """Load, validate and hash an eval set; problems raise EvalSetError naming file and line."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        rows = list(_yaml_rows(path))
    elif suffix in (".jsonl", ".ndjson"):
        rows = list(_jsonl_rows(path))
    elif suffix == ".csv":
        rows = list(_csv_rows(path))
    else:
        raise EvalSetError("unknown eval-set format (use .yaml, .jsonl or .csv)", path=path)
    if not rows:
        raise EvalSetError("the eval set has no cases", path=path)
    cases: list[Case] = []
    seen: dict[str, int | None] = {}
    for index, (line, raw) in enumerate(rows):
        case = _case(path, index, line, raw)
        if case.id in seen:
            first = f" (first at line {seen[case.id]})" if seen[case.id] else ""
            raise EvalSetError(
                f"duplicate case id '{case.id}'{first}",
                path=path,
                line=line,
                key=f"cases[{index}].id",
            )
        seen[case.id] = line
        cases.append(case)
    digest = hashlib.sha256()
    for case in cases:
        digest.update(f"{case.id}\0{case.content_hash}\n".encode())
    return EvalSet(str(path), tuple(cases), digest.hexdigest()[:16])


def _case(path: Path, index: int, line: int | None, raw: Any) -> Case:
    key = f"cases[{index}]"
    doc = Document(path, raw, {(): line} if line else {})
    if not isinstance(raw, dict):
        raise EvalSetError(
            "a case must be a mapping with id and input", path=path, line=line, key=key
        )
    try:
        validate(doc, "evalset", EvalSetError)
    except EvalSetError as exc:
        raise EvalSetError(exc.message, path=path, line=line, key=f"{key}.{exc.key}") from None
    reference = raw.get("reference")
    references = tuple(
        str(r) for r in (reference if isinstance(reference, list) else [reference]) if r is not None
    )
    history = list(raw.get("messages", ()))
    if "input" in raw:
        turn = str(raw["input"])
    elif history[-1].get("role") == "user" and isinstance(history[-1].get("content"), str):
        turn = history.pop()["content"]  # the last user message is the turn under test
    else:
        raise EvalSetError(
            "without input, messages must end with the user turn under test (text content)",
            path=path,
            line=line,
            key=f"{key}.messages[{len(history) - 1}]",
        )
    fields = {k: v for k, v in raw.items() if k != "scorers"} | {"input": turn}
    defining = {k: v for k, v in raw.items() if k not in _DESCRIPTIVE}
    content_hash = hashlib.sha256(
        json.dumps(defining, sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    return Case(
        id=str(raw["id"]),
        input=turn,
        messages=tuple(history),
        tool_results=_tool_results(raw.get("tool_results", {})),
        max_turns=raw.get("max_turns"),
        critical=raw.get("critical", False),
        reference=references[0] if references else None,
        references=references,
        intent=str(raw["intent"]) if raw.get("intent") is not None else None,
        scorers=scorer_specs(raw.get("scorers", []), f"{key}.scorers"),
        metadata=raw.get("metadata", {}),
        fields=fields,
        content_hash=content_hash,
        line=line,
    )


def _tool_results(raw: dict[str, Any] | list[dict[str, Any]]) -> tuple[ToolResult, ...]:
    """`{name: content}` or `[{name, arguments, content}]`; non-text content is sent as JSON."""
    items = [{"name": k, "content": v} for k, v in raw.items()] if isinstance(raw, dict) else raw
    return tuple(
        ToolResult(
            name=item["name"],
            content=c if isinstance(c := item["content"], str) else json.dumps(c),
            arguments=item.get("arguments"),
        )
        for item in items
    )


def _yaml_rows(path: Path) -> Iterator[tuple[int | None, Any]]:
    doc = load_document(path, EvalSetError)
    data = doc.data
    if isinstance(data, dict):
        if "cases" not in data:
            raise EvalSetError("expected a 'cases:' list", path=path, line=1, key="cases")
        data = data["cases"]
        prefix: tuple[str, ...] = ("cases",)
    else:
        prefix = ()
    if data is None:
        return
    if not isinstance(data, list):
        raise EvalSetError(
            "'cases' must be a list", path=path, line=doc.line_of(prefix), key="cases"
        )
    for i, raw in enumerate(data):
        yield doc.line_of((*prefix, i)), raw


def _jsonl_rows(path: Path) -> Iterator[tuple[int | None, Any]]:
    text = read_text(path, EvalSetError)
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, _json(line, path, number, "invalid JSON")


def _json(text: str, path: Path, line: int | None, what: str) -> Any:
    """Parsed JSON nested at most MAX_DEPTH levels; anything else is an error on that line."""
    try:
        value = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise EvalSetError(f"{what}: {exc.msg}", path=path, line=line) from None
    except RecursionError:
        value = None
        ok = False
    else:
        ok = json_depth(value)
    if not ok:
        raise EvalSetError(
            f"{what}: nested more than {MAX_DEPTH} levels deep", path=path, line=line
        )
    return value


def _not_json(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not a JSON number", name, 0)


def _csv_rows(path: Path) -> Iterator[tuple[int | None, Any]]:
    reader = csv.DictReader(io.StringIO(read_text(path, EvalSetError), newline=""))
    line = 1
    try:
        previous = reader.line_num if reader.fieldnames else 0  # reads the header row
        for row in reader:
            line, previous = previous + 1, reader.line_num  # a quoted row may span lines
            if None in row:  # DictReader files cells beyond the header under None
                extra = len(row[None])
                raise EvalSetError(
                    f"{extra} more cell(s) than the header has columns", path=path, line=line
                )
            case: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
            for column in ("scorers", "metadata"):
                if column in case:
                    case[column] = _json(
                        case[column], path, line, f"column '{column}' must hold JSON"
                    )
            flag = str(case.get("critical", "")).lower()
            if flag in ("true", "false"):  # CSV has no booleans; anything else the schema names
                case["critical"] = flag == "true"
            yield line, case
    except csv.Error as exc:
        raise EvalSetError(f"invalid CSV: {exc}", path=path, line=reader.line_num or line) from None
