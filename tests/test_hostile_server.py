"""A hostile or broken server on 127.0.0.1: every fault ends as a classified case error and the
documented exit code within bounded time, never exit 1 (a regression) and never a traceback."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import CliResult, make_cases, right_answer
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


OUTAGES = {
    # fault, provider settings, the error kind every case ends with
    "trickles a byte every 0.2 s": (
        Fault(body=chat({"content": "x" * 200}), trickle_s=0.2),
        {"timeout_s": 1},
        "timeout",
    ),
    "answers 2 MB": (Fault(body=chat({"content": "x" * 2_000_000})), {}, "too_large"),
    "asks to retry after a day": (
        Fault(429, headers={"retry-after": "86400"}),
        {"max_retry_after_s": 0.2},
        "rate_limited",
    ),
    "stalls past timeout_s": (Fault(stall_s=3), {"timeout_s": 0.5}, "timeout"),
    "drops the connection": (Fault(drop=True), {}, "connect_error"),
    "answers 503": (Fault(503, headers={"retry-after": "0"}), {}, "server_error"),
}


@pytest.mark.parametrize(("fault", "settings", "kind"), OUTAGES.values(), ids=OUTAGES.keys())
def test_an_outage_ends_in_exit_3_within_bounded_time(
    fault: Fault,
    settings: dict[str, float],
    kind: str,
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
) -> None:
    model_server.answer = right_answer
    provider = {"concurrency": 8, "max_retries": 1, "timeout_s": 5, **settings}
    suite = write_suite(model_server.base_url, make_cases(8), provider=provider)
    canary("baseline", suite, "--quiet")
    model_server.fault_for = lambda n, user: fault

    started = time.monotonic()
    result = canary("run", suite, "--json", "report.json")
    elapsed = time.monotonic() - started

    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert elapsed < 8
    report = json.loads(Path("report.json").read_text())
    kinds = set(report["ops"]["errors_by_kind"])
    assert kind in kinds
    assert kinds <= {kind, "cancelled"}  # the rest stopped once the error budget was gone


@pytest.mark.parametrize("quiet", [False, True])
def test_the_terminal_says_why_calls_failed(
    quiet: bool,
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url, make_cases(8))
    canary("baseline", suite, "--quiet")
    body = json.dumps({"error": {"message": "The model `test-model` does not exist"}})
    model_server.fault_for = lambda n, user: Fault(404, body=body)

    result = canary("run", suite, *(["--quiet"] if quiet else []))

    assert result.exit_code == 3
    line = next(t for t in result.stdout.splitlines() if "client_error" in t and "404" in t)
    assert "does not exist" in line
