"""Production monitoring: operations, user signals, intents and input drift from production logs.

`run_monitor(config_path)` reads a MONITOR.yaml, streams the call logs and feedback events it
names, and compares the current window with the reference window before it, overall and per
intent; `monitor_report_dict(result)` is the JSON report. The heavy modules (numpy, scikit-learn)
load on first use, so importing this package keeps `canary --help` fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from canary_eval.monitor.report import (
        monitor_report_dict,
        render_html,
        render_markdown,
        render_terminal,
    )
    from canary_eval.monitor.run import MonitorResult, run_monitor

__all__ = [
    "MonitorResult",
    "monitor_report_dict",
    "render_html",
    "render_markdown",
    "render_terminal",
    "run_monitor",
]


def __getattr__(name: str) -> Any:
    if name in ("MonitorResult", "run_monitor"):
        from canary_eval.monitor import run

        return getattr(run, name)
    if name in __all__:
        from canary_eval.monitor import report

        return getattr(report, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
