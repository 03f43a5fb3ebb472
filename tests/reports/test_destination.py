"""Report paths: regular files are replaced atomically with the umask's mode, anything else (a
symlink, a device, a FIFO) is written through and never replaced, `-` is stdout."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from canary_eval.errors import OutputError
from canary_eval.reports.destination import STDOUT, write_text


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask_022")
def test_a_new_report_gets_the_umasks_mode_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    path = tmp_path / "out" / "report.html"
    write_text(path, "<html>")
    assert path.read_text() == "<html>"
    assert mode(path) == 0o644  # a web server running as another user can serve it
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]


@pytest.mark.usefixtures("umask_022")
def test_an_existing_report_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("old")
    path.chmod(0o640)
    write_text(path, "new")
    assert (path.read_text(), mode(path)) == ("new", 0o640)


def test_a_symlink_stays_a_symlink_and_its_target_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "0412.html").write_text("old")
    link = tmp_path / "latest.html"
    link.symlink_to("runs/0412.html")
    write_text(link, "new")
    assert link.is_symlink()
    assert (tmp_path / "runs" / "0412.html").read_text() == "new"
    dangling = tmp_path / "next.html"
    dangling.symlink_to("runs/0413.html")
    write_text(dangling, "first")
    assert dangling.is_symlink()
    assert (tmp_path / "runs" / "0413.html").read_text() == "first"


def test_a_device_is_written_through_not_replaced() -> None:
    write_text(Path("/dev/null"), "discarded")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_fifo_is_written_through_to_its_reader(tmp_path: Path) -> None:
    fifo = tmp_path / "reports.fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    for _ in range(500):  # the writer needs the reader's end open
        try:
            write_text(fifo, "canary_score_ratio 1\n")
            break
        except OutputError:
            threading.Event().wait(0.01)
    reader.join(timeout=10)
    assert received == ["canary_score_ratio 1\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_fifo_nobody_reads_is_an_error_at_once_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "reports.fifo"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match=r"reports\.fifo: cannot write: nothing is reading"):
        write_text(fifo, "text")


def test_dash_is_standard_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_text(STDOUT, '{"verdict": "pass"}\n')
    assert capsys.readouterr().out == '{"verdict": "pass"}\n'
    assert not (tmp_path / "-").exists()
