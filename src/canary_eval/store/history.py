"""Run history: every run's summary in SQLite, so the canary can say when a change began.

One row per run (time, verdict, scores, per-intent scores, ops and behaviour figures, served
model) and one per model probe (`--if-model-changed`). The database runs in WAL mode with a busy
timeout, and every write is one short `BEGIN IMMEDIATE` transaction, so two cron runs that
overlap both land and readers never block writers. Reading a database that does not exist yet
returns nothing and creates nothing.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from canary_eval.errors import OutputError
from canary_eval.verdict.calibration import PastRun, SeriesState
from canary_eval.verdict.compare import Comparison

BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    suite TEXT NOT NULL,
    time TEXT NOT NULL,
    verdict TEXT NOT NULL,
    exit_code INTEGER NOT NULL,
    score REAL,
    baseline_score REAL,
    relative_drop REAL,
    p_value REAL,
    intents TEXT NOT NULL,
    latency_p50_ms REAL,
    latency_p95_ms REAL,
    error_rate REAL,
    cost_per_case_usd REAL,
    rate_limited INTEGER,
    mean_chars REAL,
    refusal_rate REAL,
    hedging_rate REAL,
    served_model TEXT,
    breached INTEGER NOT NULL DEFAULT 0,
    prompt_hash TEXT,
    reference_key TEXT,
    alarm TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_suite ON runs (suite, id);
CREATE TABLE IF NOT EXISTS model_checks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    suite TEXT NOT NULL,
    time TEXT NOT NULL,
    served_model TEXT
);
CREATE INDEX IF NOT EXISTS model_checks_by_suite ON model_checks (suite, id);
"""

_COLUMNS = (
    "suite",
    "time",
    "verdict",
    "exit_code",
    "score",
    "baseline_score",
    "relative_drop",
    "p_value",
    "intents",
    "latency_p50_ms",
    "latency_p95_ms",
    "error_rate",
    "cost_per_case_usd",
    "rate_limited",
    "mean_chars",
    "refusal_rate",
    "hedging_rate",
    "served_model",
    "breached",
    "prompt_hash",
    "reference_key",
    "alarm",
)
# Columns added after the first release: older databases get them on their next write, and
# read them as NULL until then.
_ADDED = {"prompt_hash": "TEXT", "reference_key": "TEXT", "alarm": "TEXT"}


@dataclass(frozen=True)
class HistoryRow:
    """One recorded run. Figures that could not be computed (no paired cases) are None."""

    suite: str
    time: str  # ISO 8601, the run's own creation time
    verdict: str
    exit_code: int
    score: float | None
    baseline_score: float | None
    relative_drop: float | None
    p_value: float | None
    intents: dict[str, float | None]
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    error_rate: float | None
    cost_per_case_usd: float | None
    rate_limited: int | None
    mean_chars: float | None
    refusal_rate: float | None
    hedging_rate: float | None
    served_model: str | None
    breached: int = 0  # failing alerts in that run
    prompt_hash: str | None = None  # the rendered prompt's hash, to mark prompt changes
    reference_key: str | None = None  # runs with the same key calibrate each other's alarms
    alarm: dict[str, dict[str, Any]] = field(default_factory=dict)  # CUSUM state per series


def summary_row(comparison: Comparison) -> HistoryRow:
    """The history row of a run."""
    c, q = comparison, comparison.quality
    return HistoryRow(
        suite=c.suite,
        time=c.run.info.created_at,
        verdict=c.verdict,
        exit_code=c.exit_code,
        score=_real(q.score),
        baseline_score=_real(q.baseline_score),
        relative_drop=_real(q.relative_drop),
        p_value=_real(q.p_value),
        intents={row.intent: _real(row.score) for row in c.intents},
        latency_p50_ms=c.ops.latency_p50_ms,
        latency_p95_ms=c.ops.latency_p95_ms,
        error_rate=c.ops.error_rate,
        cost_per_case_usd=c.ops.cost_per_case_usd,
        rate_limited=c.ops.rate_limited,
        mean_chars=c.behaviour.mean_chars,
        refusal_rate=c.behaviour.refusal_rate,
        hedging_rate=c.behaviour.hedging_rate,
        served_model=c.served_model,
        breached=sum(a.failing for a in c.alerts),
        prompt_hash=c.run.info.prompt_hash or None,
        reference_key=c.reference_key,
        alarm={r.name: asdict(r.state) for r in c.calibration},
    )


def with_current(rows: Sequence[HistoryRow], comparison: Comparison) -> list[HistoryRow]:
    """The suite's rows, plus this run at the end unless it is already recorded there."""
    mine = [r for r in rows if r.suite == comparison.suite]
    if mine and mine[-1].time == comparison.run.info.created_at:
        return mine
    return [*mine, summary_row(comparison)]


def record(db_path: Path, comparison: Comparison) -> None:
    """Append the run's summary to the history."""
    row = summary_row(comparison)
    values = [getattr(row, name) for name in _COLUMNS]
    values[_COLUMNS.index("intents")] = json.dumps(row.intents)
    values[_COLUMNS.index("alarm")] = json.dumps(row.alarm)
    marks = ", ".join("?" * len(_COLUMNS))
    with _writing(db_path) as db:
        db.execute(f"INSERT INTO runs ({', '.join(_COLUMNS)}) VALUES ({marks})", values)


