"""A run scores every answer as it arrives: with a slow last case, the other cases are scored
(here by a real judge endpoint on 127.0.0.1, which sees when) before that last call returns."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from canary_eval.run.runner import run_suite
from canary_eval.suite.config import load_config
from canary_eval.suite.evalset import load_evalset

from conftest import API_KEY, make_cases, right_answer
from model_server import Fault, ModelServer, serving

CASES = 12


def test_cases_are_scored_while_the_last_call_is_still_running(
    write_suite: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANARY_TEST_KEY", API_KEY)
    judged: list[float] = []  # when the judge saw each scoring request
    answered: dict[str, float] = {}  # when the model answered each case

    def judge(prompt: str) -> str:
        judged.append(time.monotonic())
        return '{"reasoning": "matches", "answer": "yes"}'

    def model(user: str) -> str:
        answered[user] = time.monotonic()
        return right_answer(user)

    last = f"question {CASES - 1}"
    slow_last = ModelServer(
        answer=model, fault_for=lambda n, user: Fault(stall_s=1.0) if user == last else None
    )
    with serving(slow_last) as server, serving(ModelServer(answer=judge)) as judge_server:
        suite = write_suite(
            server.base_url,
            make_cases(CASES),
            judge={"type": "openai", "base_url": judge_server.base_url, "model": "judge-1"},
            scorers=[{"type": "judge", "mode": "closedqa"}],
        )
        config = load_config(suite)
        run = run_suite(config, load_evalset(config.evalset_path))

    assert [case.score for case in run.cases] == [1.0] * CASES
    assert len(judged) == CASES
    # Every case but the slow one was scored before the model even answered the slow one.
    assert sum(when < answered[last] for when in judged) == CASES - 1
