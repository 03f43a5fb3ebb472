"""Canonical JSONL read in place by DuckDB: which files can be, and the SQL that decodes them.

A canonical JSONL log need not pass through Python line by line (json.loads, field mapping and
timestamps took 20 s for a million calls). DuckDB reads its lines as text, numbered from 1 in
file order (`row_number() OVER ()` over a single scan: DuckDB documents that it keeps the
file's order there), and one extraction per line gives every field as text, which
readers.parquet types and checks as it does a Parquet string column. A line that is not a JSON
object gets the reason the line reader would give it, with its line number.

Files the line reader would read differently stay with it: stdin, shapes other than canonical,
bytes that are not UTF-8 (the line reader replaces them, DuckDB refuses the file), lines past
MAX_LINE (bad records to the line reader, an error to DuckDB) and the control character 0x1f,
which DuckDB is told separates columns (a JSON line cannot hold it unescaped, so no good line
is split).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping, Sequence
from typing import Any

from canary_eval.monitor.readers.parquet import Column, literal
from canary_eval.monitor.readers.rows import MAX_LINE, open_log

_SEPARATOR = "\x1f"
_CHUNK = 1 << 23
_SHAPE_LINES = 1_000  # lines searched for the first record, to tell the file's shape
# Fields whose JSON type the line reader checks: their JSON types (besides null) and the reason.
_TYPED = {
    "input": (("VARCHAR",), "input: not a string"),
    "task_id": (("VARCHAR", "BIGINT", "UBIGINT"), "task_id: not an id"),
}


def readable_in_place(path: str) -> bool:
    """Whether DuckDB reads the file's lines as the line reader does: UTF-8, no 0x1f, and no
    line longer than MAX_LINE bytes (the line reader counts those as bad records)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 0  # bytes since the last newline
    try:
        with open_log(path) as handle:
            while chunk := handle.read(_CHUNK):
                if b"\x1f" in chunk:
                    return False
                if not chunk.isascii() or decoder.getstate()[0]:  # ASCII needs no decoding
                    decoder.decode(chunk)
                # Lines inside one chunk are shorter than a chunk: only one that spans
                # chunks can be too long.
                first, last = chunk.find(b"\n"), chunk.rfind(b"\n")
                if line + (len(chunk) if first < 0 else first) > MAX_LINE:
                    return False
                line = line + len(chunk) if first < 0 else len(chunk) - last - 1
            decoder.decode(b"", final=True)
    except (UnicodeDecodeError, OSError, EOFError):
        return False  # the line reader names what is wrong with it
    return True


def first_record(path: str) -> dict[str, Any] | None:
    """The file's first JSON object among its first lines (what shape its records have)."""
    try:
        with open_log(path) as handle:
            for _, line in zip(range(_SHAPE_LINES), handle, strict=False):
                try:
                    row = json.loads(line)
                except (ValueError, RecursionError):
                    continue
                if isinstance(row, dict):
                    return row
    except (OSError, EOFError):
        pass
    return None


def lines_sql(paths: Sequence[str]) -> str:
    """A relation of every line of `paths`: src_file, src_row (the line number), line."""
    return " UNION ALL ".join(
        f"SELECT {literal(path)} AS src_file, row_number() OVER () AS src_row, line "
        f"FROM read_csv({literal(path)}, columns = {{'line': 'VARCHAR'}}, header = false, "
        f"auto_detect = false, delim = {literal(_SEPARATOR)}, quote = '', escape = '', "
        f"strict_mode = false, max_line_size = {MAX_LINE + 2})"
        for path in paths
    )


def decoded_sql(
    lines: str, fields: Mapping[str, str], names: Sequence[str]
) -> tuple[str, dict[str, Column]]:
    """(SELECT over `lines` with `problem` and the fields as text, the canonical columns
    `names` as expressions over it).

    `problem` names a line that is no record (not JSON, not an object) or a field of the
    wrong JSON type; blank lines are left out, as the line reader leaves them.
    """
    sources = {name: fields.get(name, name) for name in names}
    paths = [_path(source) for source in sources.values()]
    checked = [name for name in _TYPED if name in sources]
    types = ", ".join(["'$'", *(_path(sources[name]) for name in checked)])
    type_problems = " ".join(
        f"WHEN t[{i}] NOT IN ({', '.join(map(literal, (*_TYPED[name][0], 'NULL')))}) "
        f"THEN {literal(_TYPED[name][1])}"
        for i, name in enumerate(checked, 2)
    )
    problem = (
        "CASE WHEN t IS NULL THEN 'invalid JSON' WHEN t[1] <> 'OBJECT' THEN 'not a JSON object' "
        f"{type_problems} END"
    )
    typed = f"SELECT src_file, src_row, line, try(json_type(line, [{types}])) AS t FROM ({lines}) l"
    # Only a line that is not JSON can be blank: the costly test runs on those alone.
    blank = r"regexp_full_match(line, '\s*')"
    select = (
        f"SELECT src_file, src_row, {problem} AS problem, CASE WHEN t[1] = 'OBJECT' THEN "
        f"json_extract_string(line, [{', '.join(paths)}]) END AS v FROM ({typed}) typed "
        f"WHERE line IS NOT NULL AND (t IS NOT NULL OR NOT {blank})"
    )
    columns = {name: Column(f"v[{i}]", "string") for i, name in enumerate(sources, 1)}
    return select, columns


def _path(source: str) -> str:
    """The JSON path of a field (`a.b` reaches into objects), each key quoted."""
    keys = ".".join('"' + part.replace('"', '\\"') + '"' for part in source.split("."))
    return literal("$." + keys)
