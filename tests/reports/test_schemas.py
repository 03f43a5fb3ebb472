"""The published JSON Schemas hold for real output of every verdict, and would catch a report
that broke the contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canary_eval.reports.json import report_dict, write_json
from canary_eval.reports.schemas import NAMES, report_schema
from canary_eval.store.baseline import save_run
from canary_eval.verdict.compare import Comparison
from validators import check_report


def test_every_verdicts_report_is_valid_and_versioned(
    regression: Comparison,
    passing: Comparison,
    suspect: Comparison,
    errored: Comparison,
    tmp_path: Path,
) -> None:
    for c in (regression, passing, suspect, errored):
        write_json(c, tmp_path / "r.json")
        data = json.loads((tmp_path / "r.json").read_text())
        assert data["schema_version"] == 1
        check_report(data, "run-report")
        save_run(tmp_path / "run.json", c.run)
        check_report(json.loads((tmp_path / "run.json").read_text()), "saved-run")


def test_a_report_that_breaks_the_contract_is_caught(regression: Comparison) -> None:
    report = report_dict(regression)
    report["verdict"] = "fine"
    del report["quality"]["p_value"]
    with pytest.raises(AssertionError, match="p_value"):
        check_report(report, "run-report")


def test_every_schema_is_draft_2020_12_and_names_its_version() -> None:
    for name in NAMES:
        schema = report_schema(name)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert "schema_version" in schema["required"]
