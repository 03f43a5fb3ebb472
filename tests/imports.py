"""What a fresh interpreter has imported after running some code: for the tests that keep heavy
libraries (scipy.stats, scikit-learn) off the paths that run every hour."""

from __future__ import annotations

import subprocess
import sys


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
