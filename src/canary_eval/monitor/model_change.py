"""Model changes seen in production: when the served model of the calls changes in the windows.

Fallback calls do not count (a fallback model is a different model on purpose). A change is a
model first seen after the span began that serves most primary calls from then on, replacing the
model that served most of them before. When the config says `on_model_change: {run: SUITE}`, the
monitor runs `canary run SUITE` (bounded by `timeout_s`) so a vendor update seen in production
triggers the offline canary, and reports its verdict and exit code.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canary_eval.monitor import aggregate
from canary_eval.monitor.aggregate import SegmentFigures, WindowFigures
from canary_eval.monitor.config import MonitorConfig
from canary_eval.monitor.engine import queries

if TYPE_CHECKING:
    from canary_eval.monitor.engine import Engine


@dataclass(frozen=True)
class CanaryRun:
    suite: str
    exit_code: int
    verdict: str | None  # from its JSON report; None when it wrote none
    detail: str  # the last line it printed when it could not judge


@dataclass(frozen=True)
class Change:
    at_ts: float  # the first primary call of the new model, epoch seconds
    before: str
    after: str

    @property
    def at(self) -> str:
        stamp = datetime.fromtimestamp(self.at_ts, UTC).isoformat(timespec="seconds")
        return stamp.replace("+00:00", "Z")


def detect(rows: Sequence[tuple[Any, ...]]) -> Change | None:
    """From (window, model, fallback, calls, first ts) rows: the change, if there is one."""
    calls: dict[str, int] = {}
    first: dict[str, float] = {}
    for _, model, fallback, n, since in rows:
        if fallback:
            continue
        calls[model] = calls.get(model, 0) + int(n)
        first[model] = min(first.get(model, float(since)), float(since))
    if len(calls) < 2:
        return None
    earliest = min(first.values())
    newcomers = [m for m in calls if first[m] > earliest]
    if not newcomers:
        return None
    after = max(newcomers, key=lambda m: (calls[m], m))
    older = [m for m in calls if first[m] < first[after]]
    before = max(older, key=lambda m: (calls[m], m))
    return Change(first[after], before, after)


def majority_after(rows: Sequence[tuple[Any, ...]], change: Change) -> bool:
    """Whether the new model served most primary calls from the change on (rows: model, n)."""
    counts = {str(m): int(n) for m, n in rows}
    total = sum(counts.values())
    return total > 0 and counts.get(change.after, 0) * 2 > total


def run_canary(suite: Path, timeout_s: float) -> CanaryRun:
    """`canary run SUITE --json ...` in a child process; its output is not shown."""
    with tempfile.TemporaryDirectory(prefix="canary-model-change-") as tmp:
        report = Path(tmp) / "run.json"
        command = [sys.executable, "-m", "canary_eval", "run", str(suite), "--json", str(report)]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            return CanaryRun(str(suite), 3, None, f"timed out after {timeout_s:g} s")
        verdict = None
        if report.is_file():
            try:
                verdict = str(json.loads(report.read_text(encoding="utf-8")).get("verdict"))
            except (ValueError, OSError, AttributeError):
                verdict = None
        lines = [ln for ln in (done.stderr or done.stdout or "").splitlines() if ln.strip()]
        return CanaryRun(str(suite), done.returncode, verdict, lines[-1] if lines else "")


@dataclass(frozen=True)
class ModelChangeFigures:
    """A change of served model inside the windows, every figure split at it."""

    at: str  # ISO 8601, UTC
    before: str
    after: str
    segments: tuple[SegmentFigures, ...]  # overall first; reference = before, current = after
    canary: CanaryRun | None


def split_at_change(
    config: MonitorConfig,
    db: Engine,
    figures: WindowFigures,
    start: float,
    end: float,
    *,
    in_memory: bool = False,
) -> ModelChangeFigures | None:
    found = detect(figures.model_rows)
    if found is None or not majority_after(db.rows(queries.models_since(found.at_ts)), found):
        return None
    edge = found.at_ts - 1e-6  # the first call of the new model is "after"
    windows = [("before", start, edge), ("after", edge, end)]
    split = aggregate.aggregate(db, windows, in_memory=in_memory)
    intents = sorted({i for w in split.intent_calls.values() for i in w})
    after_calls = split.ops_of("after", None).calls or 1
    segments = tuple(
        SegmentFigures(
            intent,
            split.ops_of("before", intent),
            split.ops_of("after", intent),
            split.signals_of("before", intent),
            split.signals_of("after", intent),
            split.ops_of("after", intent).calls / after_calls if intent else 1.0,
            None,
            None,
        )
        for intent in (None, *intents)
    )
    canary = None
    if config.on_model_change is not None:
        canary = run_canary(config.on_model_change, config.on_model_change_timeout_s)
    return ModelChangeFigures(found.at, found.before, found.after, segments, canary)
