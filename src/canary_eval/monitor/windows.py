"""Windows over the log stream: the current window and the reference window before it.

Records are streamed once. Each call keeps a few numbers in compact numpy columns (about 40 bytes
a call), and only while it can still fall in the analysed span: anything older than the newest
record seen minus `window + reference` is dropped as the stream goes, because the final windows
can only end later. Input texts are not kept; a reservoir per time bucket keeps a bounded uniform
sample of them for the drift tests, and merging the buckets of a window gives a uniform sample of
that window. Intents missing from the logs are tagged a chunk at a time by the classifier.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np

from canary_eval.errors import LogError
from canary_eval.monitor.records import CallRecord, FeedbackRecord

_CHUNK = 65_536
TASKS_KEPT_ANYWAY = 100_000  # below this many task ids, forgetting old ones is not worth it
_BUCKETS_PER_WINDOW = 24
_CALL_COLUMNS = {
    "ts": np.float64,
    "latency": np.float32,
    "in_tok": np.int32,
    "out_tok": np.int32,
    "cost": np.float64,
    "status": np.int8,
    "fallback": np.bool_,
    "task": np.int64,
    "intent": np.int32,
    "length": np.int32,
    "model": np.int32,
}
_FEEDBACK_COLUMNS = {"ts": np.float64, "task": np.int64, "event": np.int8, "value": np.float32}

Columns = dict[str, Any]  # column name -> 1-d numpy array, all of one length


class Tagger(Protocol):
    """Intents for inputs that came without one; `count` False for re-tagging samples."""

    def __call__(self, texts: Sequence[str], *, count: bool = True) -> list[str]: ...


@dataclass(frozen=True)
class WindowBounds:
    """reference_start < reference <= current_start < current <= end (epoch seconds, UTC)."""

    reference_start: float
    current_start: float
    end: float

    def iso(self, which: str) -> str:
        value = getattr(self, which)
        stamp = datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")
        return stamp.replace("+00:00", "Z")


@dataclass(frozen=True)
class TextSample:
    """A uniform sample of one window's inputs, with their intents."""

    texts: tuple[str, ...]
    intents: tuple[str, ...]
    population: int  # calls in the window


@dataclass(frozen=True)
class LogData:
    """Everything the figures need, restricted to the reference and current windows."""

    bounds: WindowBounds
    calls: Columns
    feedback: Columns
    intents: tuple[str, ...]  # intent code -> name
    models: tuple[str, ...]  # model code -> name
    task_intent: Any  # task code -> intent code of its first call; -1 when no call was seen
    current_sample: TextSample
    reference_sample: TextSample

    def current(self, columns: Columns) -> Any:
        ts = columns["ts"]
        return (ts > self.bounds.current_start) & (ts <= self.bounds.end)

    def reference(self, columns: Columns) -> Any:
        ts = columns["ts"]
        return (ts > self.bounds.reference_start) & (ts <= self.bounds.current_start)