def recent(db_path: Path, suite: str, limit: int = 50) -> list[HistoryRow]:
    """The suite's last `limit` runs, oldest first."""
    with _reading(db_path) as db:
        if db is None:
            return []
        present = {info[1] for info in db.execute("PRAGMA table_info(runs)")}
        columns = ", ".join(c if c in present else "NULL" for c in _COLUMNS)
        rows = db.execute(
            f"SELECT {columns} FROM runs WHERE suite = ? ORDER BY id DESC LIMIT ?",
            (suite, limit),
        ).fetchall()
    return [_row(r) for r in reversed(rows)]


def past_runs(db_path: Path, suite: str, limit: int = 200) -> list[PastRun]:
    """The suite's last runs as the quality alarms' calibration reads them, oldest first."""
    return [past_run(row) for row in recent(db_path, suite, limit)]


def past_run(row: HistoryRow) -> PastRun:
    """A history row as the quality alarms' calibration reads it."""
    return PastRun(
        healthy=row.verdict != "error",
        key=row.reference_key or "",
        series={name: _state(state) for name, state in row.alarm.items()},
    )


def _state(saved: dict[str, Any]) -> SeriesState:
    return SeriesState(
        x=float(saved.get("x", 0.0)),
        spread=float(saved.get("spread", 0.0)),
        s=float(saved.get("s", 0.0)),
        runs=int(saved.get("runs", 0)),
        deficit=float(saved.get("deficit", 0.0)),
        paged=bool(saved.get("paged", False)),
    )


def last_verdict(db_path: Path, suite: str) -> str | None:
    """The verdict of the suite's last recorded run; None before the first."""
    return _last(
        db_path, "SELECT verdict FROM runs WHERE suite = ? ORDER BY id DESC LIMIT 1", suite
    )


def last_served_model(db_path: Path, suite: str) -> str | None:
    """The served model of the suite's last recorded run."""
    query = "SELECT served_model FROM runs WHERE suite = ? ORDER BY id DESC LIMIT 1"
    return _last(db_path, query, suite)


def record_model_check(db_path: Path, suite: str, served_model: str | None) -> None:
    """Remember what a probe (`served_model_probe`) said the endpoint serves."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with _writing(db_path) as db:
        db.execute(
            "INSERT INTO model_checks (suite, time, served_model) VALUES (?, ?, ?)",
            (suite, now, served_model),
        )


def last_checked_model(db_path: Path, suite: str) -> str | None:
    """What the last probe for the suite said; probes compare with probes, because a probe
    may name the model differently from the answers of a full run."""
    query = "SELECT served_model FROM model_checks WHERE suite = ? ORDER BY id DESC LIMIT 1"
    return _last(db_path, query, suite)


def _real(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _connect(db_path: Path) -> sqlite3.Connection:
    # Autocommit mode: transactions are opened explicitly, so a write never upgrades a read lock.
    db = sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return db


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch to WAL once. The switch takes an exclusive lock and SQLite answers "locked" at
    once, without its busy handler, when another run holds one: so wait and try again."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone() != ("wal",):
                db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextmanager
def _history_errors(db_path: Path, doing: str) -> Iterator[None]:
    """A history that cannot be used (a directory, not SQLite, a full or read-only disk) is one
    OutputError line; the caller decides whether that ends the command or is a warning."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise OutputError(f"history: cannot {doing}: {reason}", path=db_path) from None


@contextmanager
def _writing(db_path: Path) -> Iterator[sqlite3.Connection]:
    with _history_errors(db_path, "write"):
        db_path.parent.mkdir(parents=True, exist_ok=True)
        db = _connect(db_path)
        with _transaction(db):
            yield db


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    try:
        _use_wal(db)
        # In WAL mode NORMAL cannot corrupt the database; a power cut may lose the last run.
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("BEGIN IMMEDIATE")
        try:
            # Statement by statement: executescript would commit the open transaction.
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)
            present = {info[1] for info in db.execute("PRAGMA table_info(runs)")}
            for column, kind in _ADDED.items():
                if column not in present:
                    db.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")
            yield
        except BaseException:
            with suppress(sqlite3.Error):  # the error that got us here is the one to report
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    finally:
        db.close()


@contextmanager
def _reading(db_path: Path) -> Iterator[sqlite3.Connection | None]:
    if not db_path.exists():
        yield None
        return
    with _history_errors(db_path, "read"):
        db = _connect(db_path)
        try:
            exists = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone()
            yield db if exists else None
        finally:
            db.close()


def _last(db_path: Path, query: str, suite: str) -> str | None:
    with _reading(db_path) as db:
        if db is None:
            return None
        try:
            row = db.execute(query, (suite,)).fetchone()
        except sqlite3.OperationalError:  # an older database without that table
            return None
    return str(row[0]) if row and row[0] is not None else None


def _row(values: Sequence[Any]) -> HistoryRow:
    fields = dict(zip(_COLUMNS, values, strict=True))
    fields["intents"] = json.loads(fields["intents"] or "{}")
    fields["alarm"] = json.loads(fields["alarm"] or "{}")
    return HistoryRow(**fields)
