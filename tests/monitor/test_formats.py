"""The same production logs written as OTLP, Langfuse, LiteLLM, Helicone and Parquet give the
same monitor report as canary's canonical JSONL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from canary_eval.monitor import monitor_report_dict, run_monitor
from canary_eval.simulator.log_formats import FORMATS, write_logs

from .conftest import generate, write_config, write_evalset

# What may differ between formats: how the times were written and which engine path read them.
NOT_FIGURES = ("time_units", "malformed")


def flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(flat(inner, f"{prefix}.{key}"))
        return out
    if isinstance(value, list):
        out = {}
        for i, inner in enumerate(value):
            out.update(flat(inner, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def figures(config: Path) -> dict[str, Any]:
    report = monitor_report_dict(run_monitor(config))
    return flat({k: v for k, v in report.items() if k not in NOT_FIGURES})


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any, dict[str, Any]]:
    directory = tmp_path_factory.mktemp("formats")
    write_evalset(directory)
    calls, feedback = generate(drift=True, calls_per_day=250, seed=3, with_intent=True)
    for call in calls[::4]:
        call.pop("intent", None)  # some calls come untagged, for the classifier
    write_logs(calls, feedback, directory / "jsonl", "jsonl")
    canonical = figures(
        write_config(directory, calls="jsonl/calls.jsonl", feedback="jsonl/feedback.jsonl")
    )
    return directory, calls, feedback, canonical


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "jsonl"])
def test_the_same_logs_in_every_format_give_the_same_report(
    fmt: str, logs: tuple[Path, Any, Any, dict[str, Any]]
) -> None:
    directory, calls, feedback, canonical = logs
    calls_path, feedback_path, keys = write_logs(calls, feedback, directory / fmt, fmt)
    config = write_config(
        directory,
        calls=str(calls_path.relative_to(directory)),
        feedback=str(feedback_path.relative_to(directory)),
        **keys,
    )
    got = figures(config)
    assert got.keys() == canonical.keys()
    differing = {k: (canonical[k], got[k]) for k in got if got[k] != pytest.approx(canonical[k])}
    assert not differing
    assert any(key.startswith(".alerts[") for key in canonical)  # the drift is seen


def test_otlp_traces_join_feedback_by_conversation_id_without_a_task_key(
    logs: tuple[Path, Any, Any, dict[str, Any]],
) -> None:
    """As `canary demo` and the bundled monitor config read them: OTLP calls with the GenAI
    conversation id, feedback as canonical JSONL by task id, no `task_key:` configured. The
    per-intent user signals are those of the canonical logs, not empty."""
    directory, calls, feedback, canonical = logs
    calls_path, feedback_path, _ = write_logs(calls, feedback, directory / "otlp-bare", "otlp")
    got = figures(
        write_config(
            directory,
            calls=str(calls_path.relative_to(directory)),
            feedback=str(feedback_path.relative_to(directory)),
        )
    )
    signals = {k: v for k, v in canonical.items() if k.startswith(".intents") and ".signals." in k}
    thumbs = [k for k in signals if k.endswith("thumbs_down_rate.n")]
    assert sum(signals[k] for k in thumbs) > 100  # the intents have thumbs ratings to compare
    assert {k: got.get(k) for k in signals} == pytest.approx(signals)
