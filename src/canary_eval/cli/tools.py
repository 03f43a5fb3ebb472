"""The simulator, the demo, and production monitoring."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from canary_eval.cli import command
from canary_eval.cli.common import (
    HtmlOpt,
    JsonOpt,
    MarkdownOpt,
    OutputFormatOpt,
    OutputOpt,
    QuietOpt,
    make_console,
    output_paths,
    progress_bar,
    to_stdout,
    warn_failed,
)


@command
def simulate(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1.")
    ] = 8787,
    model_version: Annotated[
        str,
        typer.Option(
            "--model-version", help="stable, drifted, degraded, verbose or outage (see README)."
        ),
    ] = "stable",
    fault: Annotated[
        list[str] | None,
        typer.Option("--fault", help="rpm=120, error_rate=0.2, script=429*3@0.1,ok, ... (repeat)"),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for the model's decisions.")] = 0,
    noise: Annotated[float, typer.Option("--noise", min=0, max=1, help="Per-request flips.")] = 0.0,
    latency_scale: Annotated[float, typer.Option("--latency-scale", min=0)] = 1.0,
    logs: Annotated[
        Path | None,
        typer.Option("--logs", help="Instead of serving, write a week of production logs here."),
    ] = None,
    drift: Annotated[
        bool, typer.Option("--drift", help="With --logs: drift in the last 24 hours.")
    ] = False,
    log_format: Annotated[
        str,
        typer.Option(
            "--format", help="With --logs: jsonl, otlp, langfuse, litellm, helicone, parquet."
        ),
    ] = "jsonl",
) -> None:
    """Serve the OpenAI-compatible vendor simulator on 127.0.0.1 until interrupted."""
    from canary_eval.simulator import (
        VERSIONS,
        SimulatorConfig,
        serve_forever,
        write_production_logs,
    )

    if logs is not None:
        from canary_eval.simulator.log_formats import FORMATS

        if log_format not in FORMATS:
            raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
        calls, feedback = write_production_logs(logs, drift=drift, seed=seed, fmt=log_format)
        typer.echo(f"wrote {calls} and {feedback}")
        return

    config = SimulatorConfig(
        version=model_version, seed=seed, noise=noise, latency_scale=latency_scale
    ).with_faults(fault or [])

    def ready(sim: Any) -> None:
        typer.echo(f"simulator serving '{model_version}' ({VERSIONS[model_version]})")
        typer.echo(f"  base_url: {sim.base_url}    (Ctrl-C to stop)")
        typer.echo(f"  try: export CANARY_BASE_URL={sim.base_url} SUPPORT_BOT_API_KEY=any")
        typer.echo(
            "       canary baseline configs/support-bot.yaml && canary run configs/support-bot.yaml"
        )

    try:
        serve_forever(config, port, on_ready=ready)
    except KeyboardInterrupt:
        typer.echo("simulator stopped")
    except OSError as error:
        raise typer.BadParameter(f"cannot serve on 127.0.0.1:{port}: {error.strerror}") from None


@command
def demo(
    output: Annotated[
        Path, typer.Option("--output", help="Where the demo writes its suite and reports.")
    ] = Path("canary-demo"),
    keep_server: Annotated[
        bool, typer.Option("--keep-server", help="Leave the simulator up to try by hand.")
    ] = False,
    latency_scale: Annotated[
        float, typer.Option("--latency-scale", min=0, help="Multiply the simulated latency.")
    ] = 0.25,
) -> None:
    """The whole story offline: baseline, a silent vendor update, the regression caught."""
    from canary_eval.demo import run_demo

    console = make_console()

    def hold(sim: Any, suite: Path) -> None:
        console.print(f"\nThe simulator stays up on {sim.base_url}, serving 'stable'. Try:")
        console.print(f"  export CANARY_BASE_URL={sim.base_url} SUPPORT_BOT_API_KEY=demo")
        console.print(f"  canary run {suite}                  # stable: exit 0")
        console.print(f'  curl -s -XPOST {sim.url}/admin/version -d \'{{"version": "drifted"}}\'')
        console.print(f"  canary run {suite} --html report.html   # drifted: exit 1")
        console.print("Ctrl-C to stop.")
        try:
            import threading

            threading.Event().wait()
        except KeyboardInterrupt:
            console.print("simulator stopped")

    outcome = run_demo(
        output,
        console,
        latency_scale=latency_scale,
        progress=lambda label: progress_bar(True, label),
        on_server=hold if keep_server else None,
    )
    c = outcome.comparison
    console.print()
    console.print(
        f"Reports written to [bold]{outcome.reports}[/]: "
        + ", ".join(p.name for p in sorted(outcome.reports.iterdir()))
    )
    console.print(
        f"In cron, `canary run` would have exited [bold]{c.exit_code}[/] ({c.verdict}); "
        f"`canary monitor` would have exited [bold]{outcome.monitor_exit_code}[/]."
    )
    if not outcome.as_designed:
        console.print("[red]The demo did not catch the drift as designed.[/]")
        raise typer.Exit(1)


@command
def monitor(
    config_path: Annotated[Path, typer.Argument(help="Monitor config (YAML).")],
    json_path: JsonOpt = None,
    markdown: MarkdownOpt = None,
    html: HtmlOpt = None,
    output: OutputOpt = None,
    output_format: OutputFormatOpt = None,
    until: Annotated[
        str | None, typer.Option("--until", help="End of the current window (ISO 8601).")
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option("--engine", help="duckdb (default) or spark; overrides the config's engine."),
    ] = None,
    suggest_cases: Annotated[
        Path | None,
        typer.Option(
            "--suggest-cases",
            help="Write uncovered production inputs here as eval-set cases to label (YAML).",
        ),
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Operations, user signals and input drift from production logs, per intent."""
    import sys
    from datetime import datetime

    from canary_eval.monitor import run_monitor
    from canary_eval.monitor.report import (
        monitor_report_json,
        render_html,
        render_markdown,
        render_terminal,
    )
    from canary_eval.reports.destination import write_text

    given = {"json": json_path, "markdown": markdown, "html": html}
    paths = output_paths(given, output, output_format, ("json", "markdown", "html"))
    try:
        end = datetime.fromisoformat(until) if until else None
    except ValueError:
        raise typer.BadParameter(f"--until '{until}' is not an ISO 8601 time") from None
    if engine not in (None, "duckdb", "spark"):
        raise typer.BadParameter(f"--engine '{engine}' is not duckdb or spark")
    result = run_monitor(config_path, until=end, stdin=sys.stdin, engine=engine)
    console = make_console(stderr=to_stdout(paths))
    if quiet:
        console.print(f"{result.verdict.upper()}  monitor {config_path}: exit {result.exit_code}")
    else:
        render_terminal(result, console)
    if paths["json"]:
        write_text(paths["json"], monitor_report_json(result))
    if paths["markdown"]:
        write_text(paths["markdown"], render_markdown(result))
    if paths["html"]:
        write_text(paths["html"], render_html(result))
    if suggest_cases:
        count = _suggest_cases(config_path, result, suggest_cases)
        console.print(f"wrote {count} suggested cases to {suggest_cases}", markup=False)
    _notify(config_path, result, paths["html"])
    raise typer.Exit(result.exit_code)


