"""A hostile or broken server on 127.0.0.1: every fault ends as a classified case error and the
documented exit code within bounded time, never exit 1 (a regression) and never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import CliResult, right_answer
from model_server import Fault, ModelServer


def chat(message: object, usage: object = None) -> str:
    return json.dumps({"choices": [{"message": message, "finish_reason": "stop"}], "usage": usage})


BAD_VALUES = {
    "message is a string": Fault(body=chat("hi")),
    "content is a number": Fault(body=chat({"content": 7})),
    "choices is null": Fault(body=json.dumps({"choices": None})),
    "body is a list": Fault(body="[1, 2]"),
    "prompt_tokens is text": Fault(body=chat({"content": "x"}, {"prompt_tokens": "lots"})),
    "prompt_tokens is negative": Fault(body=chat({"content": "x"}, {"prompt_tokens": -3})),
    "prompt_tokens is infinite": Fault(body=chat({"content": "x"}, {"prompt_tokens": 1e999})),
    "gzip header, plain body": Fault(
        body=chat({"content": "x"}), headers={"content-encoding": "gzip"}
    ),
    "nested 100k deep": Fault(body="[" * 100_000 + "]" * 100_000),
    "not JSON": Fault(body="<html>bad gateway</html>"),
}


@pytest.mark.parametrize("fault", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_a_bad_value_from_the_server_is_a_case_error_never_a_crash(
    fault: Fault,
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite, "--quiet")
    model_server.fault_for = lambda n, user: fault

    result = canary("run", suite, "--json", "report.json")

    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    report = json.loads(Path("report.json").read_text())
    errors = report["ops"]["errors_by_kind"]
    # Past the error budget (6 of 60) the verdict is decided and the other cases are not sent.
    assert errors["malformed_response"] > 6
    assert set(errors) <= {"malformed_response", "cancelled"}


def test_a_null_token_count_is_an_unknown_count_not_an_error(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url)
    canary("baseline", suite, "--quiet")
    model_server.fault_for = lambda n, user: Fault(
        body=chat({"content": right_answer(user)}, {"prompt_tokens": None})
    )

    result = canary("run", suite, "--json", "report.json")

    assert result.exit_code == 0, result.output
    assert json.loads(Path("report.json").read_text())["ops"]["error_rate"] == 0
