"""One incident per cause: a run's alerts under the most likely reason, from what the run knows."""

from __future__ import annotations

from dataclasses import replace

from canary_eval.models import Alert
from canary_eval.verdict.compare import Comparison
from canary_eval.verdict.incidents import incident_dict, monitor_incident, run_incident

from factories import comparison


def _same_model(c: Comparison) -> Comparison:
    return replace(c, baseline_model=c.served_model)


def test_a_regression_with_a_new_served_model_blames_the_model_first(
    regression: Comparison,
) -> None:
    incident = run_incident(regression)
    assert incident is not None
    assert incident.severity == "page"
    assert incident.cause.kind == "model_change"
    assert (
        incident.cause.summary == "the served model changed: sim-stable (fp_a) -> sim-drift (fp_b)"
    )
    assert incident.title.startswith("support-bot: the served model changed")
    assert [a.severity for a in incident.alerts] == sorted(
        (a.severity for a in incident.alerts), key=["page", "warn"].index
    )
    assert incident.title.endswith(f"({sum(a.failing for a in regression.alerts)} pages)")


def test_an_outage_comes_before_anything_else_it_could_be() -> None:
    incident = run_incident(comparison("error"))
    assert incident is not None
    assert incident.severity == "page"
    assert incident.cause.kind == "outage"
    assert "of calls errored" in incident.cause.summary


def test_a_changed_prompt_and_eval_set_are_named_in_order(regression: Comparison) -> None:
    run = regression.run
    changed = replace(
        _same_model(regression),
        run=replace(run, info=replace(run.info, prompt_hash="p2", evalset_hash="e2")),
    )
    incident = run_incident(changed)
    assert incident is not None
    assert [c.kind for c in incident.causes] == ["prompt_change", "evalset_change"]
    assert incident.key.startswith("page/prompt_change/p2/")


def test_with_nothing_changed_the_cause_says_what_was_ruled_out(regression: Comparison) -> None:
    incident = run_incident(_same_model(regression))
    assert incident is not None
    assert [c.kind for c in incident.causes] == ["unexplained"]
    assert "same served model, prompt and eval set" in incident.cause.summary


def test_the_key_is_stable_across_runs_and_moves_with_the_cause(regression: Comparison) -> None:
    later = comparison("regression", created_at="2024-05-07T15:00:00+00:00")
    first, second = run_incident(regression), run_incident(later)
    third = run_incident(_same_model(later))
    assert first is not None
    assert second is not None
    assert third is not None
    assert first.key == second.key
    assert third.key != first.key


def test_a_pass_has_no_incident_and_a_suspect_one_warns(passing: Comparison) -> None:
    assert run_incident(passing) is None
    suspect = run_incident(comparison("suspect"))
    assert suspect is not None
    assert suspect.severity == "warn"
    paged = run_incident(comparison("suspect"), page_on={"suspect"})
    assert paged is not None
    assert paged.severity == "page"


def _alert(layer: str, metric: str, severity: str = "warn") -> Alert:
    return Alert(layer=layer, metric=metric, message=metric, severity=severity)  # type: ignore[arg-type]


def test_a_monitor_pass_blames_failing_calls_then_a_model_change_then_drift() -> None:
    alerts = [
        _alert("drift", "domain_auc"),
        _alert("signals", "thumbs_down_rate", "page"),
        _alert("ops", "error_rate"),
    ]
    incident = monitor_incident("support-bot", alerts, ("m-1", "m-2", "2025-06-29T10:00:00Z"))
    assert incident is not None
    assert incident.severity == "page"
    assert [c.kind for c in incident.causes] == ["outage", "model_change", "input_drift"]
    assert incident.causes[1].summary == (
        "production's model changed at 2025-06-29T10:00:00Z: m-1 -> m-2"
    )
    assert incident.alerts[0].metric == "thumbs_down_rate"
    drift_only = monitor_incident("support-bot", [_alert("drift", "uncovered_share")])
    assert drift_only is not None
    assert drift_only.severity == "warn"
    assert drift_only.cause.summary == "production inputs drifted (uncovered_share)"
    assert monitor_incident("support-bot", [_alert("model", "served_model", "info")]) is None


def test_the_incident_as_json(regression: Comparison) -> None:
    data = incident_dict(run_incident(regression))
    assert data is not None
    assert set(data) == {"key", "title", "severity", "causes", "alerts"}
    assert data["causes"][0]["kind"] == "model_change"
    assert incident_dict(None) is None