class _Codes:
    """Strings to dense integer codes."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.names: list[str] = []

    def code(self, name: str) -> int:
        found = self.index.get(name)
        if found is None:
            found = self.index[name] = len(self.names)
            self.names.append(name)
        return found


class LogAccumulator:
    """Consumes call records, then feedback records, in one pass; `finish` yields LogData."""

    def __init__(
        self,
        *,
        window_s: float,
        reference_s: float,
        tag: Tagger,
        until: float | None = None,
        sample_size: int = 5000,
        seed: int = 0,
    ) -> None:
        self._window = window_s
        self._span = window_s + reference_s
        self._until = until
        self._tag = tag
        self._sample_size = sample_size
        self._bucket_s = max(window_s / _BUCKETS_PER_WINDOW, 1.0)
        self._capacity = max(2 * math.ceil(sample_size / _BUCKETS_PER_WINDOW), 8)
        self._rng = random.Random(seed)
        self._seed = seed
        self.newest = -math.inf
        self.after_until = 0
        self.intents = _Codes()
        self.models = _Codes()
        self.tasks = _Codes()
        self._calls: list[Columns] = []
        self._feedback: list[Columns] = []
        # bucket -> [calls seen, [(ts, text, intent or None), ...]]
        self._buckets: dict[int, list[Any]] = {}

    def _cutoff(self) -> float:
        return (self._until if self._until is not None else self.newest) - self._span

    def add_calls(self, records: Iterable[CallRecord]) -> None:
        until = self._until if self._until is not None else math.inf
        cutoff = self._cutoff()
        rows: dict[str, list[Any]] = {name: [] for name in _CALL_COLUMNS}
        ts_l, lat_l, in_l, out_l = rows["ts"], rows["latency"], rows["in_tok"], rows["out_tok"]
        cost_l, status_l, fb_l, task_l = (
            rows["cost"],
            rows["status"],
            rows["fallback"],
            rows["task"],
        )
        intent_l, len_l, model_l = rows["intent"], rows["length"], rows["model"]
        pending: list[tuple[int, str]] = []
        task_code, intent_code, model_code = self.tasks.code, self.intents.code, self.models.code
        buckets, bucket_s, capacity = self._buckets, self._bucket_s, self._capacity
        randrange = self._rng.randrange
        for record in records:
            ts, task, text, intent, latency, in_tok, out_tok, cost, status, fallback, model = record
            if ts > until:
                self.after_until += 1
                continue
            if ts > self.newest:
                self.newest = ts
                cutoff = self._cutoff()
            if ts <= cutoff:
                continue
            if intent is None:
                pending.append((len(ts_l), text))
                intent_l.append(-1)
            else:
                intent_l.append(intent_code(intent))
            ts_l.append(ts)
            lat_l.append(latency)
            in_l.append(in_tok)
            out_l.append(out_tok)
            cost_l.append(cost)
            status_l.append(status)
            fb_l.append(fallback)
            task_l.append(task_code(task))
            len_l.append(len(text))
            model_l.append(model_code(model))
            key = int(ts // bucket_s)
            bucket = buckets.get(key)
            if bucket is None:
                bucket = buckets[key] = [0, []]
            bucket[0] += 1
            if len(bucket[1]) < capacity:
                bucket[1].append((ts, text, intent))
            else:
                slot = randrange(bucket[0])
                if slot < capacity:
                    bucket[1][slot] = (ts, text, intent)
            if len(ts_l) >= _CHUNK:
                self._flush_calls(rows, pending)
                pending.clear()
        self._flush_calls(rows, pending)

    def _flush_calls(self, rows: dict[str, list[Any]], pending: list[tuple[int, str]]) -> None:
        if not rows["ts"]:
            return
        chunk: Columns = {
            name: np.asarray(rows[name], dtype=t) for name, t in _CALL_COLUMNS.items()
        }
        if pending:
            names = self._tag([text for _, text in pending])
            where = np.fromiter((i for i, _ in pending), dtype=np.int64, count=len(pending))
            codes = np.fromiter((self.intents.code(n) for n in names), np.int32, len(names))
            chunk["intent"][where] = codes
        for values in rows.values():
            values.clear()
        self._calls.append(chunk)
        self._prune()

    def add_feedback(self, records: Iterable[FeedbackRecord]) -> None:
        until = self._until if self._until is not None else math.inf
        rows: dict[str, list[Any]] = {name: [] for name in _FEEDBACK_COLUMNS}
        ts_l, task_l, event_l, value_l = rows["ts"], rows["task"], rows["event"], rows["value"]
        task_code = self.tasks.code
        cutoff = self._cutoff()
        for record in records:
            ts = record.ts
            if ts > until:
                continue
            if ts > self.newest:
                self.newest = ts
                cutoff = self._cutoff()
            if ts <= cutoff:
                continue
            ts_l.append(ts)
            task_l.append(task_code(record.task_id))
            event_l.append(record.event)
            value_l.append(record.value)
            if len(ts_l) >= _CHUNK:
                self._flush_feedback(rows)
        self._flush_feedback(rows)

    def _flush_feedback(self, rows: dict[str, list[Any]]) -> None:
        if rows["ts"]:
            self._feedback.append(
                {name: np.asarray(rows[name], dtype=dt) for name, dt in _FEEDBACK_COLUMNS.items()}
            )
            for values in rows.values():
                values.clear()
            self._prune()

    def _prune(self) -> None:
        cutoff = self._cutoff()
        for chunks in (self._calls, self._feedback):
            kept = []
            for chunk in chunks:
                ts = chunk["ts"]
                if ts.min() > cutoff:
                    kept.append(chunk)
                elif ts.max() > cutoff:
                    keep = ts > cutoff
                    kept.append({name: values[keep] for name, values in chunk.items()})
            chunks[:] = kept
        oldest = int(cutoff // self._bucket_s) if math.isfinite(cutoff) else None
        if oldest is not None:
            for key in [k for k in self._buckets if k < oldest]:
                del self._buckets[key]
        self._forget_tasks()

    def _forget_tasks(self) -> None:
        """Re-code tasks when most known ids belong to dropped calls, so a month of logs does
        not keep every task id of the month in memory."""
        chunks = self._calls + self._feedback
        rows = sum(len(c["task"]) for c in chunks)
        if len(self.tasks.names) <= 2 * rows + TASKS_KEPT_ANYWAY:
            return
        live = np.unique(np.concatenate([c["task"] for c in chunks])) if chunks else np.empty(0)
        for chunk in chunks:
            chunk["task"] = np.searchsorted(live, chunk["task"])
        names = [self.tasks.names[int(i)] for i in live]
        self.tasks.names[:] = names
        self.tasks.index.clear()
        self.tasks.index.update((name, i) for i, name in enumerate(names))

    def finish(self, source: str) -> LogData:
        """The windows' data; LogError when there are no calls, or a window is empty."""
        calls = _concat(self._calls, _CALL_COLUMNS)
        feedback = _concat(self._feedback, _FEEDBACK_COLUMNS)
        if not math.isfinite(self.newest) or not len(calls["ts"]):
            raise LogError("no valid call records to monitor", path=source)
        end = self._until if self._until is not None else self.newest
        bounds = WindowBounds(end - self._span, end - self._window, end)
        data = LogData(
            bounds,
            calls,
            feedback,
            tuple(self.intents.names),
            tuple(self.models.names),
            np.empty(0),
            TextSample((), (), 0),
            TextSample((), (), 0),
        )
        current, reference = data.current(calls), data.reference(calls)
        for name, mask in (("current", current), ("reference", reference)):
            if not mask.any():
                start = bounds.iso("current_start" if name == "current" else "reference_start")
                stop = bounds.iso("end" if name == "current" else "current_start")
                raise LogError(
                    f"no call records in the {name} window ({start} to {stop}); the logs must "
                    "cover the window and the reference period before it",
                    path=source,
                    key="window" if name == "current" else "reference",
                )
        keep = current | reference
        calls = {name: values[keep] for name, values in calls.items()}
        fb_keep = data.current(feedback) | data.reference(feedback)
        feedback = {name: values[fb_keep] for name, values in feedback.items()}
        return LogData(
            bounds,
            calls,
            feedback,
            tuple(self.intents.names),
            tuple(self.models.names),
            _task_intents(calls, len(self.tasks.names)),
            self._sample(bounds.current_start, bounds.end, int(current.sum())),
            self._sample(bounds.reference_start, bounds.current_start, int(reference.sum())),
        )

    def _sample(self, start: float, stop: float, population: int) -> TextSample:
        """Merge bucket reservoirs into a uniform sample of (start, stop]: each bucket gives
        items in proportion to the calls it saw inside the window."""
        rng = np.random.default_rng(self._seed)
        pools: list[list[tuple[float, str, str | None]]] = []
        weights: list[float] = []
        for seen, items in self._buckets.values():
            inside = [item for item in items if start < item[0] <= stop]
            if inside:
                pools.append(inside)
                weights.append(seen * len(inside) / len(items))
        picked: list[tuple[float, str, str | None]] = []
        for pool, want in zip(pools, _quotas(weights, self._sample_size), strict=True):
            for index in sorted(rng.choice(len(pool), size=min(want, len(pool)), replace=False)):
                picked.append(pool[int(index)])
        picked.sort(key=lambda item: item[0])
        untagged = [text for _, text, intent in picked if intent is None]
        tags = iter(self._tag(untagged, count=False))
        intents = tuple(intent if intent is not None else next(tags) for _, _, intent in picked)
        return TextSample(tuple(text for _, text, _ in picked), intents, population)


def _quotas(weights: list[float], size: int) -> list[int]:
    """Split `size` in proportion to `weights` (largest remainders), summing exactly to it."""
    total = sum(weights)
    if not total:
        return [0] * len(weights)
    exact = [size * w / total for w in weights]
    quotas = [int(q) for q in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: quotas[i] - exact[i])
    for i in by_remainder[: size - sum(quotas)]:
        quotas[i] += 1
    return quotas


def _concat(chunks: list[Columns], columns: dict[str, Any]) -> Columns:
    if not chunks:
        return {name: np.empty(0, dtype=dtype) for name, dtype in columns.items()}
    return {name: np.concatenate([c[name] for c in chunks]) for name in columns}


def _task_intents(calls: Columns, tasks: int) -> Any:
    """Each task's intent is the intent of its earliest call in the windows."""
    order = np.argsort(calls["ts"], kind="stable")
    ordered = calls["task"][order]
    unique, first = np.unique(ordered, return_index=True)
    out = np.full(tasks, -1, dtype=np.int32)
    out[unique] = calls["intent"][order][first]
    return out
