"""What a fresh interpreter has imported after running some code or a `canary` command: for the
tests that keep heavy libraries (numpy, scipy.stats, scikit-learn) off start-up and off the paths
that run every hour."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def modules_after(code: str) -> set[str]:
    """Every module in `sys.modules` once `code` has run in a new Python process."""
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(*sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(done.stdout.split())


def command_imports(
    *argv: str, cwd: Path | None = None, env: dict[str, str] | None = None, exit_code: int = 0
) -> set[str]:
    """Every module a fresh `python -m canary_eval ARGV` imports, as `-X importtime` reports
    them; `env` is added to the environment."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "canary_eval", *argv],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == exit_code, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[1].strip() for line in lines}
