"""The ecosystem's own validators, run on what canary writes: `promtool check metrics` for the
Prometheus textfile, Jenkins xunit's `junit-10.xsd` (through xmlschema) for JUnit, the published
JSON Schemas for JSON reports.

Each `check_*` fails the test on an invalid file. Where the tool is not installed it skips the
test with the reason, unless `required=False`, when it returns without checking: the CLI fixture
validates every report it sees that way, on top of the dedicated tests that skip.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


JUNIT_XSD = Path(__file__).parent / "schemas" / "junit-10.xsd"
"""Jenkins xunit's junit-10.xsd (MIT, from jenkinsci/xunit-plugin; the licence is in the file)."""


def _absent(reason: str, required: bool) -> None:
    if required:
        pytest.skip(reason)


def check_metrics(text: str, *, required: bool = True) -> None:
    """`promtool check metrics` (Debian package `prometheus`) accepts the exposition `text`."""
    promtool = shutil.which("promtool")
    if promtool is None:
        return _absent("promtool is not installed (Debian package prometheus)", required)
    done = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def check_junit(path: Path, *, required: bool = True) -> None:
    """The file validates against junit-10.xsd."""
    try:
        import xmlschema
    except ImportError:
        return _absent("xmlschema is not installed (pip install -e '.[dev]')", required)
    errors = [str(e.reason) for e in xmlschema.XMLSchema(str(JUNIT_XSD)).iter_errors(str(path))]
    assert errors == [], errors


def check_report(data: Any, schema: str) -> None:
    """`data` is valid against the published JSON Schema `schema` (run, saved-run, monitor)."""
    from canary_eval.reports.schemas import report_validator

    validator = report_validator(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == [], errors[:5]


_KINDS = {".json": "--json", ".xml": "--junit", ".prom": "--prometheus"}


def validate_reports(argv: list[str]) -> None:
    """Validate every report file a `canary` command line wrote, with every validator that is
    installed: the CLI fixture calls this after each command."""
    command = argv[0] if argv else ""
    for flag, value in itertools.pairwise(argv):
        path = Path(value)
        if value == "-" or not path.is_file():
            continue
        kind = _KINDS.get(path.suffix) if flag in ("-o", "--output") else flag
        if command == "baseline" and flag in ("--baseline", "--output", "-o"):
            kind = "--save-run"
        if kind == "--junit":
            check_junit(path, required=False)
        elif kind == "--prometheus":
            check_metrics(path.read_text(encoding="utf-8"), required=False)
        elif kind in ("--json", "--save-run"):
            schema = {"monitor": "monitor-report", "baseline": "saved-run"}.get(command)
            data = json.loads(path.read_text(encoding="utf-8"))
            check_report(data, "saved-run" if kind == "--save-run" else schema or "run-report")
