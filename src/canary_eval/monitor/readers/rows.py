"""Raw rows of log files: JSONL (one object a line), CSV (a header row), Parquet, gzip, stdin.

Yields (file, line, row) with row a dict; a line that is not a JSON object is rejected on the
tally with its line and the reading goes on. Parquet rows are read in batches through DuckDB and
numbered from 1. `resolve_paths` expands globs, and a pattern matching nothing is an error.
"""

from __future__ import annotations

import csv
import glob
import gzip
import itertools
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from canary_eval.errors import LogError
from canary_eval.monitor.config import STDIN, TABLE
from canary_eval.monitor.readers.tally import Tally

Row = tuple[str, int, dict[str, Any]]
_BATCH = 10_000
MAX_LINE = 16 * 1024 * 1024  # characters; a longer line is a broken record, not a call


def resolve_paths(patterns: Iterable[str]) -> list[str]:
    """Expand globs in order; a pattern matching nothing is a LogError, never a silent skip."""
    paths: list[str] = []
    for pattern in patterns:
        if pattern == STDIN or pattern.startswith(TABLE):
            paths.append(pattern)
            continue
        found = [p for p in sorted(glob.glob(pattern, recursive=True)) if Path(p).is_file()]
        if not found:
            kind = "no file matches" if glob.has_magic(pattern) else "no such file"
            raise LogError(f"{kind} {pattern}", path=pattern)
        paths.extend(found)
    return paths


def container(path: str) -> str:
    """jsonl | csv | parquet, from the file name (a .gz suffix is looked through)."""
    name = path.lower().removesuffix(".gz")
    if name.endswith(".parquet"):
        return "parquet"
    return "csv" if name.endswith(".csv") else "jsonl"


def open_log(path: str, mode: str = "rb", **text: Any) -> Any:
    """A log file opened for reading, decompressed when its name ends in .gz (any case)."""
    opener: Any = gzip.open if path.lower().endswith(".gz") else open
    return opener(path, mode, **text)


def file_rows(path: str, tally: Tally, stdin: TextIO | None) -> Iterator[Row]:
    if path == STDIN:
        if stdin is None:
            raise LogError("logs are configured as '-' but no stdin was given", path=STDIN)
        yield from _text_rows("<stdin>", stdin, None, tally)
        return
    if container(path) == "parquet":
        yield from _parquet_rows(path)
        return
    try:
        with open_log(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
            yield from _text_rows(path, handle, container(path) == "csv", tally)
    except (OSError, EOFError) as exc:
        raise LogError(f"cannot read log file: {exc}", path=path) from exc


def parquet_columns(path: str) -> list[str]:
    """The top-level columns of a Parquet file (what shape its records have), from its footer."""
    return [
        str(row[0])
        for row in _parquet_query("DESCRIBE SELECT * FROM read_parquet(?)", path).fetchall()
    ]


def _parquet_rows(path: str) -> Iterator[Row]:
    cursor = _parquet_query("SELECT * FROM read_parquet(?)", path)
    names = [d[0] for d in cursor.description or ()]
    number = 0
    while batch := cursor.fetchmany(_BATCH):
        for values in batch:
            number += 1
            yield path, number, dict(zip(names, values, strict=True))


def _parquet_query(sql: str, path: str) -> Any:
    import duckdb

    try:
        return duckdb.connect().execute(sql, [path])
    except duckdb.Error as exc:
        raise LogError(f"cannot read Parquet file: {exc}".splitlines()[0], path=path) from None


def _text_rows(name: str, handle: TextIO, is_csv: bool | None, tally: Tally) -> Iterator[Row]:
    if is_csv is None:  # stdin: JSONL when the first non-blank line is an object
        head: list[str] = []
        for line in handle:
            head.append(line)
            if line.strip():
                break
        is_csv = bool(head) and not head[-1].lstrip().startswith("{")
        handle = itertools.chain(head, handle)  # type: ignore[assignment]
    if is_csv:
        yield from _csv_rows(name, handle, tally)
        return
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            tally.total += 1
            tally.reject(name, number, f"line longer than {MAX_LINE:,} characters")
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            tally.total += 1
            tally.reject(name, number, f"invalid JSON: {exc.args[0] if exc.args else exc}")
            continue
        except RecursionError:
            tally.total += 1
            tally.reject(name, number, "invalid JSON: nested too deeply")
            continue
        if not isinstance(row, dict):
            tally.total += 1
            tally.reject(name, number, "not a JSON object")
            continue
        yield name, number, row


def _csv_rows(name: str, handle: TextIO, tally: Tally) -> Iterator[Row]:
    blank = 0  # blank lines before the header would make an empty header
    for line in handle:
        if line.strip():
            handle = itertools.chain([line], handle)  # type: ignore[assignment]
            break
        blank += 1
    reader = csv.DictReader(handle)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a field past csv's size limit: this row only
            tally.total += 1
            # csv has not counted the line it failed on
            tally.reject(name, reader.line_num + blank + 1, f"unreadable CSV: {exc}")
            continue
        number = reader.line_num + blank
        if None in row:
            tally.total += 1
            tally.reject(name, number, "more values than header columns")
            continue
        yield name, number, {k: v for k, v in row.items() if v not in ("", None)}
