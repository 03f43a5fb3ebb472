"""How a simulator instance behaves: which model version it serves, its latency and its faults."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from canary_eval.errors import ConfigError
from canary_eval.simulator.faults import RATE_FIELDS, Fault, parse_fault
from canary_eval.simulator.versions import MODEL_VERSIONS


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything about a simulator run. Rates are per request, in [0, 1].

    Latency is log-normal around `latency_ms` (its median) with `latency_sigma`, or exactly
    `fixed_latency_ms` when set; either is multiplied by `latency_scale` (tests use ~0.02).
    `noise` is the chance that a request flips its case between right and wrong: the
    nondeterminism of a real model at temperature 0, reproducible for a seed.
    """

    version: str = "stable"
    seed: int = 0
    noise: float = 0.0
    latency_ms: float = 300.0
    latency_sigma: float = 0.35
    latency_scale: float = 1.0
    fixed_latency_ms: float | None = None
    rpm: int | None = None
    rpm_window_s: float = 60.0  # tests shrink the minute to keep the same dynamics fast
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    hang_s: float = 120.0
    malformed_rate: float = 0.0
    truncate_rate: float = 0.0
    # JSON answers sent after a chatty preface, no longer parseable: a model that stopped
    # following "reply with the JSON only"
    prose_json_rate: float = 0.0
    over_refusal_rate: float = 0.0  # answerable questions refused, on top of the version's own
    script: tuple[Fault, ...] = ()
    api_key: str | None = None  # when set, requests need `Authorization: Bearer <api_key>`

    def __post_init__(self) -> None:
        if self.version not in MODEL_VERSIONS:
            known = ", ".join(MODEL_VERSIONS)
            message = f"unknown model version {self.version!r} (known: {known})"
            raise ConfigError(message, key="version")
        for name in RATE_FIELDS:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"must be between 0 and 1, got {value}", key=name)
        for name in ("latency_ms", "latency_sigma", "latency_scale", "hang_s", "rpm_window_s"):
            if getattr(self, name) < 0:
                raise ConfigError("must not be negative", key=name)
        if self.fixed_latency_ms is not None and self.fixed_latency_ms < 0:
            raise ConfigError("must not be negative", key="fixed_latency_ms")
        if self.rpm is not None and self.rpm < 1:
            raise ConfigError("must be at least 1", key="rpm")

    def replace(self, **changes: Any) -> SimulatorConfig:
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ConfigError(f"unknown simulator setting {unknown[0]!r}", key=unknown[0])
        return dataclasses.replace(self, **changes)

    def with_faults(self, specs: Iterable[str]) -> SimulatorConfig:
        """This config with `--fault` specs applied (`rpm=120`, `error_rate=0.1`, ...)."""
        changes: dict[str, Any] = {}
        for spec in specs:
            changes.update(parse_fault(spec))
        return self.replace(**changes)
