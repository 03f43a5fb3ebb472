"""Ctrl-C during a run: what finished is saved, the baseline is untouched, and the exit is 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import API_KEY, right_answer
from model_server import ModelServer, serving


@pytest.mark.parametrize(
    ("stop", "code", "said"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated (SIGTERM)")],
    ids=["ctrl-c", "sigterm"],
)
def test_a_stop_saves_the_finished_cases_and_exits_130_or_143(
    stop: signal.Signals, code: int, said: str, write_suite: Callable[..., Path], tmp_path: Path
) -> None:
    with serving(ModelServer(answer=right_answer, latency_s=0.2)) as server:
        suite = write_suite(server.base_url, provider={"concurrency": 2})
        env = {**os.environ, "CANARY_TEST_KEY": API_KEY}
        command = [sys.executable, "-m", "canary_eval", "baseline", str(suite), "--quiet"]
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 20
        while len(server.statuses) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=20)

    assert process.returncode == code, stderr
    assert said in stderr
    saved = tmp_path / ".canary" / "test-suite.interrupted.json"
    finished = json.loads(saved.read_text())["cases"]
    assert 4 <= len(finished) < 60
    assert all(case["output"] for case in finished)
    assert not (tmp_path / ".canary" / "test-suite.baseline.json").exists()
