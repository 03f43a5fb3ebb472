"""Every user mistake ends in exit 2 and one line naming the file (and line or key), never a
traceback, and never a model call."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from conftest import CliResult
from model_server import ModelServer


def assert_one_line_error(result: CliResult, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


def edit_config(path: Path, change: Callable[[dict], None]) -> None:  # type: ignore[type-arg]
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_unparsable_yaml_names_the_line(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path]
) -> None:
    suite = write_suite("http://127.0.0.1:9/v1")
    suite.write_text("suite: x\nprovider:\n  type: openai\n   model: [unclosed\n")
    assert_one_line_error(canary("validate", suite), "suite.yaml:4", "invalid YAML")


def test_missing_required_key_names_the_key_path(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path]
) -> None:
    suite = write_suite("http://127.0.0.1:9/v1")
    edit_config(suite, lambda c: c.pop("evalset"))
    assert_one_line_error(canary("validate", suite), "suite.yaml", "evalset: required")


def test_wrong_type_names_line_and_key(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path]
) -> None:
    suite = write_suite("http://127.0.0.1:9/v1")
    edit_config(suite, lambda c: c["provider"].update(concurrency=0))
    text = suite.read_text().splitlines()
    line = next(i for i, t in enumerate(text, start=1) if "concurrency" in t)
    assert_one_line_error(
        canary("validate", suite),
        f"suite.yaml:{line}: provider.concurrency: must be an integer >= 1",
    )


def test_unknown_scorer_type(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path]
) -> None:
    suite = write_suite("http://127.0.0.1:9/v1", scorers=[{"type": "exact"}, {"type": "vibes"}])
    assert_one_line_error(
        canary("validate", suite), "scorers[1].type", "unknown scorer type 'vibes'"
    )


def test_scorer_parameter_of_the_wrong_type_names_its_line(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path]
) -> None:
    suite = write_suite("http://127.0.0.1:9/v1", scorers=[{"type": "contains", "value": 3}])
    line = next(i for i, t in enumerate(suite.read_text().splitlines(), 1) if "value: 3" in t)
    assert_one_line_error(canary("validate", suite), f"suite.yaml:{line}: scorers[0].value")


def test_a_bad_scorer_on_a_case_names_the_eval_set_and_the_case(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path]
) -> None:
    cases = [
        {"id": "a", "input": "x"},
        {"id": "b", "input": "y", "scorers": [{"type": "numeric", "value": 3, "abs_tol": "x"}]},
    ]
    suite = write_suite("http://127.0.0.1:9/v1", cases)
    line = next(i for i, t in enumerate(Path("evalset.yaml").read_text().splitlines(), 1)
                if "id: b" in t)  # fmt: skip
    assert_one_line_error(
        canary("validate", suite), f"evalset.yaml:{line}: cases[1].scorers[0].abs_tol"
    )


def test_missing_evalset_file(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path]
) -> None:
    suite = write_suite("http://127.0.0.1:9/v1", evalset="nowhere.yaml")
    assert_one_line_error(canary("validate", suite), "nowhere.yaml", "file not found")


def test_duplicate_case_ids(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path]
) -> None:
    cases = [{"id": "a", "input": "x"}, {"id": "b", "input": "y"}, {"id": "a", "input": "z"}]
    suite = write_suite("http://127.0.0.1:9/v1", cases)
    assert_one_line_error(canary("validate", suite), "evalset.yaml", "duplicate case id 'a'")


def test_broken_jsonl_line_is_reported_with_its_number(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path], tmp_path: Path
) -> None:
    (tmp_path / "cases.jsonl").write_text(
        '{"id": "a", "input": "x"}\n{"id": "b", "input": \n{"id": "c", "input": "z"}\n'
    )
    suite = write_suite("http://127.0.0.1:9/v1", evalset="cases.jsonl")
    assert_one_line_error(canary("validate", suite), "cases.jsonl:2", "invalid JSON")


def test_empty_evalset(canary: Callable[..., CliResult], write_suite: Callable[..., Path]) -> None:
    suite = write_suite("http://127.0.0.1:9/v1", [])
    assert_one_line_error(canary("validate", suite), "evalset.yaml", "no cases")


def test_a_case_without_input_names_the_case(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path]
) -> None:
    suite = write_suite("http://127.0.0.1:9/v1", [{"id": "a", "input": "x"}, {"id": "b"}])
    assert_one_line_error(canary("validate", suite), "evalset.yaml:", "cases[1].input: required")


def test_a_prompt_slot_no_case_fills(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path]
) -> None:
    suite = write_suite("http://127.0.0.1:9/v1", prompt={"template": "{{input}} {{context}}"})
    assert_one_line_error(
        canary("validate", suite), "suite.yaml", "prompt.template", "{{context}}", "no case"
    )


@pytest.mark.parametrize("command", ["run", "baseline"])
def test_unknown_variable_in_config(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path], command: str
) -> None:
    suite = write_suite("${CANARY_NOT_SET_ANYWHERE}/v1")
    assert_one_line_error(canary(command, suite), "provider.base_url", "CANARY_NOT_SET_ANYWHERE")


def test_missing_baseline_says_how_to_create_one_before_any_model_call(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    suite = write_suite(model_server.base_url)
    assert_one_line_error(canary("run", suite), "no baseline", "canary baseline")
    assert model_server.requests == []


def test_corrupt_baseline(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    suite = write_suite(model_server.base_url)
    Path("broken.json").write_text('{"format": "canary-eval/run", "cases": [')
    assert_one_line_error(
        canary("run", suite, "--baseline", "broken.json"), "broken.json", "corrupt baseline"
    )
    assert model_server.requests == []


def test_baseline_of_another_suite(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    suite = write_suite(model_server.base_url)
    other = write_suite(model_server.base_url, name="other.yaml", suite="other-suite")
    canary("baseline", other, "--baseline", "other.json")
    assert_one_line_error(
        canary("run", suite, "--baseline", "other.json"), "belongs to suite 'other-suite'"
    )


def test_missing_api_key_variable(
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    suite = write_suite(model_server.base_url)
    monkeypatch.delenv("CANARY_TEST_KEY")
    assert_one_line_error(
        canary("baseline", suite),
        "suite.yaml",
        "provider.api_key_env",
        "CANARY_TEST_KEY is not set",
    )


def test_a_report_that_cannot_be_written_is_one_warning_and_the_verdicts_exit_code(
    canary: Callable[..., CliResult], model_server: ModelServer, write_suite: Callable[..., Path]
) -> None:
    suite = write_suite(model_server.base_url)
    canary("baseline", suite)
    Path("taken").write_text("a file, not a directory")

    result = canary("run", suite, "--json", "taken/report.json")

    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "warning: not saved: taken/report.json: cannot write: Not a directory"
    ]


def test_a_misspelt_case_key_is_rejected_with_the_nearest_known_one(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path]
) -> None:
    cases = [
        {"id": "a", "input": "q", "reference": "r"},
        {"id": "b", "input": "q", "refernce": "r"},
    ]
    suite = write_suite("http://127.0.0.1:9/v1", cases)
    assert_one_line_error(
        canary("validate", suite),
        "evalset.yaml:",
        "cases[1].refernce: unknown key (did you mean 'reference'?)",
    )


def test_a_case_key_that_a_prompt_slot_reads_is_not_unknown(
    canary: Callable[..., CliResult], write_suite: Callable[..., Path]
) -> None:
    cases = [{"id": "a", "input": "q", "reference": "r", "product": "Ledger"}]
    prompt = {"system": "You support {{product}}.", "template": "{{input}}"}
    suite = write_suite("http://127.0.0.1:9/v1", cases, prompt=prompt)
    assert canary("validate", suite).exit_code == 0
