"""Field values of production log records: times, numbers, statuses, flags and message texts.

Every parser raises `BadValue` with a reason naming the field, and never anything else, so one
bad value costs one counted record, not the run. Epoch timestamps are told apart by magnitude
(seconds below 1e11, then milliseconds, microseconds, nanoseconds) and the unit found is
returned, so the report can say how the times were read. Times outside 1970-2200 are bad values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

STATUSES = ("ok", "error", "rate_limited")
EVENTS = ("thumbs_up", "thumbs_down", "accepted", "edited", "escalated", "csat")
EPOCH_UNITS = (("epoch_s", 1e11, 1), ("epoch_ms", 1e14, 10**3), ("epoch_us", 1e17, 10**6))
MAX_COUNT = 10**12  # fits every engine's BIGINT with room for sums
_LATEST = 7258118400.0  # 2200-01-01: anything later is a unit mistake, not a time
_STATUS_NAMES = {
    "ok": "ok",
    "success": "ok",
    "error": "error",
    "failure": "error",
    "failed": "error",
    "rate_limited": "rate_limited",
    "rate-limited": "rate_limited",
}
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}
_DURATION_UNITS = {"ms": 1.0, "s": 1e3, "us": 1e-3, "ns": 1e-6}


class BadValue(Exception):
    """One field of one record cannot be used; the message is the reason."""


def timestamp(value: Any, name: str = "ts") -> tuple[float, str]:
    """(epoch seconds, how it was written: iso | epoch_s | epoch_ms | epoch_us | epoch_ns)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return _in_range(int(text) if text.lstrip("-").isdigit() else float(text), name)
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise BadValue(f"{name}: {value!r} is not an ISO 8601 or epoch time") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return _checked(parsed.timestamp(), name, value), "iso"
    if isinstance(value, int) and not isinstance(value, bool):
        return _in_range(value, name)  # int / int divides exactly rounded, even for nanoseconds
    if isinstance(value, float):
        return _in_range(value, name)
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=UTC)
        return _checked(when.timestamp(), name, value), "timestamp"
    raise BadValue(f"{name}: missing" if value is None else f"{name}: {value!r} is not a time")


def _in_range(number: float, name: str) -> tuple[float, str]:
    if not math.isfinite(number):
        raise BadValue(f"{name}: {number!r} is not a time")
    for unit, below, per_second in EPOCH_UNITS:
        if abs(number) < below:
            return _checked(number / per_second, name, number), unit
    return _checked(number / 10**9, name, number), "epoch_ns"


def _checked(seconds: float, name: str, raw: Any) -> float:
    if not 0 <= seconds < _LATEST:
        raise BadValue(f"{name}: {raw!r} is outside 1970-2200")
    return seconds


def duration_ms(value: Any, name: str, unit: str = "ms") -> float:
    """A duration in `unit` (ms, s, us, ns) as milliseconds."""
    return number(value, name) * _DURATION_UNITS[unit]


def text(value: Any, name: str) -> str:
    if isinstance(value, str):
        return value
    raise BadValue(f"{name}: missing" if value is None else f"{name}: not a string")


def optional_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def identifier(value: Any, name: str = "task_id") -> str:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise BadValue(f"{name}: missing" if value in (None, "") else f"{name}: {value!r} is not an id")


def number(value: Any, name: str) -> float:
    if isinstance(value, bool) or value is None:
        raise BadValue(f"{name}: missing" if value is None else f"{name}: not a number")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise BadValue(f"{name}: {value!r} is not a number") from None
    if not math.isfinite(result) or result < 0:
        raise BadValue(f"{name}: {value!r} is not a finite number >= 0")
    return result


def count(value: Any, name: str) -> int:
    """A whole number of tokens; above MAX_COUNT it is a corrupt value, not a count."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT:
        return value
    result = number(value, name)
    if not result.is_integer():
        raise BadValue(f"{name}: {value!r} is not a whole number")
    if result > MAX_COUNT:
        raise BadValue(f"{name}: {value!r} is too large to be a count")
    return int(result)


def status(value: Any, extra: Mapping[str, str] | None = None) -> str:
    """ok | error | rate_limited from a name, a configured synonym or an HTTP status code."""
    if isinstance(value, str):
        key = value.strip().lower()
        found = (extra or {}).get(key) or _STATUS_NAMES.get(key)
        if found is not None:
            return found
        if key.isdigit():
            value = int(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return "rate_limited" if value == 429 else "ok" if value < 400 else "error"
    if value is None:
        raise BadValue("status: missing")
    raise BadValue(f"status: {value!r} is not ok, error or rate_limited")


def flag(value: Any, name: str = "fallback") -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    word = str(value).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise BadValue(f"{name}: {value!r} is not a boolean")


def event(value: Any) -> str:
    word = value.strip().lower() if isinstance(value, str) else str(value)
    if word not in EVENTS:
        raise BadValue(f"event: {value!r} is not one of {', '.join(EVENTS)}")
    return word


def message_text(value: Any, role: str, name: str) -> str:
    """The text of the last `role` turn of a chat messages array (OpenAI `content` strings or
    parts, OpenTelemetry GenAI `parts`), or the value itself when it is already a string. A
    string holding such messages as JSON (as Parquet exports keep them) is read as them."""
    if isinstance(value, str):
        decoded = _json_messages(value)
        if decoded is None:
            return value
        value = decoded
    if isinstance(value, Mapping):  # a single message, or {"messages": [...]}
        inner = value.get("messages")
        value = inner if isinstance(inner, list) else [value]
    if not isinstance(value, list):
        raise BadValue(f"{name}: missing" if value is None else f"{name}: not a string")
    for message in reversed(value):
        if isinstance(message, Mapping) and message.get("role", role) == role:
            found = _content(message)
            if found is not None:
                return found
    raise BadValue(f"{name}: no {role} message with text")


def _json_messages(raw: str) -> Any:
    """The messages a JSON string holds, or None when it is plain text."""
    if not raw.lstrip().startswith(("[", "{")):
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, Mapping) and ("messages" in value or "role" in value):
        return value
    if (
        isinstance(value, list)
        and value
        and all(isinstance(m, Mapping) and "role" in m for m in value)
    ):
        return value
    return None


def _content(message: Mapping[str, Any]) -> str | None:
    for key in ("content", "parts", "text"):
        value = message.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            texts = [
                part if isinstance(part, str) else part.get("content") or part.get("text")
                for part in value
                if isinstance(part, str | Mapping)
            ]
            joined = "\n".join(t for t in texts if isinstance(t, str))
            if joined:
                return joined
    inner = message.get("message")
    return _content(inner) if isinstance(inner, Mapping) else None
