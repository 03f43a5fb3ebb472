"""How often `canary monitor` alerts on unchanged traffic, and how fast it sees a real change.

Same-distribution logs from the simulator (`canary_eval.simulator.logs`) cover the reference
week and then `--days` days; the monitor runs once an hour over them with the default config
(window 24 h, reference 7 d, the bundled canary set for intents and coverage, the pass's error
budget derived from `alerting.false_alerts_per_month`). Every pass goes through
`monitor_passes`, the code `canary monitor` runs (`run_monitor` is its one-pass case): the logs
are read and loaded into DuckDB once, then each pass aggregates its own windows, tags, tests and
decides exactly as the CLI would at that hour. Any alert there is false. Printed: passes with an
alert, onsets (an alert that the pass before did not have: what would post a new or changed
incident) per 30 days, and the share of passes with a warning. Then the seeded drift (new topic
on 20 % of inputs, disputes' thumbs-down doubled, p95 latency doubled, all from one hour on):
the hours until each is alerted, one pass an hour.

    python bench/bench_alerting_monitor.py [--days 30] [--calls-per-day 500] [--seed 0]
        [--seeds 1] [--alpha A]

bench/bench_alerting.py runs `main` after the canary half; `simulate_monitor` and
`detect_drift` are the pieces.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib.resources import files
from pathlib import Path

import yaml

from canary_eval.monitor.config import PASS_ALPHA
from canary_eval.monitor.run import monitor_passes
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
Alerted = set[tuple[str, str | None]]


@dataclass(frozen=True)
class MonitorAlerting:
    """Hourly passes over unchanged logs; every alert among them is false."""

    days: int
    calls_per_day: int
    seed: int
    passes: int
    alerting_passes: int  # passes with at least one alert (all `warn` by default)
    onsets: int  # alerts a pass raised that the pass before did not
    by_metric: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    alpha: float = 0.0

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
    end = DEFAULT_END
    first = end - timedelta(days=days)
    untils = [first + timedelta(hours=hour) for hour in range(1, days * 24 + 1)]
    previous: Alerted = set()
    alerting = onsets = 0
    by_metric: Counter[str] = Counter()
    for alerts in _passes(days + SPAN_DAYS, calls_per_day, seed, alpha, untils, drift=False):
        alerting += bool(alerts)
        onsets += len(alerts - previous)
        by_metric.update(f"{m}" + (f"[{i}]" if i else "") for m, i in alerts - previous)
        previous = alerts
    return MonitorAlerting(
        days,
        calls_per_day,
        seed,
        len(untils),
        alerting,
        onsets,
        by_metric,
        time.perf_counter() - started,
        PASS_ALPHA if alpha is None else alpha,
    )


def detect_drift(
    calls_per_day: int = 3000, seed: int = 0, alpha: float | None = None
) -> dict[str, int | None]:
    """Hours from the drift's start until each seeded change is alerted (None: not in 24 h)."""
    end = DEFAULT_END
    untils = [end - timedelta(hours=24 - hour) for hour in range(1, 25)]
    found: dict[str, int | None] = dict.fromkeys(SCENARIOS)
    passes = _passes(SPAN_DAYS + 1, calls_per_day, seed, alpha, untils, drift=True)
    for hour, alerts in enumerate(passes, start=1):
        for name, shows in SCENARIOS.items():
            if found[name] is None and alerts & shows:
                found[name] = hour
    return found


def _passes(
    days: int,
    calls_per_day: int,
    seed: int,
    alpha: float | None,
    untils: list[datetime],
    *,
    drift: bool,
) -> Iterable[Alerted]:
    """Write `days` days of logs ending at DEFAULT_END, a default config over them, and run one
    monitor pass at each of `untils`: the alerts of each."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        calls, feedback = write_production_logs(
            root / "logs", days=days, calls_per_day=calls_per_day, drift=drift, seed=seed
        )
        settings: dict[str, object] = {
            "name": "bench",
            "calls": str(calls),
            "feedback": str(feedback),
            "evalset": str(EVALSET),
        }
        if alpha is not None:
            settings["thresholds"] = {"alpha": alpha}
        config = root / "monitor.yaml"
        config.write_text(yaml.safe_dump(settings), encoding="utf-8")
        for result in monitor_passes(config, untils):
            yield {(a.metric, a.intent) for a in result.alerts}


def main(argv: list[str] | None = None) -> None:
    """Also run by bench/bench_alerting.py with its own arguments: unknown ones are ignored."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--calls-per-day", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=1, help="seeds from --seed on")
    parser.add_argument("--alpha", type=float, help="thresholds.alpha (default: the config's)")
    args, _ = parser.parse_known_args(argv)
    seeds = range(args.seed, args.seed + args.seeds)
    for seed in seeds:
        figures = simulate_monitor(args.days, args.calls_per_day, seed, args.alpha)
        print(
            f"unchanged logs, {figures.calls_per_day:,} calls a day, seed {seed}, "
            f"{figures.passes} hourly passes at alpha {figures.alpha:.3g} "
            f"({figures.seconds:.0f} s):"
        )
        print(
            f"  false alerts per 30 days: {figures.per_30_days(figures.onsets):.1f} onsets, "
            f"{figures.per_30_days(figures.alerting_passes):.1f} passes with an alert"
        )
        print(f"  share of passes with a warning: {figures.warning_share:.2%}")
        if figures.by_metric:
            onsets = ", ".join(f"{k} {v}" for k, v in figures.by_metric.items())
            print(f"  onsets by gate: {onsets}")
    for volume in dict.fromkeys((3000, args.calls_per_day)):
        for seed in seeds:
            started = time.perf_counter()
            found = detect_drift(volume, seed, args.alpha)
            print(
                f"seeded drift, {volume:,} calls a day, seed {seed} "
                f"({time.perf_counter() - started:.0f} s):"
            )
            for name, hours in found.items():
                print(f"  {name}: " + (f"alerted after {hours} h" if hours else "not within 24 h"))


if __name__ == "__main__":
    main()