def _suggest_cases(config_path: Path, result: Any, target: Path) -> int:
    import yaml

    from canary_eval.monitor.config import load_monitor_config
    from canary_eval.monitor.intents import load_examples
    from canary_eval.monitor.suggest import evalset_document, suggest
    from canary_eval.reports.destination import write_text

    config = load_monitor_config(config_path)
    examples = load_examples(config.evalset, config.extra_examples)
    sample = result.current_sample
    found = suggest(
        sample.texts if sample else (),
        sample.intents if sample else (),
        examples.canary_texts,
        floor=config.drift.coverage_floor,
        seed=config.seed,
    )
    document = evalset_document(
        found, f"production, {result.windows.current_start} to {result.windows.end}"
    )
    write_text(target, yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return len(found)


def _notify(config_path: Path, result: Any, html: Any) -> None:
    """The pass's incident to the config's `alerts:` channels (notify.lifecycle), its state
    next to the config; a failed delivery is a warning, never the exit code."""
    from canary_eval.monitor.config import load_monitor_config
    from canary_eval.monitor.report import monitor_report_dict, pass_incident
    from canary_eval.notify.channels import deliver_incident
    from canary_eval.notify.lifecycle import state_path
    from canary_eval.notify.monitoring import PassMessages
    from canary_eval.reports.destination import STDOUT

    alerts = load_monitor_config(config_path).alerts
    if not alerts.channels:
        return
    report = monitor_report_dict(result)
    messages = PassMessages(
        result.name,
        result.verdict,
        result.exit_code,
        result.alerts,
        f"{result.windows.current_start} to {result.windows.end}",
        alerts.report_url or (str(html) if html not in (None, STDOUT) else None),
        {key: report[key] for key in ("name", "verdict", "exit_code", "windows", "alerts")},
    )
    folder = Path(config_path).parent / ".canary"
    state = state_path(folder, f"monitor-{result.name}")
    warn_failed(deliver_incident(pass_incident(result), messages, alerts, state_file=state))
