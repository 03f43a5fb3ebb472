"""The command line follows the conventions users and scripts expect: --version, -h, completion,
global options after the command, `-` for stdout, `-o` with a format, the vendors' environment
variables, and `--set` overrides recorded in the run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from canary_eval.cli import app

from conftest import API_KEY, CliResult, right_answer
from model_server import ModelServer

CANARY = Path(sys.executable).with_name("canary")


def test_version_and_short_help(canary: Callable[..., CliResult]) -> None:
    for flag in ("--version", "-V"):
        result = canary(flag)
        assert (result.exit_code, result.stdout) == (0, f"canary {version('canary-eval')}\n")
    for args in (["-h"], ["run", "-h"]):
        result = canary(*args)
        assert result.exit_code == 0
        assert "Usage: canary" in result.stdout
    assert "--install-completion" in canary("-h").stdout


def test_shell_completion_completes_commands_and_options() -> None:
    env = {"_CANARY_COMPLETE": "complete_bash", "COMP_WORDS": "canary ru", "COMP_CWORD": "1"}
    result = CliRunner().invoke(app, [], env=env, prog_name="canary")
    assert "run" in result.stdout.split()
    env = {**env, "COMP_WORDS": "canary run --if-", "COMP_CWORD": "2"}
    result = CliRunner().invoke(app, [], env=env, prog_name="canary")
    assert "--if-model-changed" in result.stdout.split()


def test_debug_works_before_and_after_the_command(canary: Callable[..., CliResult]) -> None:
    plain = canary("run", "missing.yaml")
    assert plain.exit_code == 2
    assert "Traceback" not in plain.output
    for args in (["--debug", "run", "missing.yaml"], ["run", "--debug", "missing.yaml"]):
        result = canary(*args)
        assert result.exit_code == 2
        assert "Traceback" in result.stderr
        assert result.stderr.rstrip().endswith("error: missing.yaml: file not found")


def test_json_to_stdout_is_the_report_alone_and_the_rest_goes_to_stderr(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite)
    result = canary("run", suite, "--json", "-")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verdict"] == "pass"
    assert "PASS" in result.stderr
    assert not Path("-").exists()


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_a_pipe_into_jq_and_dev_stdout_work_as_in_a_shell(
    model_server: ModelServer,
    write_suite: Callable[..., Path],
    tmp_path: Path,
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)

    def shell(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", f"set -o pipefail; {command}"],
            cwd=tmp_path,
            env={**os.environ, "CANARY_TEST_KEY": API_KEY},
            capture_output=True,
            text=True,
            timeout=120,
        )

    done = shell(
        f"{CANARY} baseline {suite} -q && {CANARY} run {suite} -q --json - | jq -r .verdict"
    )
    assert (done.returncode, done.stdout.splitlines()[-1]) == (0, "pass"), done.stderr
    before = os.readlink("/dev/stdout")
    done = shell(f"{CANARY} run {suite} -q --json /dev/stdout | jq -r .exit_code")
    assert (done.returncode, done.stdout.strip()) == (0, "0"), done.stderr
    assert os.readlink("/dev/stdout") == before  # still the symlink it was
    # Redirected to a log in append mode, /dev/stdout and /dev/stderr append to it.
    log = tmp_path / "canary.log"
    log.write_text("earlier runs\n")
    shell(f"{CANARY} run {suite} -q --json /dev/stdout --markdown /dev/stderr >> {log} 2>&1")
    text = log.read_text()
    assert text.startswith("earlier runs\n")
    assert '"verdict": "pass"' in text
    assert "PASS" in text


def test_a_symlinked_report_stays_a_symlink(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite)
    Path("runs").mkdir()
    Path("runs/0412.html").write_text("old")
    Path("latest.html").symlink_to("runs/0412.html")
    assert canary("run", suite, "--html", "latest.html", "-q").exit_code == 0
    assert Path("latest.html").is_symlink()
    assert "<svg" in Path("runs/0412.html").read_text()


def test_one_output_option_takes_the_format_from_the_extension_or_the_flag(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite)
    result = canary("run", suite, "-q", "-o", "r.json", "-o", "r.xml", "--output", "m.prom")
    assert result.exit_code == 0, result.output
    assert json.loads(Path("r.json").read_text())["verdict"] == "pass"
    assert Path("r.xml").read_text().startswith("<?xml")
    assert "canary_score_ratio" in Path("m.prom").read_text()
    result = canary("run", suite, "-q", "-o", "-", "--output-format", "junit")
    assert result.stdout.startswith("<?xml")
    unknown = canary("run", suite, "-o", "report.txt")
    assert unknown.exit_code == 2
    assert "--output-format" in unknown.stderr


def test_openai_api_key_alone_is_enough_when_the_config_names_no_variable(
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    text = suite.read_text().replace("  api_key_env: CANARY_TEST_KEY\n", "")
    suite.write_text(text.replace(f"  base_url: {model_server.base_url}\n", ""))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-0123")
    monkeypatch.setenv("OPENAI_BASE_URL", model_server.base_url)
    result = canary("baseline", suite)
    assert result.exit_code == 0, result.output
    assert model_server.requests[0]["headers"]["Authorization"] == "Bearer sk-openai-0123"


def test_set_overrides_the_model_for_one_run_and_is_recorded(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite)
    args = ("--set", "provider.model=test-model-2026-01", "--set", "provider.concurrency=2")
    result = canary("run", suite, *args, "--json", "r.json", "--junit", "r.xml", "-q")
    assert result.exit_code == 0, result.output
    assert model_server.requests[-1]["body"]["model"] == "test-model-2026-01"
    run = json.loads(Path("r.json").read_text())["run"]
    assert run["overrides"] == {
        "provider.model": "test-model-2026-01",
        "provider.concurrency": "2",
    }
    assert 'name="set.provider.model" value="test-model-2026-01"' in Path("r.xml").read_text()
    assert canary("validate", suite, "--set", "provider.model=x").exit_code == 0
    bad = canary("validate", suite, "--set", "provider.concurrency=0")
    assert bad.exit_code == 2
    assert "suite.yaml: provider.concurrency (--set): must be an integer >= 1" in bad.stderr
    assert canary("validate", suite, "--set", "nonsense").exit_code == 2


def test_output_in_cron_logs_is_not_wrapped_at_80_columns(
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model_server.answer = right_answer
    model_server.model = "support-model-with-a-long-vendor-name-2026-01-15-preview"
    model_server.fingerprint = "fp_0123456789abcdef0123"
    suite = write_suite(model_server.base_url)
    canary("baseline", suite)
    canary("run", suite, "-q")
    monkeypatch.delenv("COLUMNS")  # as in cron: no terminal, no COLUMNS
    result = canary("history", suite)
    served = f"{model_server.model} ({model_server.fingerprint})"
    rows = [line for line in result.stdout.splitlines() if served in line]
    assert len(rows) == 1  # one run, on one line, its model name whole
    assert any(len(line) > 80 for line in result.stdout.splitlines())
    report = canary("run", suite)
    assert any(served in line for line in report.stdout.splitlines())


def test_a_missing_baseline_names_the_command_that_records_it_at_that_path(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    suite = write_suite(model_server.base_url)
    result = canary("run", suite, "--baseline", "baselines/bot.json")
    assert result.exit_code == 2
    assert f"`canary baseline {suite} --baseline baselines/bot.json`" in result.stderr
    assert "commit it" in result.stderr
    assert model_server.requests == []
