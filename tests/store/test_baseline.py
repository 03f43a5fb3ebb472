"""The baseline store: versioned JSON that round-trips, written so a crash never leaves half."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from canary_eval.errors import BaselineError
from canary_eval.models import CaseResult, ToolCall, Usage
from canary_eval.store.baseline import CaseScore, load_run, load_scores, save_run, write_atomic

from factories import SUITE, baseline_cases, case, run


def test_a_saved_run_loads_back_equal(tmp_path: Path) -> None:
    original = run(baseline_cases(3))
    save_run(tmp_path / "b.json", original)
    assert load_run(tmp_path / "b.json") == original


def test_ctrl_c_while_writing_leaves_the_old_baseline_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "b.json"
    path.write_text("old")

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, "new")

    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["b.json"]


def test_a_baseline_of_another_schema_version_says_to_record_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    save_run(path, run(baseline_cases(1)))
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "schema_version": 99}))
    with pytest.raises(BaselineError, match="schema version 99 is not 1; record a new one"):
        load_run(path)


def test_a_truncated_baseline_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    save_run(path, run(baseline_cases(1)))
    path.write_text(path.read_text()[:50])
    with pytest.raises(BaselineError, match="corrupt baseline"):
        load_run(path)


def test_the_scores_alone_are_the_intents_scores_and_samples_load_run_reads(
    tmp_path: Path,
) -> None:
    cases = [
        case("a", "billing", 0.5),
        case("b", None, None),
        replace(case("c", "faq", 1), samples=(1.0, 0.0)),
    ]
    save_run(tmp_path / "b.json", run(cases))

    scores = load_scores(tmp_path / "b.json", suite=SUITE)

    assert scores == tuple(CaseScore(c.intent, c.score, c.samples) for c in cases)
    assert scores == tuple(
        CaseScore(c.intent, c.score, c.samples) for c in load_run(tmp_path / "b.json").cases
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda data: data["cases"][0].update(score="0.9"), "corrupt baseline: case 'a'"),
        (lambda data: data["cases"][0].update(samples=[1, None]), "corrupt baseline: case 'a'"),
        (lambda data: data["cases"][0].pop("score"), "corrupt baseline: 'score'"),
        (lambda data: data.update(cases="a, b"), "corrupt baseline"),
        (lambda data: data["info"].update(suite="other"), "belongs to suite 'other'"),
        (lambda data: data.update(format="something/else"), "not a canary baseline file"),
    ],
)
def test_the_scores_alone_are_checked_before_they_are_believed(
    tmp_path: Path, edit: Callable[[dict[str, Any]], object], message: str
) -> None:
    path = tmp_path / "b.json"
    save_run(path, run([case("a", "billing", 0.5)]))
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))

    with pytest.raises(BaselineError, match=message):
        load_scores(path, suite=SUITE)


def test_tool_calls_and_token_details_survive_a_save_and_load(tmp_path: Path) -> None:
    calls = (
        ToolCall("lookup_invoice", {"invoice_id": "INV-1"}, '{"invoice_id": "INV-1"}', "call_1"),
        ToolCall("open_dispute", None, "{not json"),
    )
    usage = Usage(100, 20, cached_input_tokens=64, cache_write_tokens=8, reasoning_tokens=12)
    case = CaseResult("c1", None, "h", "", 1.0, usage=usage, tool_calls=calls, turns=2)
    save_run(tmp_path / "b.json", run([case]))

    loaded = load_run(tmp_path / "b.json").cases[0]

    assert (loaded.tool_calls, loaded.usage, loaded.turns) == (calls, usage, 2)


def test_the_next_write_removes_what_a_killed_write_left_but_not_a_fresh_temporary(
    tmp_path: Path,
) -> None:
    target = tmp_path / "suite.baseline.json"
    orphan = tmp_path / ".suite.baseline.json.k1ll3d.tmp"
    in_flight = tmp_path / ".suite.baseline.json.n0w.tmp"
    other = tmp_path / ".other.json.k1ll3d.tmp"
    for path in (orphan, in_flight, other):
        path.write_text("{")
    hour_ago = time.time() - 3600
    os.utime(orphan, (hour_ago, hour_ago))
    os.utime(other, (hour_ago, hour_ago))

    write_atomic(target, "{}\n")

    assert target.read_text() == "{}\n"
    assert not orphan.exists()
    assert in_flight.exists()  # another run may be writing it right now
    assert other.exists()  # another file's
