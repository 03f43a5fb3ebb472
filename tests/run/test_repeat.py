"""`--repeat N`: every sample is a billed call, so tokens and cost count all of them, while the
cost per case stays comparable with a baseline of one sample."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import CliResult, make_cases, right_answer
from model_server import ModelServer


def test_repeat_counts_the_tokens_and_cost_of_every_sample(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url, make_cases(10))
    canary("baseline", suite, "--quiet")
    canary("run", suite, "--quiet", "--json", "once.json")

    canary("run", suite, "--quiet", "--repeat", "2", "--json", "twice.json")

    once, twice = (json.loads(Path(p).read_text())["ops"] for p in ("once.json", "twice.json"))
    assert len(model_server.requests) == 10 * 4
    assert twice["input_tokens"] == 2 * once["input_tokens"] > 0
    assert twice["output_tokens"] == 2 * once["output_tokens"] > 0
    assert twice["cost_per_case_usd"] == pytest.approx(once["cost_per_case_usd"])
