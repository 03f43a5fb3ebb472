"""Where a report goes: a path given on the command line, written the way a user expects.

* `-` is standard output (`canary run S --json - | jq .verdict`), and so is `/dev/stdout`.
  `/dev/stderr`, `/dev/fd/N` and `/proc/self/fd/N` are written through the open descriptor,
  so a redirect such as `>> canary.log` is appended to, never replaced or truncated.
* A regular file, or a path that does not exist yet, is replaced atomically: the text goes to a
  temporary file beside it, is flushed and moved into place, so a reader (a web server, the
  node_exporter textfile collector) sees the old report or the new one, never a part.
* A symlink is followed and its target written the same way, so the link stays a link
  (`latest.html -> runs/0412.html`).
* Anything else (a FIFO, a device) is opened and written through, never replaced.
  A FIFO without a reader is an error at once rather than a hang.
* New files get the mode the umask allows (0644 by default), so a web server running as another
  user can serve the HTML; an existing file keeps its mode. The baseline store keeps its own,
  stricter handling (`store.baseline.write_atomic`).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
import tempfile
from pathlib import Path

from canary_eval.errors import OutputError
from canary_eval.redaction import redact
from canary_eval.store.baseline import remove_stale_temporaries

STDOUT = Path("-")
_STANDARD = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}
_FD_PATH = re.compile(r"/(?:dev/fd|proc/self/fd)/(\d+)")


def is_stdout(path: Path) -> bool:
    """`-`, or a path that is this process's standard output (`/dev/stdout`, `/proc/self/fd/1`,
    or the very file stdout is redirected to): the person's lines must then go to stderr, or
    they would mix with the report."""
    if path == STDOUT or _descriptor(path) == 1:
        return True
    try:
        target, out = os.stat(path), os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no such path; stdout closed or replaced
        return False
    return (target.st_dev, target.st_ino) == (out.st_dev, out.st_ino)


def _descriptor(path: Path) -> int | None:
    """The descriptor a `/dev/stdout`, `/dev/fd/N` or `/proc/self/fd/N` path names."""
    name = str(path)
    if name in _STANDARD:
        return _STANDARD[name]
    found = _FD_PATH.fullmatch(name)
    return int(found.group(1)) if found else None


def write_text(path: Path, text: str) -> None:
    """Write a report to `path` as described above; any failure is one OutputError. No
    registered secret is ever written."""
    text = redact(text)
    if is_stdout(path):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        descriptor = _descriptor(path)
        if descriptor is not None:
            # Through the open descriptor, never reopened: `2>> canary.log` stays an append.
            _write_descriptor(descriptor, text)
            return
        try:
            mode: int | None = os.stat(path).st_mode  # follows symlinks
        except FileNotFoundError:
            mode = None
        if mode is not None and not stat.S_ISREG(mode):
            # Opened by the given name: /dev/stdout's target (pipe:[...]) has no path of its own.
            _write_through(path, text)
        else:
            target = Path(os.path.realpath(path))  # a link's target is replaced, not the link
            _replace(target, text, stat.S_IMODE(mode) if mode is not None else _default_mode())
    except OSError as exc:
        raise OutputError(f"cannot write: {_reason(exc)}", path=path) from None


def _write_descriptor(descriptor: int, text: str) -> None:
    sys.stderr.flush()
    data = text.encode("utf-8")
    while data:
        data = data[os.write(descriptor, data) :]


def _write_through(target: Path, text: str) -> None:
    # O_NONBLOCK makes opening a FIFO that nobody reads fail (ENXIO) instead of waiting forever.
    fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY)
    os.set_blocking(fd, True)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _replace(target: Path, text: str, mode: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENXIO:
        return "nothing is reading from this FIFO"
    return exc.strerror or str(exc)
