"""The limits section `canary validate` prints, kept on disk between commands.

Each series' smallest paged drop is found by simulating the calibrated alarm with numpy
(verdict/limits.py), which costs validate more than the rest of its check. Those figures depend
only on inputs that exist before any run: the eval set's case counts per intent, the baseline
file, the thresholds and alerting settings and the code that computes them. So the section is
stored under a key of exactly those inputs (`$XDG_CACHE_HOME/canary-eval/limits/`, else
`~/.cache/...`): `canary baseline` stores it while numpy is loaded anyway, and validate reads it
back, computing (and storing) it only when some input changed. A missing or unreadable entry is
only a slower validate; the figures are the same either way.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from canary_eval.store.baseline import CaseScore
    from canary_eval.suite.config import SuiteConfig

_VERDICT = Path(__file__).parents[1] / "verdict"
# The code the lines come from: editing it changes the key, so no stale figure is read back.
_SOURCES = (
    Path(__file__),
    *(_VERDICT / name for name in ("limits.py", "detectable.py", "calibration.py")),
)


def limits_section(config: SuiteConfig, sizes: Mapping[str, int]) -> list[str]:
    """The lines stating every series' smallest drop paged and the notes naming the intents
    that cannot page (reliably), read back when their inputs are unchanged."""
    directory = _cache_dir()
    if directory is None:
        return _compute(config, sizes)
    path = directory / f"{_key(config, sizes)}.json"
    try:
        lines = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(lines, list) and all(isinstance(line, str) for line in lines):
            return lines
    except (OSError, ValueError):
        pass
    lines = _compute(config, sizes)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(lines), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs the next validate the computation
    return lines


def _cache_dir() -> Path | None:
    """Where the sections are stored; None when there is no home to store them in."""
    try:
        root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    except RuntimeError:
        return None
    return Path(root) / "canary-eval" / "limits"


def _key(config: SuiteConfig, sizes: Mapping[str, int]) -> str:
    digest = hashlib.sha256()
    for source in _SOURCES:
        digest.update(source.read_bytes())
    inputs = [config.suite, sorted(sizes.items()), repr(config.thresholds), repr(config.alerting)]
    digest.update(json.dumps(inputs).encode())
    try:
        digest.update(config.baseline_path.read_bytes())
    except OSError:
        digest.update(b"no baseline")
    return digest.hexdigest()


def _compute(config: SuiteConfig, sizes: Mapping[str, int]) -> list[str]:
    from canary_eval.verdict.detectable import HORIZON_RUNS
    from canary_eval.verdict.limits import limit_notes, planned_limits

    limits, basis = planned_limits(
        sizes, _baseline_if_any(config), config.thresholds, config.alerting
    )
    lines = [f"smallest drop paged within {HORIZON_RUNS} runs with 80 % probability ({basis}):"]
    for limit in limits:
        drop = "never" if math.isinf(limit.drop) else f"{limit.drop:.1%}"
        lines.append(f"  {limit.name:<28} {limit.n:>5} cases  {drop}")
    lines += [f"note: {line}" for line in limit_notes(limits, config.thresholds)]
    return lines


def _baseline_if_any(config: SuiteConfig) -> Sequence[CaseScore] | None:
    """The suite's baseline cases when one is recorded and readable, else None: the limits
    are stated from them, and say what they assumed without."""
    from canary_eval.errors import BaselineError
    from canary_eval.store.baseline import load_scores

    if not config.baseline_path.exists():
        return None
    try:
        return load_scores(config.baseline_path, suite=config.suite)
    except BaselineError:
        return None
