"""Faults the simulator injects: a real requests-per-minute limit, random failures by rate, and
scripted per-request behaviours for tests ("the first 3 requests get 429, then a reset").

Fault specs, as `canary simulate --fault` takes them:

    rpm=120                 sliding 60 s window; over it: 429 with Retry-After
    error_rate=0.2          share of requests answered 503
    timeout_rate=0.05       share that stall for hang_s seconds (past any client timeout)
    hang_s=120              how long a timed-out request stalls
    malformed_rate=0.05     share answered 200 with a body that is not valid JSON
    truncate_rate=0.05      share cut short with finish_reason "length"
    script=429*3@0.1,503,reset,ok
                            the next requests in order: kind[*count][@retry_after_seconds];
                            kinds: ok 429 500 502 503 401 timeout malformed truncate empty
                            reset content_filter refusal
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from canary_eval.errors import ConfigError

FaultKind = Literal[
    "ok",
    "rate_limit",
    "server_error",
    "unauthorized",
    "timeout",
    "malformed",
    "truncate",
    "empty_choices",
    "reset",
    "content_filter",
    "refusal",
]

_ALIASES: dict[str, tuple[FaultKind, int | None]] = {
    "ok": ("ok", None),
    "429": ("rate_limit", 429),
    "rate_limit": ("rate_limit", 429),
    "500": ("server_error", 500),
    "502": ("server_error", 502),
    "503": ("server_error", 503),
    "server_error": ("server_error", 503),
    "401": ("unauthorized", 401),
    "unauthorized": ("unauthorized", 401),
    "timeout": ("timeout", None),
    "malformed": ("malformed", None),
    "truncate": ("truncate", None),
    "empty": ("empty_choices", None),
    "empty_choices": ("empty_choices", None),
    "reset": ("reset", None),
    "content_filter": ("content_filter", None),
    "refusal": ("refusal", None),
}
RATE_FIELDS = (
    "error_rate",
    "timeout_rate",
    "malformed_rate",
    "truncate_rate",
    "noise",
    "prose_json_rate",
    "over_refusal_rate",
)
NUMBER_FIELDS = ("rpm", "hang_s")


@dataclass(frozen=True)
class Fault:
    """One scripted behaviour for one request."""

    kind: FaultKind
    retry_after: float | None = None  # seconds, for rate_limit
    status: int | None = None  # for server_error: 500, 502 or 503


def parse_script(text: str) -> tuple[Fault, ...]:
    """`429*3@0.1,503,reset` -> three 429s with Retry-After 0.1, one 503, one reset."""
    faults: list[Fault] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        head, _, retry = item.partition("@")
        name, _, count = head.partition("*")
        if name not in _ALIASES:
            known = ", ".join(sorted(_ALIASES))
            raise ConfigError(f"unknown scripted fault {name!r} (known: {known})", key="script")
        try:
            times = int(count) if count else 1
            retry_after = float(retry) if retry else None
        except ValueError as exc:
            raise ConfigError(f"bad scripted fault {item!r}: {exc}", key="script") from exc
        kind, status = _ALIASES[name]
        faults.extend([Fault(kind, retry_after, status)] * times)
    return tuple(faults)


def parse_fault(spec: str) -> dict[str, Any]:
    """One `--fault` spec (`name=value`) as SimulatorConfig field changes."""
    name, sep, value = spec.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not value:
        raise ConfigError(f"expected name=value, got {spec!r}", key="--fault")
    if name == "script":
        return {"script": parse_script(value)}
    if name not in RATE_FIELDS + NUMBER_FIELDS:
        known = ", ".join((*RATE_FIELDS, *NUMBER_FIELDS, "script"))
        raise ConfigError(f"unknown fault {name!r} (known: {known})", key="--fault")
    try:
        number = float(value)
    except ValueError as exc:
        raise ConfigError(f"{name}: not a number: {value!r}", key="--fault") from exc
    return {name: int(number) if name == "rpm" else number}


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: float  # until the oldest request in the window leaves it


class RateLimiter:
    """A sliding-window requests-per-minute limit; rejected requests do not use up the window.

    Without a limit it still counts, so the x-ratelimit headers look like a real vendor's.
    """

    NOMINAL_LIMIT = 10_000

    def __init__(
        self,
        rpm: int | None,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rpm = rpm
        self.window_s = window_s
        self._clock = clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> RateDecision:
        """Take a slot in the window if one is free."""
        return self._decide(take=True)

    def peek(self) -> RateDecision:
        """The window's state, taking nothing."""
        return self._decide(take=False)

    def _decide(self, *, take: bool) -> RateDecision:
        limit = self.rpm if self.rpm is not None else self.NOMINAL_LIMIT
        with self._lock:
            now = self._clock()
            while self._times and now - self._times[0] >= self.window_s:
                self._times.popleft()
            allowed = len(self._times) < limit
            if allowed and take:
                self._times.append(now)
            reset = self.window_s - (now - self._times[0]) if self._times else 0.0
            return RateDecision(allowed, limit, max(0, limit - len(self._times)), max(0.0, reset))


def format_reset(seconds: float) -> str:
    """Seconds in OpenAI's x-ratelimit-reset-* style: `120ms`, `1.5s`, `6m0s`."""
    if seconds < 1:
        return f"{max(1, math.ceil(seconds * 1000))}ms"
    if seconds < 60:
        return f"{seconds:.3g}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest}s"
