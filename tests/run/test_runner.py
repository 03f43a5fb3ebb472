"""A run scores every answer as it arrives: with a slow last case, the other cases are scored
(here by a real judge endpoint on 127.0.0.1, which sees when) before that last call returns."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from canary_eval.run.runner import run_suite
from canary_eval.suite.config import load_config
from canary_eval.suite.evalset import load_evalset

from conftest import API_KEY, make_cases, right_answer
from model_server import ModelServer, serving

CASES = 12
# The slow case holds its answer until the judge has seen every other case; the wait is only
# reached when scoring does wait for the last call (the defect), so it is long enough for a
# loaded machine, and the call's timeout is longer still so that the slow call is never retried.
HOLD_S = 60


def test_cases_are_scored_while_the_last_call_is_still_running(
    write_suite: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANARY_TEST_KEY", API_KEY)
    judged: list[float] = []  # when the judge saw each scoring request
    answered: dict[str, float] = {}  # when the model answered each case
    others_judged = threading.Event()
    last = f"question {CASES - 1}"

    def judge(prompt: str) -> str:
        judged.append(time.monotonic())
        if len(judged) >= CASES - 1:
            others_judged.set()
        return '{"reasoning": "matches", "answer": "yes"}'

    def model(user: str) -> str:
        if user == last:  # the slow case: it answers once the others are scored
            others_judged.wait(timeout=HOLD_S)
        answered[user] = time.monotonic()
        return right_answer(user)

    slow_last = ModelServer(answer=model)
    with serving(slow_last) as server, serving(ModelServer(answer=judge)) as judge_server:
        suite = write_suite(
            server.base_url,
            make_cases(CASES),
            provider={"timeout_s": HOLD_S * 1.5},
            judge={"type": "openai", "base_url": judge_server.base_url, "model": "judge-1"},
            scorers=[{"type": "judge", "mode": "closedqa"}],
        )
        config = load_config(suite)
        run = run_suite(config, load_evalset(config.evalset_path))

    assert [case.score for case in run.cases] == [1.0] * CASES
    assert len(judged) == CASES
    # Every case but the slow one was scored before the model even answered the slow one.
    assert sum(when < answered[last] for when in judged) == CASES - 1
