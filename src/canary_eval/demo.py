"""`canary demo`: the whole story offline, through the code path a real user takes.

The bundled suite is copied into a working directory, the vendor simulator serves it on a free
loopback port, and the suite's own config is pointed at it through `CANARY_BASE_URL`, the same
variable a user sets for a real endpoint. A baseline is recorded on `stable`, the simulator
switches to `drifted` (the silent vendor update), and the canary runs as cron would.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from canary_eval.pipeline import evaluate, record_baseline
from canary_eval.reports.terminal import render
from canary_eval.reports.writers import ReportPaths, write_reports
from canary_eval.run.engine import ProgressCallback
from canary_eval.simulator import RunningSimulator, SimulatorConfig, serve, write_production_logs
from canary_eval.store import history
from canary_eval.store.baseline import save_run
from canary_eval.suite.config import load_config
from canary_eval.suite.evalset import load_evalset
from canary_eval.verdict.compare import Comparison

SUITE = "configs/support-bot.yaml"
MONITOR = "configs/support-bot-monitor.yaml"


@dataclass(frozen=True)
class DemoOutcome:
    comparison: Comparison
    monitor_exit_code: int | None
    reports: Path

    @property
    def as_designed(self) -> bool:
        """The drift was caught: a regression in the disputes intent, behaviour alerts (the
        wrong-tool calls among them) and the model change."""
        c = self.comparison
        layers = {a.layer for a in c.alerts}
        metrics = {a.metric for a in c.alerts}
        regressed = {row.intent for row in c.intents if row.regressed}
        return (
            c.verdict == "regression"
            and "disputes" in regressed
            and "behaviour" in layers
            and "wrong_tool_rate" in metrics
            and c.model_changed
        )


def prepare(workdir: Path) -> Path:
    """Copy the bundled configs and eval sets into `workdir` and return the suite's path."""
    bundled = Path(str(files("canary_eval").joinpath("bundled")))
    for part in ("configs", "evalsets"):
        shutil.copytree(bundled / part, workdir / part, dirs_exist_ok=True)
    return workdir / SUITE


def run_demo(
    workdir: Path,
    console: Console,
    *,
    latency_scale: float = 0.25,
    progress: Callable[[str], AbstractContextManager[ProgressCallback | None]] = (
        lambda label: nullcontext()
    ),
    on_server: Callable[[RunningSimulator, Path], None] | None = None,
) -> DemoOutcome:
    suite = prepare(workdir)
    reports = workdir / "reports"
    with serve(SimulatorConfig(version="stable", latency_scale=latency_scale)) as sim:
        os.environ["CANARY_BASE_URL"] = sim.base_url
        os.environ.setdefault("SUPPORT_BOT_API_KEY", "demo-key-for-the-local-simulator")
        config = load_config(suite)
        evalset = load_evalset(config.evalset_path)
        console.print(Rule("1/4  Baseline on the stable model"))
        console.print(
            f"simulator on {sim.base_url}, serving [bold]stable[/]; "
            f"suite {config.suite}: {len(evalset.cases)} cases"
        )
        with progress("baseline") as on_progress:
            baseline = record_baseline(config, evalset, on_progress=on_progress)
        save_run(config.baseline_path, baseline)
        console.print(f"baseline saved to {config.baseline_path}")
        # Two healthy hours in the history: the quality alarms learn the run-to-run spread.
        for hour in (1, 2):
            with progress(f"hour {hour}") as on_progress:
                healthy = evaluate(config, evalset, baseline, on_progress=on_progress)
            history.record(config.history_path, healthy)
            console.print(f"hourly run {hour} on stable: {healthy.verdict.upper()}")

        console.print(Rule("2/4  The vendor ships a silent update"))
        sim.set_version("drifted")
        console.print("same model name, new weights: nothing in uptime, latency or errors shows it")

        console.print(Rule("3/4  The hourly canary run"))
        with progress("canary") as on_progress:
            comparison = evaluate(config, evalset, baseline, on_progress=on_progress)
        history.record(config.history_path, comparison)
        render(comparison, console)
        _tool_drift(comparison, console)
        write_reports(comparison, ReportPaths.in_directory(reports), config)

        console.print(Rule("4/4  Production monitoring: operations, user signals, input drift"))
        monitor_code = _monitor(workdir, console, reports)
        if on_server is not None:
            sim.set_version("stable")
            on_server(sim, suite)
    return DemoOutcome(comparison, monitor_code, reports)


def _tool_drift(comparison: Comparison, console: Console) -> None:
    """Name the tool-use drift: the tool cases that called a tool they should not have."""
    expecting = [c for c in comparison.run.cases if c.behaviour.wrong_tool is not None]
    wrong = [c for c in expecting if c.behaviour.wrong_tool]
    if wrong:
        example = wrong[0]
        called = ", ".join(t.name for t in example.tool_calls)
        console.print(
            f"tool use: {len(wrong)} of {len(expecting)} tool cases called the wrong tool "
            f"(e.g. {example.id}: {called}); see the wrong_tool_rate alert"
        )


def _monitor(workdir: Path, console: Console, reports: Path) -> int:
    from canary_eval.monitor import run_monitor
    from canary_eval.monitor.report import monitor_report_json, render_terminal

    write_production_logs(workdir / "logs", drift=True, fmt="otlp")  # as a collector writes
    result = run_monitor(workdir / MONITOR)
    render_terminal(result, console)
    (reports / "monitor.json").write_text(monitor_report_json(result))
    return result.exit_code
