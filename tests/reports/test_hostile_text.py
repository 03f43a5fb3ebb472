"""Text from data (model output, served model names, case ids and intents) is shown as text:
rich markup in it is literal, and terminal control and escape sequences never reach the terminal
or a GitHub annotation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from canary_eval.reports.control import plain, shown

from conftest import CliResult, make_cases, right_answer
from model_server import ModelServer

ESCAPES = (
    "\x1b[2J\x1b[31mred\x1b[0m \x1b]0;window title\x07 "  # clear screen, colour, OSC title
    "\x1b]8;;http://x.test\x1b\\link\x1b]8;;\x1b\\ \x9b1m"  # OSC-8 hyperlink, 8-bit CSI
)


def test_escape_sequences_are_removed_and_markup_is_escaped() -> None:
    assert plain(ESCAPES) == "red  link "
    assert plain("tab\tand\nnewline stay, bell\x07 and NUL\x00 go") == (
        "tab\tand\nnewline stay, bell and NUL go"
    )
    assert shown("[/bold] x and billing [beta]") == "\\[/bold] x and billing \\[beta]"


def test_markup_and_escapes_from_the_data_reach_neither_terminal_nor_annotations(
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cases = make_cases(40, intents=("[/bold] x", "billing [beta]"))
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url, cases)
    canary("baseline", suite, "--quiet")
    model_server.model = "[/bold] model\x1b]0;pwned\x07"
    model_server.answer = lambda user: ESCAPES if int(user.split()[-1]) < 24 else right_answer(user)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")

    result = canary("run", suite)

    assert result.exit_code == 1, result.output
    assert "billing [beta]" in result.stdout
    assert "[/bold] x" in result.stdout
    assert "[/bold] model" in result.stdout
    assert "\x1b" not in result.output
    assert "\x07" not in result.output
    assert "\x9b" not in result.output
    assert [line for line in result.stdout.splitlines() if line.startswith("::error")]
