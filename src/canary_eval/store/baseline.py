"""The baseline store: a run saved as versioned JSON, written atomically.

A baseline and a saved run (`--save-run`) share one format, so any run can become the baseline
and `compare` can take either. A write goes to a temporary file in the same directory and is
moved into place with `os.replace`: a crash or Ctrl-C never leaves a half-written baseline.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from canary_eval.errors import BaselineError, OutputError
from canary_eval.models import (
    Behaviour,
    CallError,
    CaseResult,
    RunInfo,
    RunResult,
    Score,
    ToolCall,
    Usage,
)
from canary_eval.redaction import redact
from canary_eval.suite.document import json_depth
from canary_eval.suite.schemas.compiled import is_number

SCHEMA_VERSION = 1
FORMAT = "canary-eval/run"


def run_to_dict(run: RunResult) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "info": asdict(run.info),
        "cases": [asdict(case) for case in run.cases],
    }


def save_run(path: Path, run: RunResult) -> None:
    write_atomic(path, json.dumps(run_to_dict(run), indent=1, ensure_ascii=False) + "\n")


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never a part;
    no registered secret is ever written."""
    text = redact(text)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", path=path) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write: {exc.strerror or exc}", path=path) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


STALE_AFTER_S = 600.0  # no write of canary's takes this long: an older temporary is orphaned


def remove_stale_temporaries(path: Path) -> None:
    """Remove the temporaries an earlier write of `path` left behind when it was killed
    (`kill -9`, a power cut), older than STALE_AFTER_S so a concurrent write keeps its own."""
    cutoff = time.time() - STALE_AFTER_S
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            if stale.stat().st_mtime < cutoff:
                stale.unlink()


def load_run(
    path: Path, *, suite: str | None = None, what: str = "baseline", hint: str | None = None
) -> RunResult:
    """Read a saved run; missing, corrupt or another suite's file is a BaselineError whose
    `hint` (by default a generic one for baselines) says how to make a good one."""
    hint = _hint(what, hint)
    data = _read(path, what, hint)
    if not json_depth(data):  # what is built from it is walked recursively later
        raise BaselineError(f"corrupt {what}: JSON nested too deeply; {hint}", path=path)
    try:
        run = _run_from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise BaselineError(f"corrupt {what}: {exc}; {hint}".rstrip("; "), path=path) from None
    _check_suite(run.info.suite, suite, path, what, hint)
    return run


@dataclass(frozen=True)
class CaseScore:
    """A saved case as `canary validate` states limits from it: no output, no usage."""

    intent: str | None
    score: float | None
    samples: tuple[float, ...]


def load_scores(path: Path, *, suite: str) -> tuple[CaseScore, ...]:
    """The cases' intents and scores of the baseline `path`: the file checked as `load_run`
    checks it, and those fields' types too (they are summed). A third of `load_run`'s time on a
    2,000-case baseline, as no result is built."""
    hint = _hint("baseline", None)
    data = _read(path, "baseline", hint)
    try:
        saved_suite = data["info"]["suite"]
        scores = tuple(_case_score(raw) for raw in data["cases"])
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise BaselineError(f"corrupt baseline: {exc}; {hint}", path=path) from None
    _check_suite(saved_suite, suite, path, "baseline", hint)
    return scores


def _case_score(raw: dict[str, Any]) -> CaseScore:
    intent, score, samples = raw.get("intent"), raw["score"], tuple(raw.get("samples", ()))
    numbers = (score, *samples) if score is not None else samples
    if not isinstance(intent, str | None) or not all(is_number(x) for x in numbers):
        raise ValueError(f"case {raw.get('id')!r}: intent, score or samples of the wrong type")
    return CaseScore(intent, score, samples)


def _hint(what: str, hint: str | None) -> str:
    if hint is not None:
        return hint
    return "create one with `canary baseline SUITE.yaml`" if what == "baseline" else ""


def _read(path: Path, what: str, hint: str) -> dict[str, Any]:
    """The saved run's JSON, once it is readable and of this format and version."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"no {what} here; {hint}".rstrip("; "), path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"cannot read {what}: {exc}", path=path) from None
    except json.JSONDecodeError as exc:
        raise BaselineError(
            f"corrupt {what} (invalid JSON: {exc.msg}); {hint}".rstrip("; "),
            path=path,
            line=exc.lineno,
        ) from None
    except RecursionError:
        raise BaselineError(f"corrupt {what}: JSON nested too deeply; {hint}", path=path) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BaselineError(f"not a canary {what} file; {hint}".rstrip("; "), path=path)
    if data.get("schema_version") != SCHEMA_VERSION:
        raise BaselineError(
            f"{what} schema version {data.get('schema_version')} is not {SCHEMA_VERSION}; "
            "record a new one with `canary baseline`",
            path=path,
        )
    return data


def _check_suite(saved: str, suite: str | None, path: Path, what: str, hint: str) -> None:
    if suite is not None and saved != suite:
        raise BaselineError(
            f"{what} belongs to suite '{saved}', not '{suite}'; {hint}".rstrip("; "),
            path=path,
        )


def _run_from_dict(data: dict[str, Any]) -> RunResult:
    raw_info = dict(data["info"])
    raw_info["judges"] = tuple(raw_info.get("judges", ()))
    info = RunInfo(**raw_info)
    return RunResult(info, tuple(_case(c) for c in data["cases"]))


def _case(raw: dict[str, Any]) -> CaseResult:
    fields = dict(raw)
    fields["scores"] = tuple(Score(**s) for s in raw.get("scores", ()))
    fields["error"] = CallError(**raw["error"]) if raw.get("error") else None
    fields["usage"] = Usage(**raw.get("usage", {}))
    fields["behaviour"] = Behaviour(**raw.get("behaviour", {}))
    fields["samples"] = tuple(raw.get("samples", ()))
    fields["tool_calls"] = tuple(ToolCall(**t) for t in raw.get("tool_calls", ()))
    return CaseResult(**fields)
