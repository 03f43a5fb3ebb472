"""How often `canary monitor` alerts on unchanged traffic, and how fast it sees a real change.

Same-distribution logs from the simulator (`canary_eval.simulator.logs`) cover the reference
week and then `--days` days; the monitor runs once an hour over them with the default gates and
budget, through `run_monitor` as the CLI calls it (window 24 h, reference 7 d, the bundled canary
set for intents and coverage). Any alert there is false. Printed: passes with an alert, onsets
(an alert that the pass before did not have: what would post a new or changed incident) per 30
days, and the share of passes with a warning. Then the seeded drift (new topic on 20 % of
inputs, disputes' thumbs-down doubled, p95 latency doubled, all from one hour on): the hours
until each is alerted, one pass an hour.

    python bench/bench_alerting_monitor.py [--days 30] [--calls-per-day 500] [--seed 0] [--alpha A]

bench/bench_alerting.py runs `main` after the canary half; `simulate_monitor` and
`detect_drift` are the pieces.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib.resources import files
from pathlib import Path

import yaml

from canary_eval.monitor.run import run_monitor
from canary_eval.simulator.logs import DEFAULT_END, write_production_logs

EVALSET = Path(str(files("canary_eval").joinpath("bundled", "evalsets", "support-bot.yaml")))
SPAN_DAYS = 8  # the default reference week and current day
# Which alert shows which seeded change; any one of the drift gates sees the new topic.
SCENARIOS: dict[str, set[tuple[str, str | None]]] = {
    "p95 latency doubled": {("latency_p95_ms", None)},
    "disputes thumbs-down doubled": {("thumbs_down_rate", "disputes")},
    "a new topic on 20 % of inputs": {
        ("domain_auc", None),
        ("uncovered_share", None),
        ("intent_mix_psi", None),
    },
}


@dataclass(frozen=True)
class MonitorAlerting:
    """Hourly passes over unchanged logs; every alert among them is false."""

    days: int
    calls_per_day: int
    passes: int
    alerting_passes: int  # passes with at least one alert (all `warn` by default)
    onsets: int  # alerts a pass raised that the pass before did not
    by_metric: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def warning_share(self) -> float:
        return self.alerting_passes / self.passes if self.passes else 0.0

    def per_30_days(self, count: int) -> float:
        return count * 30 / self.days


def simulate_monitor(
    days: int = 30, calls_per_day: int = 500, seed: int = 0, alpha: float | None = None
) -> MonitorAlerting:
    """`days` x 24 hourly monitor passes over same-distribution logs."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        end = DEFAULT_END
        files_by_day = _daily_logs(folder, days + SPAN_DAYS, calls_per_day, seed, end, drift=False)
        previous: set[tuple[str, str | None]] = set()
        alerting = onsets = 0
        by_metric: Counter[str] = Counter()
        first = end - timedelta(days=days)
        for hour in range(1, days * 24 + 1):
            alerts = _pass(folder, files_by_day, first + timedelta(hours=hour), alpha)
            alerting += bool(alerts)
            onsets += len(alerts - previous)
            by_metric.update(f"{m}" + (f"[{i}]" if i else "") for m, i in alerts - previous)
            previous = alerts
    return MonitorAlerting(
        days, calls_per_day, days * 24, alerting, onsets, by_metric, time.perf_counter() - started
    )


def detect_drift(
    calls_per_day: int = 3000, seed: int = 0, alpha: float | None = None
) -> dict[str, int | None]:
    """Hours from the drift's start until each seeded change is alerted (None: not in 24 h)."""
    with tempfile.TemporaryDirectory() as folder:
        end = DEFAULT_END
        files_by_day = _daily_logs(folder, SPAN_DAYS + 1, calls_per_day, seed, end, drift=True)
        found: dict[str, int | None] = dict.fromkeys(SCENARIOS)
        for hour in range(1, 25):
            alerts = _pass(folder, files_by_day, end - timedelta(hours=24 - hour), alpha)
            for name, shows in SCENARIOS.items():
                if found[name] is None and alerts & shows:
                    found[name] = hour
            if all(v is not None for v in found.values()):
                break
    return found


def _daily_logs(
    folder: str, days: int, calls_per_day: int, seed: int, end: datetime, *, drift: bool
) -> dict[str, tuple[str, str]]:
    """Generate the logs once and split them into one calls and one feedback file per day, so
    each pass reads the eight or nine days it needs, not the whole month."""
    root = Path(folder)
    calls, feedback = write_production_logs(
        root / "all", days=days, calls_per_day=calls_per_day, drift=drift, seed=seed, end=end
    )
    lines: dict[tuple[str, str], list[str]] = {}
    for kind, source in (("calls", calls), ("feedback", feedback)):
        with source.open(encoding="utf-8") as records:
            for line in records:
                lines.setdefault((kind, line[8:18]), []).append(line)  # {"ts": "YYYY-MM-DD
    days_seen = sorted({day for _, day in lines})
    for day in days_seen:
        for kind in ("calls", "feedback"):
            text = "".join(lines.get((kind, day), []))
            (root / f"{kind}-{day}.jsonl").write_text(text, encoding="utf-8")
    return {day: (f"calls-{day}.jsonl", f"feedback-{day}.jsonl") for day in days_seen}


def _pass(
    folder: str, files_by_day: dict[str, tuple[str, str]], until: datetime, alpha: float | None
) -> set[tuple[str, str | None]]:
    days = [
        (until - timedelta(days=back)).strftime("%Y-%m-%d") for back in range(SPAN_DAYS, -1, -1)
    ]
    present = [files_by_day[d] for d in days if d in files_by_day]
    config = Path(folder) / f"monitor-{days[-1]}.yaml"
    if not config.exists():
        settings: dict[str, object] = {
            "name": "bench",
            "calls": [c for c, _ in present],
            "feedback": [f for _, f in present],
            "evalset": str(EVALSET),
        }
        if alpha is not None:
            settings["thresholds"] = {"alpha": alpha}
        config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    result = run_monitor(config, until=until)
    return {(a.metric, a.intent) for a in result.alerts}


def main(argv: list[str] | None = None) -> None:
    """Also run by bench/bench_alerting.py with its own arguments: unknown ones are ignored."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--calls-per-day", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--alpha", type=float, help="thresholds.alpha (default: the config's)")
    args, _ = parser.parse_known_args(argv)
    figures = simulate_monitor(args.days, args.calls_per_day, args.seed, args.alpha)
    print(
        f"unchanged logs, {figures.calls_per_day:,} calls a day, {figures.passes} hourly passes "
        f"({figures.seconds:.0f} s):"
    )
    print(
        f"  false alerts per 30 days: {figures.per_30_days(figures.onsets):.1f} onsets, "
        f"{figures.per_30_days(figures.alerting_passes):.1f} passes with an alert"
    )
    print(f"  share of passes with a warning: {figures.warning_share:.2%}")
    if figures.by_metric:
        print("  onsets by gate: " + ", ".join(f"{k} {v}" for k, v in figures.by_metric.items()))
    for volume in dict.fromkeys((3000, args.calls_per_day)):
        started = time.perf_counter()
        found = detect_drift(volume, args.seed, args.alpha)
        print(f"seeded drift, {volume:,} calls a day ({time.perf_counter() - started:.0f} s):")
        for name, hours in found.items():
            print(f"  {name}: " + (f"alerted after {hours} h" if hours else "not within 24 h"))


if __name__ == "__main__":
    main()
