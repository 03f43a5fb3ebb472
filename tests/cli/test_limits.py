"""`canary validate` states each series' limits from what `canary baseline` (or an earlier
validate) stored for the same inputs, and the figures are those a fresh computation gives."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from conftest import CliResult, right_answer
from model_server import ModelServer


def limits_of(stdout: str) -> str:
    return stdout[stdout.index("smallest drop paged") :]


def stored() -> list[Path]:
    return sorted((Path(os.environ["XDG_CACHE_HOME"]) / "canary-eval" / "limits").glob("*"))


def test_validate_reads_back_the_limits_it_computed_for_the_same_inputs(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path]
) -> None:
    suite = write_suite("http://127.0.0.1:9/v1")
    first = canary("validate", suite).stdout
    assert "no baseline yet" in first
    assert len(stored()) == 1
    assert canary("validate", suite).stdout == first
    stricter = canary("validate", suite, "--set", "thresholds.per_intent.min_cases=40").stdout
    assert limits_of(stricter) != limits_of(first)
    assert len(stored()) == 2


def test_the_baseline_stores_the_limits_validate_would_compute_from_it(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    before = canary("validate", suite).stdout
    assert canary("baseline", suite).exit_code == 0
    entries = stored()
    after = canary("validate", suite).stdout
    assert stored() == entries  # read back, not computed again
    assert "from the baseline's scores" in after
    assert limits_of(after) != limits_of(before)
    shutil.rmtree(entries[0].parent)
    assert canary("validate", suite).stdout == after


def test_an_unreadable_entry_is_computed_again(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path]
) -> None:
    suite = write_suite("http://127.0.0.1:9/v1")
    fresh = canary("validate", suite).stdout
    for entry in stored():
        entry.write_text("{not json")
    assert canary("validate", suite).stdout == fresh
