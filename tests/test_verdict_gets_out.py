"""The verdict always gets out: a history or report that cannot be written (a full disk, a
directory where a file belongs, a file that is not SQLite) is a warning on stderr and in the
alert, and the exit code is the verdict's."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import API_KEY, CliResult, right_answer, wrong_below
from factories import RecordingServer
from model_server import ModelServer


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingServer]:
    with RecordingServer() as server:
        monkeypatch.setenv("CANARY_TEST_HOOK", f"{server.url}/hook")
        yield server


@pytest.fixture
def regressed(
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
    receiver: RecordingServer,
) -> Path:
    """A suite with a webhook alert, its baseline recorded, and a model that got worse."""
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url, alerts={"webhook": {"url_env": "CANARY_TEST_HOOK"}})
    assert canary("baseline", suite, "--quiet").exit_code == 0
    model_server.answer = wrong_below(30)  # pages on the first run against a new baseline
    return suite


def small_disk(max_bytes: int) -> Callable[[], None]:
    """A disk that is full after `max_bytes` per file: writes past it fail with EFBIG."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return limit


def test_on_a_full_disk_the_alert_goes_out_with_the_verdicts_exit_code(
    regressed: Path, receiver: RecordingServer, tmp_path: Path
) -> None:
    (tmp_path / ".canary" / "history.sqlite").unlink(missing_ok=True)
    env = {**os.environ, "CANARY_TEST_KEY": API_KEY, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "canary_eval", "run", str(regressed), "--quiet"]
    reports = ["--json", "r.json", "--html", "r.html"]

    done = subprocess.run(
        command + reports,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=small_disk(4096),
    )

    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.startswith("REGRESSION")
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: not saved:")]
    assert len(warnings) == len(done.stderr.splitlines()) == 3  # history and two reports
    [alert] = receiver.to("/hook")
    sent = alert.json()
    assert (sent["verdict"], sent["exit_code"]) == ("regression", 1)
    assert [w for w in sent["warnings"] if "history" in w]
    for name in ("r.json", "r.html"):
        assert [w for w in sent["warnings"] if name in w]
        assert not (tmp_path / name).exists()
    assert not list(tmp_path.glob(".r.*.tmp"))


@pytest.mark.parametrize("history", ["a directory", "not SQLite"])
def test_an_unusable_history_is_a_warning_and_the_reports_are_still_written(
    history: str,
    regressed: Path,
    receiver: RecordingServer,
    canary: Callable[..., CliResult],
    tmp_path: Path,
) -> None:
    path = tmp_path / ".canary" / "history.sqlite"
    path.unlink(missing_ok=True)
    if history == "a directory":
        path.mkdir(parents=True)
    else:
        path.write_text("these are not the runs you are looking for\n" * 100)

    result = canary("run", regressed, "--quiet", "--json", "r.json")

    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"warning: not saved: {path}: history: cannot ")
    assert (tmp_path / "r.json").exists()
    assert receiver.to("/hook")[0].json()["warnings"] == [line.removeprefix("warning: not saved: ")]


def test_a_report_that_cannot_be_written_does_not_stop_the_next_one(
    regressed: Path, canary: Callable[..., CliResult], tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("")

    result = canary(
        "run", regressed, "--quiet", "--junit", "file/r.xml", "--save-run", "file/run.json",
        "--markdown", "r.md",
    )  # fmt: skip

    assert result.exit_code == 1
    assert (tmp_path / "r.md").exists()
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert all(line.startswith("warning: not saved: file/") for line in lines)


def test_the_history_command_names_an_unusable_history_in_one_line(
    regressed: Path, canary: Callable[..., CliResult], tmp_path: Path
) -> None:
    (tmp_path / ".canary" / "history.sqlite").write_bytes(b"\0" * 8192)

    result = canary("history", regressed)

    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert "history.sqlite: history: cannot read: file is not a database" in line
